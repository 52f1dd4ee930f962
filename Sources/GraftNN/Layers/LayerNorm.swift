import GraftTensor

/// Layer normalization over one sample axis (the channels by default): each position is normalized
/// across that axis's values, then scaled by γ and shifted by β per value of the axis. Over the
/// channels of [C, H, W] it is Keras's `LayerNormalization(axis=-1)` on channels-last tensors and
/// torchvision ConvNeXt's `LayerNorm2d`; over the last axis, PyTorch's `LayerNorm` and ONNX's.
public final class LayerNorm: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        public var channels: Int, epsilon: Float
        public var scale: Bool, center: Bool
        /// The normalized sample axis (0, the channels, when absent).
        public var axis: Int?
    }
    public static let key = "layerNorm"

    /// The size of the normalized axis.
    public let channels: Int, epsilon: Float
    /// The normalized sample axis (0: channels).
    public let axis: Int
    public let weight: Parameter?, bias: Parameter?

    public init(_ channels: Int, epsilon: Float = 1e-5, scale: Bool = true, center: Bool = true, axis: Int = 0) throws(ModelError) {
        guard featuresFit(channels), epsilon >= 0, epsilon.isFinite, (0..<4).contains(axis) else {
            throw .invalidArgument(what: "LayerNorm", reason: "needs channels 1…\(featureLimit), a finite epsilon ≥ 0 and a sample axis 0…3")
        }
        (self.channels, self.epsilon, self.axis) = (channels, epsilon, axis)
        (weight, bias) = try Self.scaleAndShift(channels, scale: scale, center: center, kind: "LayerNorm")
        super.init(kind: "LayerNorm")
        adoptScaleAndShift(weight, bias)
    }

    public convenience init(config c: Config) throws(ModelError) { try self.init(c.channels, epsilon: c.epsilon, scale: c.scale, center: c.center, axis: c.axis ?? 0) }
    public var config: Config { Config(channels: channels, epsilon: epsilon, scale: weight != nil, center: bias != nil, axis: axis == 0 ? nil : axis) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.count > axis, shape[axis] == channels else {
            throw .shapeMismatch(layer: kind, reason: "expects \(channels) values on axis \(axis), got \(formatShape(inputs.first ?? []))")
        }
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].layerNorm(axis: axis + 1, weight: weight?.value, bias: bias?.value, epsilon: epsilon)
    }

    public override var isNormalization: Bool { true }
    public override var details: String { "eps \(epsilon)" + (axis == 0 ? "" : " axis \(axis)") }
}

// MARK: Export

extension LayerNorm: ONNXExportable {
    /// Written out as ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt, Div over its axis (opset 17's
    /// LayerNormalization normalizes trailing axes only), then γ and β.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let axes = ONNXWriter.attribute("axes", ints: [axis + 1])
        let keep = ONNXWriter.attribute("keepdims", int: 1)
        let x = node.inputs[0]
        let mean = writer.emit("ReduceMean", [x], [axes, keep])
        let centered = writer.emit("Sub", [x, mean])
        let variance = writer.emit("ReduceMean", [writer.emit("Mul", [centered, centered])], [axes, keep])
        let deviation = writer.emit("Sqrt", [writer.emit("Add", [variance, writer.constant([epsilon], name: node.key("epsilon"))])])
        let perChannel = [Int](repeating: 1, count: axis) + [channels] + [Int](repeating: 1, count: Swift.max(0, node.inputShape.count - 1 - axis))
        var y = writer.emit("Div", [centered, deviation], output: weight == nil && bias == nil ? node.output : nil)
        if let weight {
            y = writer.emit("Mul", [y, writer.initializer(node.key("weight"), try weight.value.reshaped(perChannel))], output: bias == nil ? node.output : nil)
        }
        if let bias { writer.emit("Add", [y, writer.initializer(node.key("bias"), try bias.value.reshaped(perChannel))], output: node.output) }
    }
}

extension LayerNorm: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        var arguments = ["\(channels)", "eps=\(Py.float(epsilon))"]
        if axis != 0 { arguments.append("axis=\(axis)") }
        if weight == nil { arguments.append("scale=False") }
        if bias == nil { arguments.append("center=False") }
        return PyTorchModule("LayerNorm(\(arguments.joined(separator: ", ")))", helpers: [.layerNorm])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let layerNorm = PyTorchHelper("layerNorm", source: #"""
class LayerNorm(nn.Module):
    """Normalizes over one sample axis (axis 0: the channels, as ConvNeXt's LayerNorm2d), with γ and β
    along that axis."""

    def __init__(self, channels, eps=1e-5, axis=0, scale=True, center=True):
        super().__init__()
        self.eps, self.axis = eps, axis
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None

    def forward(self, x):
        a = self.axis + 1
        centered = x - x.mean(a, keepdim=True)
        y = centered / torch.sqrt((centered * centered).mean(a, keepdim=True) + self.eps)
        shape = (-1,) + (1,) * (x.dim() - 2 - self.axis)
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y
"""#)
}
