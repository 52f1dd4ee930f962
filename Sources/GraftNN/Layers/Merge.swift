import GraftTensor

/// Elementwise sum or product of two or more inputs (broadcasting, so [C, 1, 1] · [C, H, W] works
/// for squeeze-and-excitation), or concatenation along the channel axis.
public final class Merge: Layer {
    public enum Function: String, Sendable { case add, subtract, multiply, divide, concatenate }
    public let function: Function

    public init(_ function: Function) {
        self.function = function
        let kinds: [Function: String] = [.add: "Add", .subtract: "Sub", .multiply: "Multiply", .divide: "Div", .concatenate: "Concat"]
        super.init(kind: kinds[function] ?? "Merge")
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

/// An elementwise op with a constant operand stored in the layer: `x + c`, `x − c`, `c − x`, `x · c`,
/// `x / c`, `c / x` (imported graphs spell biases, scales and hard-swish's `+ 3` and `/ 6` this way).
/// A constant with more than one value is a trainable parameter (`constant`); a scalar is fixed.
public final class ConstantOp: Layer {
    public enum Function: String, Sendable { case add, subtract, reverseSubtract, multiply, divide, reverseDivide }
    public let function: Function
    public let scalar: Float?

    public init(_ function: Function, constant: Tensor) throws(ModelError) {
        self.function = function
        scalar = constant.count == 1 ? constant.scalars.first : nil
        let kinds: [Function: String] = [.add: "Add", .subtract: "Sub", .reverseSubtract: "Sub", .multiply: "Mul", .divide: "Div", .reverseDivide: "Div"]
        super.init(kind: kinds[function] ?? "ConstantOp")
        if scalar == nil { register("constant", constant.copied()) }
    }

    public var constant: Tensor { scalar.map { Tensor($0) } ?? parameter("constant") ?? Tensor(0) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = inputs.first ?? []
        guard let c = parameter("constant") else { return shape }
        // The constant broadcasts against [N, sample…]: it may carry the batch axis as 1.
        let trimmed = c.rank > shape.count ? Array(c.shape.dropFirst(c.rank - shape.count)) : c.shape
        guard c.rank <= shape.count + 1, c.rank <= shape.count || c.shape.first == 1 else {
            throw .shapeMismatch(layer: kind, reason: "constant \(formatShape(c.shape)) does not fit input \(formatShape(shape))")
        }
        do { return try Tensor.broadcastShape(shape, trimmed, op: kind) } catch {
            throw .shapeMismatch(layer: kind, reason: "constant \(formatShape(c.shape)) does not broadcast with input \(formatShape(shape))")
        }
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        if let s = scalar {
            switch function {
            case .add: return x + s
            case .subtract: return x - s
            case .reverseSubtract: return s - x
            case .multiply: return x * s
            case .divide: return x / s
            case .reverseDivide: return s / x
            }
        }
        let c = constant
        switch function {
        case .add: return try x + c
        case .subtract: return try x - c
        case .reverseSubtract: return try c - x
        case .multiply: return try x * c
        case .divide: return try x / c
        case .reverseDivide: return try c / x
        }
    }

    public override var details: String { scalar.map { "\(function.rawValue) \($0)" } ?? "\(function.rawValue) \(formatShape(constant.shape))" }
}

/// Limits every value to `low…high` (ONNX `Clip` with bounds other than ReLU6's).
public final class Clamp: Layer {
    public let low: Float, high: Float

    public init(low: Float, high: Float) throws(ModelError) {
        guard low <= high else { throw .invalidArgument(what: "Clip", reason: "low \(low) is above high \(high)") }
        (self.low, self.high) = (low, high)
        super.init(kind: "Clip")
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].clamp(low, high)
    }

    public override var details: String { "\(low)…\(high)" }
}
