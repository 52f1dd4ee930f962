import GraftTensor

/// Elementwise sum or product of two or more inputs (broadcasting, so [C, 1, 1] · [C, H, W] works
/// for squeeze-and-excitation), or concatenation along the channel axis.
public final class Merge: Layer, LayerKind {
    public enum Function: String, Sendable { case add, subtract, multiply, divide, concatenate }
    public struct Config: Codable, Sendable, Equatable {
        /// `add`, `subtract`, `multiply`, `divide` or `concat`.
        public var function: String
    }
    public static let key = "merge"

    public let function: Function

    public init(_ function: Function) {
        self.function = function
        let kinds: [Function: String] = [.add: "Add", .subtract: "Sub", .multiply: "Multiply", .divide: "Div", .concatenate: "Concat"]
        super.init(kind: kinds[function] ?? "Merge")
    }

    public convenience init(config: Config) throws(ModelError) {
        guard let function = config.function == "concat" ? .concatenate : Function(rawValue: config.function) else {
            throw .invalidArgument(what: "merge", reason: "unknown function '\(config.function)'")
        }
        self.init(function)
    }

    public var config: Config { Config(function: function == .concatenate ? "concat" : function.rawValue) }

    public override var arity: Int? { nil }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard inputs.count >= (function == .concatenate ? 1 : 2) else {
            throw .shapeMismatch(layer: kind, reason: "needs at least \(function == .concatenate ? "one input" : "two inputs"), got \(inputs.count)")
        }
        if function == .concatenate {
            let first = inputs[0]
            guard inputs.allSatisfy({ $0.count == first.count && Array($0.dropFirst()) == Array(first.dropFirst()) }) else {
                throw .shapeMismatch(layer: kind, reason: "inputs \(inputs.map(formatShape).joined(separator: ", ")) differ outside the channel axis")
            }
            return [inputs.reduce(0) { $0 + $1[0] }] + first.dropFirst()
        }
        var shape = inputs[0]
        for other in inputs.dropFirst() {
            do { shape = try Tensor.broadcastShape(shape, other, op: kind) } catch {
                throw .shapeMismatch(layer: kind, reason: "inputs \(inputs.map(formatShape).joined(separator: ", ")) do not broadcast")
            }
        }
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        switch function {
        case .concatenate: return inputs.count == 1 ? inputs[0] : try Tensor.concatenate(inputs, axis: 1)
        case .add:
            var total = inputs[0]
            for x in inputs.dropFirst() { total = try total + x }
            return total
        case .multiply:
            var product = inputs[0]
            for x in inputs.dropFirst() { product = try product * x }
            return product
        case .subtract:
            var result = inputs[0]
            for x in inputs.dropFirst() { result = try result - x }
            return result
        case .divide:
            var result = inputs[0]
            for x in inputs.dropFirst() { result = try result / x }
            return result
        }
    }
}
