import GraftTensor

/// x · γ with one learnable γ per channel, shaped [C, 1, 1] (ConvNeXt's `layer_scale`, Keras's `LayerScale`).
public final class LayerScale: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable { public var channels: Int, initial: Float }
    public static let key = "layerScale"

    public let channels: Int
    public let initial: Float
    public let scale: Parameter

    public init(_ channels: Int, initial: Float = 1e-6) throws(ModelError) {
        guard channels > 0, initial.isFinite else { throw .invalidArgument(what: "LayerScale", reason: "needs channels > 0 and a finite initial value") }
        (self.channels, self.initial) = (channels, initial)
        do { scale = Parameter(try Tensor.full([channels, 1, 1], initial)) } catch { throw .tensor(layer: "LayerScale", error: error) }
        super.init(kind: "LayerScale")
        adopt("layer_scale", scale)
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(config.channels, initial: config.initial) }
    public var config: Config { Config(channels: channels, initial: initial) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.first == channels else {
            throw .shapeMismatch(layer: kind, reason: "expects \(channels) channels first, got \(formatShape(inputs.first ?? []))")
        }
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        return try x * scale.value.reshaped([channels] + [Int](repeating: 1, count: x.rank - 2))
    }
}
