import GraftTensor

/// Pads sample axes with a constant (ONNX `Pad` in constant mode, `F.pad(x, …, value=v)`):
/// EfficientViT's linear attention appends a column of ones to v, so that one product gives the
/// weighted sum and its normaliser. Zero padding of height and width alone is `ZeroPadding2d`.
public final class ConstantPad: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        /// Elements added before and after each sample axis, in axis order.
        public var before: [Int], after: [Int]
        public var value: Float
    }
    public static let key = "constantPad"

    public let before: [Int], after: [Int], value: Float

    public init(before: [Int], after: [Int], value: Float) throws(ModelError) {
        guard before.count == after.count, (1...4).contains(before.count) else {
            throw .invalidArgument(what: "Pad", reason: "needs one (before, after) pair for each of 1…4 sample axes")
        }
        guard (before + after).allSatisfy({ $0 >= 0 && $0 <= windowLimit }) else {
            throw .invalidArgument(what: "Pad", reason: "padding must be 0…\(windowLimit)")
        }
        guard value.isFinite else { throw .invalidArgument(what: "Pad", reason: "the fill \(value) is not a finite number") }
        (self.before, self.after, self.value) = (before, after, value)
        super.init(kind: "Pad")
    }

    public convenience init(config c: Config) throws(ModelError) { try self.init(before: c.before, after: c.after, value: c.value) }
    public var config: Config { Config(before: before, after: after, value: value) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = inputs.first ?? []
        guard shape.count == before.count else {
            throw .shapeMismatch(layer: kind, reason: "pads \(before.count) axes of a \(formatShape(shape)) sample")
        }
        return zip(shape, zip(before, after)).map { $0 + $1.0 + $1.1 }
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].padded([(0, 0)] + zip(before, after).map { (before: $0, after: $1) }, value: value)
    }

    public override var details: String {
        zip(before, after).map { "\($0),\($1)" }.joined(separator: " ") + (value == 0 ? "" : " with \(value)")
    }
}

// MARK: Export

extension ConstantPad: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Pad", [node.inputs[0], writer.int64Constant([0] + before + [0] + after, name: node.key("pads")),
                            writer.constant([value], name: node.key("value"))], output: node.output)
    }
}

extension ConstantPad: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("ConstantPad(\(Py.ints(before)), \(Py.ints(after)), \(Py.float(value)))", helpers: [.constantPad])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let constantPad = PyTorchHelper("constantPad", source: #"""
class ConstantPad(nn.Module):
    """before[i] and after[i] elements of value around sample axis i."""

    def __init__(self, before, after, value):
        super().__init__()
        self.pad = tuple(n for b, a in reversed(list(zip(before, after))) for n in (b, a))
        self.value = value

    def forward(self, x):
        return F.pad(x, self.pad, value=self.value)
"""#)
}
