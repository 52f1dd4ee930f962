import GraftTensor

/// Reshapes each sample (one dimension may be -1).
public final class Reshape: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable { public var target: [Int] }
    public static let key = "reshape"
    public let target: [Int]

    public init(_ target: [Int]) throws(ModelError) {
        guard !target.isEmpty, target.allSatisfy({ $0 > 0 || $0 == -1 }), target.filter({ $0 == -1 }).count <= 1 else {
            throw .invalidArgument(what: "Reshape", reason: "target \(formatShape(target)) needs positive sizes and at most one -1")
        }
        self.target = target
        super.init(kind: "Reshape")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(config.target) }
    public var config: Config { Config(target: target) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let count = (inputs.first ?? []).reduce(1, *)
        let known = target.filter { $0 > 0 }.reduce(1, *)
        guard count % known == 0, target.contains(-1) || known == count else {
            throw .shapeMismatch(layer: kind, reason: "cannot reshape \(formatShape(inputs.first ?? [])) to \(formatShape(target))")
        }
        return target.map { $0 == -1 ? count / known : $0 }
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].reshaped([inputs[0].shape[0]] + target)
    }

    public override var details: String { formatShape(target) }
}
