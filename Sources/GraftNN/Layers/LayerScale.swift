import GraftTensor

/// x · γ with one learnable γ per channel, shaped [C, 1, 1] (ConvNeXt's `layer_scale`, Keras's `LayerScale`).
public final class LayerScale: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable { public var channels: Int, initial: Float }
    public static let key = "layerScale"

    public let channels: Int
    public let initial: Float
    public let scale: Parameter

    public init(_ channels: Int, initial: Float = 1e-6) throws(ModelError) {
        guard channels > 0, initial.isFinite else { throw .invalidArgument(what: "LayerScale", reason: "needs channels > 0 and a finite initial value") }
        (self.channels, self.initial) = (channels, initial)
        do { scale = Parameter(try Tensor.full([channels, 1, 1], initial)) } catch { throw .tensor(layer: "LayerScale", error: error) }
        super.init(kind: "LayerScale")
        adopt("layer_scale", scale)
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(config.channels, initial: config.initial) }
    public var config: Config { Config(channels: channels, initial: initial) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.first == channels else {
            throw .shapeMismatch(layer: kind, reason: "expects \(channels) channels first, got \(formatShape(inputs.first ?? []))")
        }
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        return try x * scale.value.reshaped([channels] + [Int](repeating: 1, count: x.rank - 2))
    }
}

// MARK: Export

extension LayerScale: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let shaped = try scale.value.reshaped([channels] + [Int](repeating: 1, count: Swift.max(0, node.inputShape.count - 1)))
        writer.emit("Mul", [node.inputs[0], writer.initializer(node.key("layer_scale"), shaped)], output: node.output)
    }
}

extension LayerScale: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("LayerScale(\(channels), \(Py.float(initial)))", helpers: [.layerScale])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let layerScale = PyTorchHelper("layerScale", source: #"""
class LayerScale(nn.Module):
    """Multiplies each channel by a learned scale (ConvNeXt), a parameter named layer_scale."""

    def __init__(self, channels, initial=1e-6):
        super().__init__()
        self.layer_scale = nn.Parameter(torch.full((channels, 1, 1), initial))

    def forward(self, x):
        return x * self.layer_scale.reshape((-1,) + (1,) * (x.dim() - 2))
"""#)
}
