import GraftTensor

/// Removes rows and columns at the edges of [C, H, W] (Keras's `Cropping2D`).
public final class Cropping2d: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        /// [top, bottom, left, right].
        public var cropping: [Int]
    }
    public static let key = "cropping2d"

    public let cropping: Padding2D

    public init(_ cropping: Padding2D) throws(ModelError) {
        guard [cropping.top, cropping.bottom, cropping.left, cropping.right].allSatisfy({ $0 >= 0 && $0 <= windowLimit }) else {
            throw .invalidArgument(what: "Cropping2d", reason: "cropping must be 0…\(windowLimit)")
        }
        self.cropping = cropping
        super.init(kind: "Cropping2d")
    }

    public convenience init(config: Config) throws(ModelError) {
        guard config.cropping.count == 4 else { throw .invalidArgument(what: "Cropping2d", reason: "cropping needs 4 values, got \(config.cropping)") }
        let c = config.cropping
        try self.init(Padding2D(top: c[0], bottom: c[1], left: c[2], right: c[3]))
    }
    public var config: Config { Config(cropping: [cropping.top, cropping.bottom, cropping.left, cropping.right]) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = try requireImage(inputs, kind)
        let h = shape[1] - cropping.top - cropping.bottom, w = shape[2] - cropping.left - cropping.right
        guard h > 0, w > 0 else { throw .shapeMismatch(layer: kind, reason: "cropping \(cropping) leaves nothing of \(shape[1])×\(shape[2])") }
        return [shape[0], h, w]
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        let rows = try x.sliced(axis: 2, start: cropping.top, end: x.shape[2] - cropping.bottom)
        return try rows.sliced(axis: 3, start: cropping.left, end: x.shape[3] - cropping.right)
    }

    public override var details: String { "\(cropping)" }
}

// MARK: Export

extension Cropping2d: ONNXExportable {
    /// A `Slice` of height and width.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let h = node.inputShape[1], w = node.inputShape[2]
        writer.emit("Slice", [node.inputs[0], writer.int64Constant([cropping.top, cropping.left], name: node.key("starts")),
                              writer.int64Constant([h - cropping.bottom, w - cropping.right], name: node.key("ends")),
                              writer.int64Constant([2, 3], name: node.key("axes"))], output: node.output)
    }
}

extension Cropping2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Crop2d(\(Py.ints([cropping.left, cropping.right, cropping.top, cropping.bottom])))", helpers: [.crop])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let crop = PyTorchHelper("crop", source: #"""
class Crop2d(nn.Module):
    """Removes rows and columns at the edges: (left, right, top, bottom)."""

    def __init__(self, crop):
        super().__init__()
        self.crop = crop

    def forward(self, x):
        left, right, top, bottom = self.crop
        return x[..., top: x.shape[-2] - bottom, left: x.shape[-1] - right]
"""#)
}
