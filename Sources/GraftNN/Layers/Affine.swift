import GraftTensor

/// y = x·scale + offset, with one scale and offset for all values or one per channel (Keras's `Rescaling`).
public final class Affine: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable { public var scale: [Float], offset: [Float] }
    public static let key = "affine"
    public let scale: [Float], offset: [Float]

    public init(scale: [Float], offset: [Float]) throws(ModelError) {
        guard !scale.isEmpty, !offset.isEmpty else { throw .invalidArgument(what: "Rescaling", reason: "needs a scale and an offset") }
        (self.scale, self.offset) = (scale, offset)
        super.init(kind: "Rescaling")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(scale: config.scale, offset: config.offset) }
    public var config: Config { Config(scale: scale, offset: offset) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = inputs.first ?? []
        for values in [scale, offset] where values.count > 1 && shape.first != values.count {
            throw .shapeMismatch(layer: kind, reason: "\(values.count) per-channel values for input \(formatShape(shape))")
        }
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        func perChannel(_ values: [Float]) throws(TensorError) -> Tensor {
            values.count == 1 ? Tensor(values[0]) : try Tensor(values).reshaped([values.count] + [Int](repeating: 1, count: x.rank - 2))
        }
        return try x * perChannel(scale) + perChannel(offset)
    }

    public override var details: String { "×\(scale.count == 1 ? String(scale[0]) : "\(scale.count)") +\(offset.count == 1 ? String(offset[0]) : "\(offset.count)")" }
}
