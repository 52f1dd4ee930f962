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
