import GraftTensor

/// Limits every value to `low…high` (ONNX `Clip` with bounds other than ReLU6's).
public final class Clamp: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable { public var low: Float, high: Float }
    public static let key = "clamp"

    public let low: Float, high: Float

    public init(low: Float, high: Float) throws(ModelError) {
        guard low <= high else { throw .invalidArgument(what: "Clip", reason: "low \(low) is above high \(high)") }
        (self.low, self.high) = (low, high)
        super.init(kind: "Clip")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(low: config.low, high: config.high) }
    public var config: Config { Config(low: low, high: high) }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].clamp(low, high)
    }

    public override var clampBounds: (low: Float, high: Float)? { (low, high) }
    public override var details: String { "\(low)…\(high)" }
}
