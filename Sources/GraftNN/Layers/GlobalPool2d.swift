import GraftTensor

/// Global average or max pooling: [C, H, W] → [C], or [C, 1, 1] when it keeps the spatial axes
/// (Keras's `keepdims=True`, as squeeze-and-excite blocks use it).
public final class GlobalPool2d: Layer, LayerKind, RunsChannelsLast {
    public struct Config: Codable, Sendable, Equatable {
        public var max: Bool
        public var keepDims: Bool?
    }
    public static let key = "globalPool2d"

    public let function: Pool2d.Kind
    public let keepsDimensions: Bool

    public init(_ function: Pool2d.Kind, keepDims: Bool = false) {
        self.function = function
        keepsDimensions = keepDims
        super.init(kind: function == .max ? "GlobalMaxPool2d" : "GlobalAvgPool2d")
    }

    public convenience init(config: Config) throws(ModelError) { self.init(config.max ? .max : .average, keepDims: config.keepDims ?? false) }
    public var config: Config { Config(max: function == .max, keepDims: keepsDimensions ? true : nil) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let channels = try requireImage(inputs, kind)[0]
        return keepsDimensions ? [channels, 1, 1] : [channels]
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let pooled = function == .max ? try inputs[0].globalMaxPool2d() : try inputs[0].globalAvgPool2d()
        return keepsDimensions ? try pooled.reshaped(pooled.shape + [1, 1]) : pooled
    }

    /// Average pooling ends a chain: [N, C], or [N, 1, 1, C] (the same values as [N, C, 1, 1]) keeping the axes.
    public func runsChannelsLast(_ inputs: [[Int]], _ context: ForwardContext) -> Bool { function == .average && inputs.first?.count == 4 }

    public func forwardChannelsLast(_ inputs: [Tensor], epilogue: ConvEpilogue, _ context: ForwardContext) throws(TensorError) -> Tensor {
        let pooled = try inputs[0].globalAvgPool2dChannelsLast()
        return keepsDimensions ? try pooled.reshaped([pooled.shape[0], 1, 1, pooled.shape[1]]) : pooled
    }

    public override var isHeadBoundary: Bool { true }
    public override var details: String { keepsDimensions ? "keep dims" : "" }
}

// MARK: Export

extension GlobalPool2d: ONNXExportable {
    /// ONNX keeps [N, C, 1, 1]; a `Flatten` gives graft's [N, C] unless the layer keeps the axes.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let op = function == .max ? "GlobalMaxPool" : "GlobalAveragePool"
        if keepsDimensions {
            writer.emit(op, [node.inputs[0]], output: node.output)
        } else {
            writer.emit("Flatten", [writer.emit(op, [node.inputs[0]])], output: node.output, [ONNXWriter.attribute("axis", int: 1)])
        }
    }
}

extension GlobalPool2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("GlobalPool2d(\(Py.string(function == .max ? "max" : "avg"))\(keepsDimensions ? ", keepdim=True" : ""))", helpers: [.globalPool2d])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let globalPool2d = PyTorchHelper("globalPool2d", source: #"""
class GlobalPool2d(nn.Module):
    """The mean (or maximum) of each channel over height and width."""

    def __init__(self, kind="avg", keepdim=False):
        super().__init__()
        self.kind, self.keepdim = kind, keepdim

    def forward(self, x):
        return x.amax((2, 3), keepdim=self.keepdim) if self.kind == "max" else x.mean((2, 3), keepdim=self.keepdim)
"""#)
}
