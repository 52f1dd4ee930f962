import GraftTensor

/// Limits every value to `low…high` (ONNX `Clip` with bounds other than ReLU6's).
public final class Clamp: Layer, LayerKind, ActsElementwise {
    public struct Config: Codable, Sendable, Equatable { public var low: Float, high: Float }
    public static let key = "clamp"

    public let low: Float, high: Float

    public init(low: Float, high: Float) throws(ModelError) {
        guard low <= high else { throw .invalidArgument(what: "Clip", reason: "low \(low) is above high \(high)") }
        (self.low, self.high) = (low, high)
        super.init(kind: "Clip")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(low: config.low, high: config.high) }
    public var config: Config { Config(low: low, high: high) }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].clamp(low, high)
    }

    public override var clampBounds: (low: Float, high: Float)? { (low, high) }
    public func runsChannelsLast(_ inputs: [[Int]], _ context: ForwardContext) -> Bool { true }
    public override var details: String { "\(low)…\(high)" }
}

// MARK: Export

extension Clamp: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Clip", [node.inputs[0], writer.constant([low], name: node.key("min")), writer.constant([high], name: node.key("max"))], output: node.output)
    }
}

extension Clamp: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Clamp(\(Py.float(low)), \(Py.float(high)))", helpers: [.clamp])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let clamp = PyTorchHelper("clamp", source: #"""
class Clamp(nn.Module):
    def __init__(self, low, high):
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x):
        return torch.clamp(x, self.low, self.high)
"""#)
}
