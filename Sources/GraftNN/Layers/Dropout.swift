import GraftTensor

/// Dropout: in training, zeroes each value with probability `p` and scales the rest by 1/(1 − p),
/// drawing from the session's generator; the identity otherwise.
public final class Dropout: Layer {
    public let p: Float

    public init(_ p: Float) throws(ModelError) {
        guard (0..<1).contains(p) else { throw .invalidArgument(what: "Dropout", reason: "probability must be in [0, 1), got \(p)") }
        self.p = p
        super.init(kind: "Dropout")
    }

    /// Frozen with the layers around it (`freeze`): then it stays off in training too, like a
    /// frozen BatchNorm, so a frozen backbone is deterministic and its features can be cached.
    public var frozen = false

    public override var flags: [String: Bool] {
        get { ["frozen": frozen] }
        set { frozen = newValue["frozen"] ?? false }
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        guard context.training, p > 0, !frozen else { return inputs[0] }
        guard let generator = context.generator else {
            throw .invalidArgument(op: "dropout", reason: "training with dropout needs the session's generator")
        }
        return try inputs[0].dropout(p, training: true, generator: generator)
    }

    public override func mode(training: Bool) -> String? { training && p > 0 && !frozen ? "train" : "infer" }
    public override func isDeterministic(training: Bool) -> Bool { !(training && p > 0 && !frozen) }
    public override var details: String { "p \(p)" }
}

/// Stochastic depth (drop-connect) on a residual branch: in training, each sample's branch is kept
/// with probability 1 − p and scaled by 1/(1 − p); the identity otherwise.
public final class DropPath: Layer {
    public let p: Float

    public init(_ p: Float) throws(ModelError) {
        guard (0..<1).contains(p) else { throw .invalidArgument(what: "DropPath", reason: "probability must be in [0, 1), got \(p)") }
        self.p = p
        super.init(kind: "DropPath")
    }

    /// Frozen with its block: off in training too (see `Dropout.frozen`).
    public var frozen = false

    public override var flags: [String: Bool] {
        get { ["frozen": frozen] }
        set { frozen = newValue["frozen"] ?? false }
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        guard context.training, p > 0, !frozen else { return x }
        guard let generator = context.generator else {
            throw .invalidArgument(op: "dropPath", reason: "training with stochastic depth needs the session's generator")
        }
        let keep = 1 / (1 - p)
        let mask = try Tensor(shape: [x.shape[0]] + [Int](repeating: 1, count: x.rank - 1),
                              scalars: (0..<x.shape[0]).map { _ in generator.nextFloat() < p ? 0 : keep })
        return try x * mask
    }

    public override func mode(training: Bool) -> String? { training && p > 0 && !frozen ? "train" : "infer" }
    public override func isDeterministic(training: Bool) -> Bool { !(training && p > 0 && !frozen) }
    public override var details: String { "p \(p)" }
}
