import GraftTensor

/// A range of one sample axis, `start..<end` by `step` (ONNX `Slice` and `Split`, PyTorch's
/// `x.chunk(2, dim=1)` in ShuffleNet). `end` beyond the axis stops at its size.
public final class Slice: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        public var axis: Int, start: Int, end: Int, step: Int
    }
    public static let key = "slice"

    public let axis: Int, start: Int, end: Int, step: Int

    public init(axis: Int, start: Int, end: Int, step: Int = 1) throws(ModelError) {
        guard (0..<4).contains(axis), start >= 0, end > start, step > 0 else {
            throw .invalidArgument(what: "Slice", reason: "needs a sample axis 0…3, 0 ≤ start < end and a positive step")
        }
        (self.axis, self.start, self.end, self.step) = (axis, start, end, step)
        super.init(kind: "Slice")
    }

    public convenience init(config c: Config) throws(ModelError) { try self.init(axis: c.axis, start: c.start, end: c.end, step: c.step) }
    public var config: Config { Config(axis: axis, start: start, end: end, step: step) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        var shape = inputs.first ?? []
        guard axis < shape.count, start < shape[axis] else {
            throw .shapeMismatch(layer: kind, reason: "range \(start)..<\(end) of axis \(axis) is outside \(formatShape(shape))")
        }
        let stop = Swift.min(end, shape[axis])
        shape[axis] = (stop - start + step - 1) / step
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        return try x.sliced(axis: axis + 1, start: start, end: Swift.min(end, x.shape[axis + 1]), step: step)
    }

    public override var details: String { "axis \(axis) \(start)..<\(end)" + (step == 1 ? "" : " step \(step)") }
}

// MARK: Export

extension Slice: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Slice", [node.inputs[0], writer.int64Constant([start], name: node.key("starts")), writer.int64Constant([end], name: node.key("ends")),
                              writer.int64Constant([axis + 1], name: node.key("axes")), writer.int64Constant([step], name: node.key("steps"))], output: node.output)
    }
}

extension Slice: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Slice(\(axis), \(start), \(end)\(step == 1 ? "" : ", \(step)"))", helpers: [.slice])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let slice = PyTorchHelper("slice", source: #"""
class Slice(nn.Module):
    """start:end:step along one sample axis."""

    def __init__(self, axis, start, end, step=1):
        super().__init__()
        self.axis, self.start, self.end, self.step = axis + 1, start, end, step

    def forward(self, x):
        index = [slice(None)] * x.dim()
        index[self.axis] = slice(self.start, min(self.end, x.shape[self.axis]), self.step)
        return x[tuple(index)]
"""#)
}
