import GraftTensor

/// Group normalization over [C, …] samples (Wu & He, 2018): the channels split into `groups`
/// consecutive groups, each sample's group normalized over all its channels and positions, then
/// scaled by γ and shifted by β per channel. PyTorch's `nn.GroupNorm(groups, channels)`, Keras's
/// `GroupNormalization(groups)` (on channels-last tensors, whose channels graft puts first) and
/// ONNX's `GroupNormalization`. It keeps no running statistics: training and inference compute the
/// same thing, so freezing it only freezes γ and β. One group is layer normalization over the whole
/// sample; one group per channel is instance normalization.
public final class GroupNorm: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        public var channels: Int, groups: Int, epsilon: Float
        public var scale: Bool, center: Bool
    }
    public static let key = "groupNorm"

    public let channels: Int, groups: Int, epsilon: Float
    /// γ and β, one per channel, when the layer has them.
    public let weight: Parameter?, bias: Parameter?

    public init(_ channels: Int, groups: Int, epsilon: Float = 1e-5, scale: Bool = true, center: Bool = true) throws(ModelError) {
        guard featuresFit(channels), groups >= 1, channels % groups == 0, epsilon >= 0, epsilon.isFinite else {
            throw .invalidArgument(what: "GroupNorm", reason: "needs channels 1…\(featureLimit) in groups that divide them and a finite epsilon ≥ 0 (got \(channels) channels, \(groups) groups, epsilon \(epsilon))")
        }
        (self.channels, self.groups, self.epsilon) = (channels, groups, epsilon)
        (weight, bias) = try Self.scaleAndShift(channels, scale: scale, center: center, kind: "GroupNorm")
        super.init(kind: "GroupNorm")
        adoptScaleAndShift(weight, bias)
    }

    public convenience init(config c: Config) throws(ModelError) {
        try self.init(c.channels, groups: c.groups, epsilon: c.epsilon, scale: c.scale, center: c.center)
    }
    public var config: Config { Config(channels: channels, groups: groups, epsilon: epsilon, scale: weight != nil, center: bias != nil) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, !shape.isEmpty, shape[0] == channels else {
            throw .shapeMismatch(layer: kind, reason: "expects \(channels) channels first, got \(formatShape(inputs.first ?? []))")
        }
        return shape
    }

    /// y = (x − mean) / √(variance + ε) over each group of [N, C, …] (biased variance, as PyTorch's),
    /// then γ·y + β per channel: composed of the engine's ops, which carry the gradients.
    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        let grouped = try x.reshaped([x.shape[0], groups, -1])
        let mean = try grouped.mean(axes: [2], keepingDims: true)
        let centered = try grouped - mean
        let variance = try (centered * centered).mean(axes: [2], keepingDims: true)
        var y = try (centered / (variance + epsilon).sqrt()).reshaped(x.shape)
        let perChannel = [channels] + [Int](repeating: 1, count: x.rank - 2)
        if let weight { y = try y * weight.value.reshaped(perChannel) }
        if let bias { y = try y + bias.value.reshaped(perChannel) }
        return y
    }

    public override var isNormalization: Bool { true }
    public override var details: String { "\(groups) groups, eps \(epsilon)" }
}

// MARK: Export

extension GroupNorm: ONNXExportable {
    /// Written out for opset 17 (GroupNormalization came with opset 18, and its scale changed
    /// meaning at 21): Reshape to [N, groups, −1], then ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt,
    /// Div over the last axis, Reshape back to the input's shape, then γ and β per channel.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let axes = ONNXWriter.attribute("axes", ints: [2])
        let keep = ONNXWriter.attribute("keepdims", int: 1)
        let x = node.inputs[0]
        let grouped = writer.emit("Reshape", [x, writer.int64Constant([0, groups, -1], name: node.key("groups"))])
        let mean = writer.emit("ReduceMean", [grouped], [axes, keep])
        let centered = writer.emit("Sub", [grouped, mean])
        let variance = writer.emit("ReduceMean", [writer.emit("Mul", [centered, centered])], [axes, keep])
        let deviation = writer.emit("Sqrt", [writer.emit("Add", [variance, writer.constant([epsilon], name: node.key("epsilon"))])])
        let normalized = writer.emit("Div", [centered, deviation])
        let perChannel = [channels] + [Int](repeating: 1, count: Swift.max(0, node.inputShape.count - 1))
        var y = writer.emit("Reshape", [normalized, writer.emit("Shape", [x])], output: weight == nil && bias == nil ? node.output : nil)
        if let weight {
            y = writer.emit("Mul", [y, writer.initializer(node.key("weight"), try weight.value.reshaped(perChannel))], output: bias == nil ? node.output : nil)
        }
        if let bias { writer.emit("Add", [y, writer.initializer(node.key("bias"), try bias.value.reshaped(perChannel))], output: node.output) }
    }
}

extension GroupNorm: PyTorchExportable {
    /// `nn.GroupNorm` (γ and β both or neither), or graft's `GroupNorm` with one of them (Keras's
    /// `scale` and `center` are separate).
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        if (weight == nil) == (bias == nil) {
            return PyTorchModule("nn.GroupNorm(\(groups), \(channels), eps=\(Py.float(epsilon))\(weight == nil ? ", affine=False" : ""))")
        }
        return PyTorchModule("GroupNorm(\(groups), \(channels), eps=\(Py.float(epsilon)), scale=\(Py.bool(weight != nil)), center=\(Py.bool(bias != nil)))",
                             helpers: [.groupNorm])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let groupNorm = PyTorchHelper("groupNorm", source: #"""
class GroupNorm(nn.Module):
    """nn.GroupNorm with γ (weight) and β (bias) each optional, as Keras's scale and center make them."""

    def __init__(self, groups, channels, eps=1e-5, scale=True, center=True):
        super().__init__()
        self.groups, self.eps = groups, eps
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None

    def forward(self, x):
        return F.group_norm(x, self.groups, self.weight, self.bias, self.eps)
"""#)
}
