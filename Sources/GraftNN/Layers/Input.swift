import GraftTensor

/// The model's input: declares the sample shape (without the batch axis).
public final class Input: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable { public var shape: [Int] }
    public static let key = "input"
    public let shape: [Int]

    public init(_ shape: [Int]) throws(ModelError) {
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }), shape.count <= 4 else {
            throw .invalidArgument(what: "input", reason: "shape \(formatShape(shape)) must have 1–4 positive dimensions")
        }
        self.shape = shape
        super.init(kind: "Input")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(config.shape) }
    public var config: Config { Config(shape: shape) }

    public override var arity: Int? { 0 }
    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] { shape }
}
