import GraftTensor

/// Stochastic depth (drop-connect) on a residual branch: in training, each sample's branch is kept
/// with probability 1 − p and scaled by 1/(1 − p); the identity otherwise, and while frozen.
public final class DropPath: Layer, LayerKind, ActsElementwise {
    public struct Config: Codable, Sendable, Equatable { public var p: Float }
    public static let key = "dropPath"

    public let p: Float

    public init(_ p: Float) throws(ModelError) {
        guard (0..<1).contains(p) else { throw .invalidArgument(what: "DropPath", reason: "probability must be in [0, 1), got \(p)") }
        self.p = p
        super.init(kind: "DropPath")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(config.p) }
    public var config: Config { Config(p: p) }

    var active: Bool { p > 0 && !frozenWithoutParameters }

    /// The identity when it is not dropping.
    public func runsChannelsLast(_ inputs: [[Int]], _ context: ForwardContext) -> Bool { !(context.training && active) }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        guard context.training, active else { return x }
        guard let generator = context.generator else {
            throw .invalidArgument(op: "dropPath", reason: "training with stochastic depth needs the session's generator")
        }
        let keep = 1 / (1 - p)
        let mask = try Tensor(shape: [x.shape[0]] + [Int](repeating: 1, count: x.rank - 1),
                              scalars: (0..<x.shape[0]).map { _ in generator.nextFloat() < p ? 0 : keep })
        return try x * mask
    }

    public override func mode(training: Bool) -> String? { training && active ? "train" : "infer" }
    public override func isDeterministic(training: Bool) -> Bool { !(training && active) }
    public override var isIdentityInInference: Bool { true }
    public override var details: String { "p \(p)" }
}

// MARK: Export

extension DropPath: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Identity", node.inputs, output: node.output)
    }
}

extension DropPath: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("DropPath(\(Py.float(p)))", helpers: [.dropPath]) }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let dropPath = PyTorchHelper("dropPath", source: #"""
class DropPath(nn.Module):
    """Stochastic depth (torchvision's StochasticDepth, mode "row"): while training, each sample's
    branch is dropped with probability p and the others scaled by 1 / (1 - p)."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = (torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device) >= self.p).to(x.dtype)
        return x * keep / (1 - self.p)
"""#)
}
