import GraftTensor

/// x · γ with one learnable γ per channel: torchvision ConvNeXt's `layer_scale` shaped [C, 1, 1]
/// (Keras's `LayerScale` too); or γ shaped [C] under the name its source gives it, on the channels of
/// a feature map (timm ConvNeXt's `gamma`) or on the last axis of tokens (timm ViT's `ls1.gamma`,
/// Hugging Face's `layer_scale1.lambda1`).
public final class LayerScale: Layer, LayerKind, RunsChannelsLast {
    public struct Config: Codable, Sendable, Equatable {
        public var channels: Int, initial: Float
        /// γ's name when it is shaped [C] (nil: `layer_scale`, shaped [C, 1, 1]).
        public var name: String?
        /// γ on the last axis (tokens) rather than the first (channels).
        public var lastAxis: Bool?
    }
    public static let key = "layerScale"

    public let channels: Int
    public let initial: Float
    public let scale: Parameter
    /// γ's name when it is shaped [C] (nil: `layer_scale`, [C, 1, 1]).
    public let name: String?
    /// γ on the last axis (tokens) rather than the channels.
    public let lastAxis: Bool

    public init(_ channels: Int, initial: Float = 1e-6, name: String? = nil, lastAxis: Bool = false) throws(ModelError) {
        guard channels > 0, initial.isFinite, name.map({ !$0.isEmpty && $0.utf8.count <= 64 && !$0.contains(".") }) ?? true else {
            throw .invalidArgument(what: "LayerScale", reason: "needs channels > 0, a finite initial value and a plain parameter name")
        }
        (self.channels, self.initial, self.name, self.lastAxis) = (channels, initial, name, lastAxis)
        do { scale = Parameter(try Tensor.full(name == nil ? [channels, 1, 1] : [channels], initial)) } catch { throw .tensor(layer: "LayerScale", error: error) }
        super.init(kind: "LayerScale")
        adopt(name ?? "layer_scale", scale)
    }

    public convenience init(config: Config) throws(ModelError) {
        try self.init(config.channels, initial: config.initial, name: config.name, lastAxis: config.lastAxis ?? false)
    }
    public var config: Config { Config(channels: channels, initial: initial, name: name, lastAxis: lastAxis ? true : nil) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, (lastAxis ? shape.last : shape.first) == channels else {
            throw .shapeMismatch(layer: kind, reason: "expects \(channels) channels \(lastAxis ? "last" : "first"), got \(formatShape(inputs.first ?? []))")
        }
        return shape
    }

    /// γ shaped to broadcast over a value of `rank` axes (the batch included).
    func broadcastable(rank: Int) throws(TensorError) -> Tensor {
        lastAxis ? scale.value : try scale.value.reshaped([channels] + [Int](repeating: 1, count: Swift.max(0, rank - 2)))
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0] * broadcastable(rank: inputs[0].rank)
    }

    /// γ on the channels of a map: the same products with γ along the last axis.
    public func runsChannelsLast(_ inputs: [[Int]], _ context: ForwardContext) -> Bool { !lastAxis && inputs.first?.count == 4 }

    public func forwardChannelsLast(_ inputs: [Tensor], epilogue: ConvEpilogue, _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0] * scale.value.reshaped([channels])
    }
}

// MARK: Export

extension LayerScale: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Mul", [node.inputs[0], writer.initializer(node.key(name ?? "layer_scale"), try broadcastable(rank: node.inputShape.count + 1))],
                    output: node.output)
    }
}

extension LayerScale: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        if let name {
            return PyTorchModule("NamedScale(\(channels), \(Py.string(name)), \(Py.float(initial)), last_axis=\(Py.bool(lastAxis)))", helpers: [.namedScale])
        }
        return PyTorchModule("LayerScale(\(channels), \(Py.float(initial)))", helpers: [.layerScale])
    }
}

// The Python classes this kind's module needs in model.py's prelude.
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

    static let namedScale = PyTorchHelper("namedScale", source: #"""
class NamedScale(nn.Module):
    """Multiplies by a learned scale per channel [C] under the source's name (timm's gamma, Hugging
    Face's lambda1): on the last axis of tokens [N, T, D], or on the channels of [N, C, H, W]."""

    def __init__(self, channels, name="gamma", initial=1e-5, last_axis=True):
        super().__init__()
        self.name, self.last_axis = name, last_axis
        self.register_parameter(name, nn.Parameter(torch.full((channels,), initial)))

    def forward(self, x):
        scale = getattr(self, self.name)
        return x * (scale if self.last_axis else scale.reshape((-1,) + (1,) * (x.dim() - 2)))
"""#)
}
