import GraftTensor

/// Dropout: in training, zeroes each value with probability `p` and scales the rest by 1/(1 − p),
/// drawing from the session's generator; the identity otherwise, and while frozen with the layers
/// around it (`freeze`), so a frozen backbone is deterministic and its features can be cached.
public final class Dropout: Layer, LayerKind, ActsElementwise {
    public struct Config: Codable, Sendable, Equatable { public var p: Float }
    public static let key = "dropout"

    public let p: Float

    public init(_ p: Float) throws(ModelError) {
        guard (0..<1).contains(p) else { throw .invalidArgument(what: "Dropout", reason: "probability must be in [0, 1), got \(p)") }
        self.p = p
        super.init(kind: "Dropout")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(config.p) }
    public var config: Config { Config(p: p) }

    var active: Bool { p > 0 && !frozenWithoutParameters }

    /// The identity when it is not dropping.
    public func runsChannelsLast(_ inputs: [[Int]], _ context: ForwardContext) -> Bool { !(context.training && active) }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        guard context.training, active else { return inputs[0] }
        guard let generator = context.generator else {
            throw .invalidArgument(op: "dropout", reason: "training with dropout needs the session's generator")
        }
        return try inputs[0].dropout(p, training: true, generator: generator)
    }

    public override func mode(training: Bool) -> String? { training && active ? "train" : "infer" }
    public override func isDeterministic(training: Bool) -> Bool { !(training && active) }
    public override var isIdentityInInference: Bool { true }
    public override var details: String { "p \(p)" }
}

// MARK: Export

/// Dropout and stochastic depth are the identity at inference.
extension Dropout: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Identity", node.inputs, output: node.output)
    }
}

extension Dropout: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("nn.Dropout(\(Py.float(p)))") }
}
