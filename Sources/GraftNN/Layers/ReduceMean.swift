import GraftTensor

/// The mean over some sample axes, keeping them as size 1 or dropping them (ONNX `ReduceMean`,
/// PyTorch's `x.mean([2, 3])`).
public final class ReduceMean: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        /// Sample axes (0 is the first axis after the batch).
        public var axes: [Int]
        public var keepDims: Bool
    }
    public static let key = "reduceMean"

    public let axes: [Int]
    public let keepDims: Bool

    public init(axes: [Int], keepDims: Bool) throws(ModelError) {
        guard !axes.isEmpty, Set(axes).count == axes.count, axes.allSatisfy({ (0..<4).contains($0) }) else {
            throw .invalidArgument(what: "ReduceMean", reason: "axes \(axes) must be distinct sample axes 0…3")
        }
        self.axes = axes.sorted()
        self.keepDims = keepDims
        super.init(kind: "ReduceMean")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(axes: config.axes, keepDims: config.keepDims) }
    public var config: Config { Config(axes: axes, keepDims: keepDims) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = inputs.first ?? []
        guard axes.allSatisfy({ $0 < shape.count }) else {
            throw .shapeMismatch(layer: kind, reason: "axes \(axes) outside the sample \(formatShape(shape))")
        }
        if keepDims { return shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element } }
        let kept = shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        return kept.isEmpty ? [1] : kept
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        let reduced = try x.mean(axes: axes.map { $0 + 1 }, keepingDims: keepDims)
        return reduced.rank == 1 ? try reduced.reshaped([x.shape[0], 1]) : reduced
    }

    public override var details: String { "axes \(axes.map(String.init).joined(separator: ","))" + (keepDims ? " keep dims" : "") }
}

// MARK: Export

extension ReduceMean: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let reduced = writer.emit("ReduceMean", node.inputs, output: keepDims || node.inputShape.count > axes.count ? node.output : nil,
                                  [ONNXWriter.attribute("axes", ints: axes.map { $0 + 1 }), ONNXWriter.attribute("keepdims", int: keepDims ? 1 : 0)])
        // Reducing every sample axis leaves [N]; graft keeps [N, 1].
        if !keepDims && node.inputShape.count == axes.count {
            writer.emit("Reshape", [reduced, writer.int64Constant([-1, 1], name: node.key("shape"))], output: node.output)
        }
    }
}

extension ReduceMean: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("ReduceMean(\(Py.ints(axes)), keepdim=\(Py.bool(keepDims)))", helpers: [.reduceMean])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let reduceMean = PyTorchHelper("reduceMean", source: #"""
class ReduceMean(nn.Module):
    """The mean over sample axes (0 = the first after the batch); a result of one value per sample keeps an axis."""

    def __init__(self, axes, keepdim):
        super().__init__()
        self.axes, self.keepdim = tuple(a + 1 for a in axes), keepdim

    def forward(self, x):
        y = x.mean(self.axes, keepdim=self.keepdim)
        return y.reshape(x.shape[0], 1) if y.dim() == 1 else y
"""#)
}
