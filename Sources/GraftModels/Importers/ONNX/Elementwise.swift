import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// Elementwise arithmetic: Add, Sub, Mul and Div of two computed values, of a value and a constant,
/// of two constants (folded), and of batch indices (torch.export's as_strided).
extension ONNXImporter {
    static let elementwiseConverters: [Converter] = [
        Converter("Add", since: 1, arithmetic),
        Converter("Sub", since: 1, arithmetic),
        Converter("Mul", since: 1, arithmetic),
        Converter("Div", since: 1, arithmetic),
    ]

    static func arithmetic(_ c: NodeContext) throws -> Value {
        let result: Value
        let a = try c.value(0), b = try c.value(1)
        switch (a, b) {
        case let (.node(x), .node(y)):
            let function: Merge.Function = c.op == "Add" ? .add : c.op == "Sub" ? .subtract : c.op == "Mul" ? .multiply : .divide
            result = try c.add(Merge(function), [x, y])
        case let (.node(x), .constant(k)):
            let function: ConstantOp.Function = c.op == "Add" ? .add : c.op == "Sub" ? .subtract : c.op == "Mul" ? .multiply : .divide
            result = try c.add(try ConstantOp(function, constant: k), [x])
        case let (.constant(k), .node(y)):
            let function: ConstantOp.Function = c.op == "Add" ? .add : c.op == "Sub" ? .reverseSubtract : c.op == "Mul" ? .multiply : .reverseDivide
            result = try c.add(try ConstantOp(function, constant: k), [y])
        case let (.constant(x), .constant(y)):
            switch c.op {
            case "Add": result = .constant(try x + y)
            case "Sub": result = .constant(try x - y)
            case "Mul": result = .constant(try x * y)
            default:
                // Integer division truncates (shufflenet's channel split: `(C + 1) / 2` of a Shape).
                let quotient = try x / y
                result = .constant(c.isInteger(0) && c.isInteger(1) ? try Tensor(shape: quotient.shape, scalars: quotient.scalars.map { $0.rounded(.towardZero) }) : quotient)
            }
        case let (.batchIndices(scale, offsets), .constant(k)), let (.constant(k), .batchIndices(scale, offsets)):
            // n · scale + offsets, times a whole number or plus constants.
            if c.op == "Mul", k.count == 1, let factor = k.scalars.first, factor.isFinite, factor == factor.rounded(), Swift.abs(factor) < 16_777_216 {
                result = .batchIndices(scale: scale * factor, offsets: offsets * factor)
            } else if c.op == "Add" {
                let sum = try offsets + k
                guard sum.shape.first == 1 else { throw batchIndicesRefusal(c) }
                result = .batchIndices(scale: scale, offsets: sum)
            } else {
                throw batchIndicesRefusal(c)
            }
        default:
            throw batchIndicesRefusal(c)
        }
        return result
    }
}
