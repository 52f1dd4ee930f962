import GraftTensor

/// Elementwise sum or product of two or more inputs (broadcasting, so [C, 1, 1] · [C, H, W] works
/// for squeeze-and-excitation), or concatenation along the channel axis.
public final class Merge: Layer {
    public enum Function: Sendable { case add, multiply, concatenate }
    public let function: Function

    public init(_ function: Function) {
        self.function = function
        super.init(kind: function == .add ? "Add" : (function == .multiply ? "Multiply" : "Concat"))
    }

    public override var arity: Int? { nil }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard inputs.count >= 2 else { throw .shapeMismatch(layer: kind, reason: "needs at least two inputs, got \(inputs.count)") }
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
        case .concatenate: return try Tensor.concatenate(inputs, axis: 1)
        case .add:
            var total = inputs[0]
            for x in inputs.dropFirst() { total = try total + x }
            return total
        case .multiply:
            var product = inputs[0]
            for x in inputs.dropFirst() { product = try product * x }
            return product
        }
    }
}
