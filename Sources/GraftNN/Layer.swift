import GraftTensor

/// What a forward pass needs besides its inputs.
public struct ForwardContext {
    /// Training: dropout active, trainable BatchNorm on batch statistics.
    public var training: Bool
    /// Source of dropout masks (the session's generator); required when training with dropout.
    public var generator: Generator?

    public init(training: Bool, generator: Generator? = nil) {
        self.training = training
        self.generator = generator
    }
}

/// One layer of a model: its parameters and buffers under their checkpoint keys, its shape rule
/// and its forward pass. Subclasses keep hyperparameters as `let`s.
open class Layer {
    /// PyTorch's spelling of the layer kind (`Conv2d`, `BatchNorm2d`, `Linear`), or the source's for imports.
    public let kind: String
    /// Learnable tensors in checkpoint order (`weight`, `bias`).
    public internal(set) var parameters: [(key: String, parameter: Parameter)] = []
    /// Non-learnable state in checkpoint order (`running_mean`, `running_var`), updated in place.
    public internal(set) var buffers: [(key: String, tensor: Tensor)] = []

    public init(kind: String) { self.kind = kind }

    /// The output shape (without the batch axis) for these input shapes, or why they do not fit.
    open func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] { inputs.first ?? [] }

    /// The forward pass on batched inputs.
    open func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor { inputs[0] }

    /// Hyperparameters in a few words, for the summary (`3×3 s2 same`).
    open var details: String { "" }

    /// How many inputs the layer takes (nil: two or more).
    open var arity: Int? { 1 }

    /// `train` or `infer` for layers that behave differently in training (BatchNorm, dropout); nil otherwise.
    open func mode(training: Bool) -> String? { nil }

    /// Whether the layer's output during training is a fixed function of its input (no dropout, no batch statistics).
    open func isDeterministic(training: Bool) -> Bool { true }

    /// Switches a layer keeps besides its parameters' trainable flags (a frozen dropout, a BatchNorm
    /// that keeps its statistics), by name: what graph descriptions save and failed commands restore.
    open var flags: [String: Bool] {
        get { [:] }
        set {}
    }

    /// Number of learnable values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.parameter.count } }

    /// `yes`, `no` or `partial`; nil for layers without parameters.
    public var trainableState: String? {
        guard !parameters.isEmpty else { return nil }
        let trainable = parameters.filter { $0.parameter.trainable }.count
        return trainable == parameters.count ? "yes" : (trainable == 0 ? "no" : "partial")
    }

    /// True when every parameter is trainable (a layer without parameters counts as trainable).
    public var isFullyTrainable: Bool { parameters.allSatisfy { $0.parameter.trainable } }

    func register(_ key: String, _ tensor: Tensor) { parameters.append((key, Parameter(tensor))) }
    func registerBuffer(_ key: String, _ tensor: Tensor) { buffers.append((key, tensor)) }
    func parameter(_ key: String) -> Tensor? { parameters.first { $0.key == key }?.parameter.value }
    func buffer(_ key: String) -> Tensor? { buffers.first { $0.key == key }?.tensor }
}

/// Input shapes must be rank 3 ([C, H, W]) for image layers.
func requireImage(_ inputs: [[Int]], _ kind: String) throws(ModelError) -> [Int] {
    guard let shape = inputs.first, shape.count == 3 else {
        throw .shapeMismatch(layer: kind, reason: "expects an image [C, H, W], got \(formatShape(inputs.first ?? []))")
    }
    return shape
}
