import GraftTensor

/// What a forward pass needs besides its inputs.
public struct ForwardContext {
    /// Training: dropout active, trainable BatchNorm on batch statistics.
    public var training: Bool
    /// Source of dropout masks (the session's generator); required when training with dropout.
    public var generator: Generator?
    /// Asked before each layer (Ctrl-C): when it says so, the pass throws `interrupted`.
    public var shouldStop: () -> Bool
    /// When set, each step of the pass (a layer, or a fused group as one) adds its time here (`profile`).
    public var times: StepTimes?

    public init(training: Bool, generator: Generator? = nil, shouldStop: @escaping () -> Bool = { false }, times: StepTimes? = nil) {
        self.training = training
        self.generator = generator
        self.shouldStop = shouldStop
        self.times = times
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

    /// Frozen although it has no parameters (dropout, stochastic depth, a BatchNorm without γ and β):
    /// such a layer then runs as in inference, in training too, so a frozen block is deterministic.
    public internal(set) var frozenWithoutParameters = false

    /// Switches a layer keeps besides its parameters' trainable flags (`frozen` for a parameterless
    /// layer, a BatchNorm's `keepsStatistics`), by name: what graph descriptions save and failed
    /// commands restore.
    open var flags: [String: Bool] {
        get { ["frozen": frozenWithoutParameters] }
        set { frozenWithoutParameters = parameters.isEmpty && (newValue["frozen"] ?? false) }
    }

    /// The trainable rule: freezes or unfreezes the layer (`freeze`, `unfreeze`) and says whether
    /// that changed a parameter's flag. A layer without parameters records it in
    /// ``frozenWithoutParameters``. `batchNormTrains` is `unfreeze … bn=train`.
    open func setTrainable(_ trainable: Bool, batchNormTrains: Bool) -> Bool {
        if parameters.isEmpty { frozenWithoutParameters = !trainable }
        var changed = false
        for (_, parameter) in parameters where parameter.trainable != trainable {
            parameter.trainable = trainable
            changed = true
        }
        return changed
    }

    // What the layer is to the rest of graft (with the protocols in LayerCapabilities.swift):
    // asked by surgery, fusion, reinitialization, `predict` and the teaching commands.

    /// The end of a feature extractor, where `head` cuts by default (global pooling, flatten).
    open var isHeadBoundary: Bool { false }
    /// Its outputs are learned combinations of its input features (dense, convolution): a classifier can be one.
    open var mixesFeatures: Bool { false }
    /// The identity in inference, random only in training (dropout, stochastic depth).
    open var isIdentityInInference: Bool { false }
    /// Clamps every value to `low…high` (ReLU, ReLU6, a clip): a preceding convolution can apply it.
    open var clampBounds: (low: Float, high: Float)? { nil }
    /// An activation a preceding convolution can apply as it writes (hardswish, SiLU, …), when not a clamp.
    open var epilogueFunction: ConvEpilogue.Function? { nil }
    /// An activation a preceding normalization can apply in its own pass, in training too (ReLU, SiLU, …).
    open var fusedActivation: FusedActivation? { nil }
    /// A normalization: reinitialized to scale 1 and shift 0 (not by fan-in).
    open var isNormalization: Bool { false }
    /// Its output is a probability distribution (a softmax).
    open var outputsProbabilities: Bool { false }
    /// Kernels `filters LAYER` can show (a convolution's).
    open var filterBank: FilterBank? { nil }
    /// Turns a feature map [C, H, W] into tokens [H·W, C], row by row (a patch embedding's end):
    /// `cam` maps later tokens back to this grid.
    open var readsGridAsTokens: Bool { false }
    /// Mixes information between tokens (self-attention): `cam` on a token model weighs the input
    /// of the last such layer, where the class score's gradient reaches every token.
    open var attendsAcrossTokens: Bool { false }

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

    /// Lists one of the layer's typed parameters under its checkpoint key (called once, in `init`).
    func adopt(_ key: String, _ parameter: Parameter) { parameters.append((key, parameter)) }

    /// Lists one of the layer's buffers (updated in place) under its checkpoint key.
    func adoptBuffer(_ key: String, _ tensor: Tensor) { buffers.append((key, tensor)) }
}

/// A layer kind graft can describe and rebuild: its settings as a codable value (what a graph
/// description stores), and an initializer from them. Every kind is listed in ``LayerRegistry``.
public protocol LayerKind: Layer {
    associatedtype Config: Codable, Sendable, Equatable
    /// The kind's key in graph descriptions (`conv2d`).
    static var key: String { get }
    /// The layer's settings: enough, with its parameters and buffers, to rebuild it exactly.
    var config: Config { get }
    /// A layer with these settings and fresh parameters (the caller assigns saved ones).
    init(config: Config) throws(ModelError)
}

/// Every layer kind graft knows, by graph-description key. A new kind is one file in `Layers/` — its
/// config, typed parameters, forward pass on the engine's ops, trainable/mode rule, capabilities
/// (what surgery, fusion, the trainer and the summary ask), ONNX export and PyTorch export with any
/// Python class it needs (model.py's prelude collects them from the kinds present) — and a row
/// here. Importers that know it add a converter row. The registry test runs every kind through description → rebuild,
/// ONNX export → import, PyTorch export (module under the layer's name, a state_dict key for each
/// parameter and buffer) and a gradient check, so a kind missing one fails the suite.
public enum LayerRegistry {
    public static let kinds: [any LayerKind.Type] = [
        Input.self, Dense.self, Conv2d.self, SeparableConv2d.self, BatchNorm.self, Pool2d.self, GlobalPool2d.self,
        Activation.self, Dropout.self, DropPath.self, Flatten.self, Reshape.self, ZeroPadding2d.self,
        Merge.self, Permute.self, Affine.self, ConstantOp.self, Clamp.self, LayerNorm.self, Cropping2d.self, ReduceMean.self, Slice.self, AdaptiveAvgPool2d.self, LayerScale.self,
        GroupNorm.self,
        Tokens.self, PrefixTokens.self, PositionEmbedding.self, SelfAttention.self, TokenPool.self, MatMul.self,
        WindowAttention.self, PatchMerging.self, Resize.self, UnitNorm.self, ConstantPad.self,
    ]

    static let byKey: [String: any LayerKind.Type] = Dictionary(kinds.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })

    /// Every kind's key, in registry order.
    public static var keys: [String] { kinds.map { $0.key } }

    /// The key of a layer's kind (nil for a layer outside the registry).
    public static func key(of layer: Layer) -> String? {
        guard let described = layer as? any LayerKind else { return nil }
        return type(of: described).key
    }

    /// The kind stored under `key`, if graft knows it.
    public static func kind(_ key: String) -> (any LayerKind.Type)? { byKey[key] }
}

/// Input shapes must be rank 3 ([C, H, W]) for image layers.
func requireImage(_ inputs: [[Int]], _ kind: String) throws(ModelError) -> [Int] {
    guard let shape = inputs.first, shape.count == 3 else {
        throw .shapeMismatch(layer: kind, reason: "expects an image [C, H, W], got \(formatShape(inputs.first ?? []))")
    }
    return shape
}
