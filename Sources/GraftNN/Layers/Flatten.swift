import GraftTensor

/// Flattens each sample: [C, H, W] → [C·H·W].
public final class Flatten: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {}
    public static let key = "flatten"
    public init() { super.init(kind: "Flatten") }

    public convenience init(config: Config) throws(ModelError) { self.init() }
    public var config: Config { Config() }
    public override var isHeadBoundary: Bool { true }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] { [try elementCount(inputs.first ?? [], layer: kind)] }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].flattened(from: 1)
    }
}
