import GraftTensor

/// Layer normalization over the channel axis of [C] or [C, H, W] samples: each position is
/// normalized across its C values, then scaled by γ and shifted by β per channel. This is Keras's
/// `LayerNormalization(axis=-1)` on channels-last tensors and torchvision ConvNeXt's `LayerNorm2d`.
public final class LayerNorm: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        public var channels: Int, epsilon: Float
        public var scale: Bool, center: Bool
    }
    public static let key = "layerNorm"

    public let channels: Int, epsilon: Float
    public let weight: Parameter?, bias: Parameter?

    public init(_ channels: Int, epsilon: Float = 1e-5, scale: Bool = true, center: Bool = true) throws(ModelError) {
        guard channels > 0, epsilon >= 0, epsilon.isFinite else { throw .invalidArgument(what: "LayerNorm", reason: "needs channels > 0 and a finite epsilon ≥ 0") }
        (self.channels, self.epsilon) = (channels, epsilon)
        do {
            weight = scale ? Parameter(try Tensor.ones([channels])) : nil
            bias = center ? Parameter(try Tensor.zeros([channels])) : nil
        } catch { throw .tensor(layer: "LayerNorm", error: error) }
        super.init(kind: "LayerNorm")
        if let weight { adopt("weight", weight) }
        if let bias { adopt("bias", bias) }
    }

    public convenience init(config c: Config) throws(ModelError) { try self.init(c.channels, epsilon: c.epsilon, scale: c.scale, center: c.center) }
    public var config: Config { Config(channels: channels, epsilon: epsilon, scale: weight != nil, center: bias != nil) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, !shape.isEmpty, shape[0] == channels else {
            throw .shapeMismatch(layer: kind, reason: "expects \(channels) channels first, got \(formatShape(inputs.first ?? []))")
        }
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        let mean = try x.mean(axes: [1], keepingDims: true)
        let centered = try x - mean
        let variance = try (centered * centered).mean(axes: [1], keepingDims: true)
        var y = try centered / (variance + epsilon).sqrt()
        let perChannel = [channels] + [Int](repeating: 1, count: x.rank - 2)
        if let weight { y = try y * weight.value.reshaped(perChannel) }
        if let bias { y = try y + bias.value.reshaped(perChannel) }
        return y
    }

    public override var details: String { "eps \(epsilon)" }
}
