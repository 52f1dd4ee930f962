import GraftTensor

/// y = x·scale + offset, with one scale and offset for all values or one per channel (Keras's `Rescaling`).
public final class Affine: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable { public var scale: [Float], offset: [Float] }
    public static let key = "affine"
    public let scale: [Float], offset: [Float]

    public init(scale: [Float], offset: [Float]) throws(ModelError) {
        guard !scale.isEmpty, !offset.isEmpty else { throw .invalidArgument(what: "Rescaling", reason: "needs a scale and an offset") }
        (self.scale, self.offset) = (scale, offset)
        super.init(kind: "Rescaling")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(scale: config.scale, offset: config.offset) }
    public var config: Config { Config(scale: scale, offset: offset) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = inputs.first ?? []
        for values in [scale, offset] where values.count > 1 && shape.first != values.count {
            throw .shapeMismatch(layer: kind, reason: "\(values.count) per-channel values for input \(formatShape(shape))")
        }
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        func perChannel(_ values: [Float]) throws(TensorError) -> Tensor {
            values.count == 1 ? Tensor(values[0]) : try Tensor(values).reshaped([values.count] + [Int](repeating: 1, count: x.rank - 2))
        }
        return try x * perChannel(scale) + perChannel(offset)
    }

    public override var details: String { "×\(scale.count == 1 ? String(scale[0]) : "\(scale.count)") +\(offset.count == 1 ? String(offset[0]) : "\(offset.count)")" }
}

// MARK: Export

extension Affine: ONNXExportable {
    /// `Mul` then `Add`, with per-channel values shaped [C, 1, 1] to broadcast over [N, C, H, W].
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        func perChannel(_ v: [Float], _ name: String) -> String {
            v.count == 1 ? writer.constant(v, name: node.key(name))
                         : writer.constant(v, shape: [v.count] + [Int](repeating: 1, count: max(0, node.inputShape.count - 1)), name: node.key(name))
        }
        let scaled = writer.emit("Mul", [node.inputs[0], perChannel(scale, "scale")])
        writer.emit("Add", [scaled, perChannel(offset, "offset")], output: node.output)
    }
}

extension Affine: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Rescale(\(Py.floats(scale)), \(Py.floats(offset)))", helpers: [.rescale])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let rescale = PyTorchHelper("rescale", source: #"""
class Rescale(nn.Module):
    """x · scale + offset, per channel when given per channel (Keras's Rescaling and Normalization)."""

    def __init__(self, scale, offset):
        super().__init__()
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32), persistent=False)
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float32), persistent=False)

    def forward(self, x):
        def per_channel(v):
            return v[0] if v.numel() == 1 else v.reshape((-1,) + (1,) * (x.dim() - 2))
        return x * per_channel(self.scale) + per_channel(self.offset)
"""#)
}
