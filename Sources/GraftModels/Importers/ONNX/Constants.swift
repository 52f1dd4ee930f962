import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// Constants, identities and ranges: values that fold at import.
extension ONNXImporter {
    static let constantConverters: [Converter] = [
        Converter("Constant", since: 1, constant),
        Converter("Identity", since: 1, identity),
        Converter("Dropout", since: 1, identity),
        Converter("Cast", since: 1, cast),
        Converter("Range", since: 11, range),
        Converter("ConstantOfShape", since: 9, constantOfShape),
        Converter("Equal", since: 1, compare),
        Converter("Where", since: 9, select),
        Converter("Ceil", since: 1) { try rounded($0, .up) },
        Converter("Floor", since: 1) { try rounded($0, .down) },
        Converter("Mod", since: 10, modulo),
        Converter("Pow", since: 1, power),
        Converter("Exp", since: 1) { c in
            // Of constants (Swin V2's clamped logit scale).
            guard case let .constant(t) = try c.value(0) else { throw constantsOnly(c) }
            return .constant(t.exp())
        },
        Converter("Not", since: 1) { c in
            // Of constants (a mask's `!= 0`): 1 where 0.
            guard case let .constant(t) = try c.value(0) else { throw constantsOnly(c) }
            return .constant(try Tensor(shape: t.shape, scalars: t.scalars.map { $0 == 0 ? 1 : 0 }))
        },
        Converter("ScatterND", since: 11, scatter),
        Converter("GatherND", since: 11, gatherND),
    ]

    /// `Pow`: of constants, folded (torchvision's Swin computes its attention scale so); of a
    /// computed value, the square (a product) and the square root; other exponents are refused.
    static func power(_ c: NodeContext) throws -> Value {
        let exponent = try c.constant(1)
        switch try c.value(0) {
        case let .constant(base):
            let shape = try Tensor.broadcastShape(base.shape, exponent.shape, op: "Pow")
            _ = try checkedElementCount(shape, c)
            let (x, y) = (try base.broadcast(to: shape).copied(), try exponent.broadcast(to: shape).copied())
            return .constant(try Tensor(shape: shape, scalars: zip(x.scalars, y.scalars).map { Foundation.powf($0, $1) }))
        case let .node(i):
            guard exponent.count == 1, let e = exponent.scalars.first else { throw Failure(description: "Pow '\(c.nodeName)' with \(exponent.count) exponents is not supported (one)") }
            if e == 2 { return try c.add(Merge(.multiply), [i, i]) }
            if e == 0.5 { return try c.add(Activation(.sqrt), [i]) }
            throw Failure(description: "Pow '\(c.nodeName)' to the power \(e) is not supported (2 or 0.5 of a computed value)")
        default:
            throw constantsOnly(c)
        }
    }

    /// `GatherND` of constants (batch_dims 0; a relative position bias gathered from its table):
    /// for each index tuple of the last axis, the slice of the data it points at.
    static func gatherND(_ c: NodeContext) throws -> Value {
        guard case let .constant(data) = try c.value(0), case let .constant(indices) = try c.value(1) else { throw constantsOnly(c) }
        guard c.int("batch_dims", 0) == 0, indices.rank >= 1, let k = indices.shape.last, (1...data.rank).contains(k) else {
            throw Failure(description: "GatherND '\(c.nodeName)': indices \(formatShape(indices.shape)) of a rank-\(data.rank) value are not supported (batch_dims 0)")
        }
        let slice = Array(data.shape[k...]), sliceCount = slice.reduce(1, *), positions = indices.count / k
        let shape = Array(indices.shape.dropLast()) + slice
        _ = try checkedElementCount(shape, c)
        let index = indices.scalars, values = data.scalars
        var out = [Float]()
        out.reserveCapacity(positions * sliceCount)
        for p in 0..<positions {
            let offset = try ndOffset(index, position: p, k, of: data.shape, c)
            out.append(contentsOf: values[(offset * sliceCount)..<((offset + 1) * sliceCount)])
        }
        return .constant(try Tensor(shape: shape, scalars: out))
    }

    /// `ScatterND` of constants (reduction none): the data with the updates written at the indices'
    /// positions, in order (torch.export writes masks built by slice assignment so).
    static func scatter(_ c: NodeContext) throws -> Value {
        guard case let .constant(data) = try c.value(0), case let .constant(indices) = try c.value(1), case let .constant(updates) = try c.value(2) else {
            throw constantsOnly(c)
        }
        let reduction = c.attribute("reduction").map { String(decoding: $0.s, as: UTF8.self) } ?? "none"
        guard reduction == "none" else { throw Failure(description: "ScatterND '\(c.nodeName)' with reduction '\(TextTable.cell(reduction, limit: 16))' is not supported") }
        guard indices.rank >= 1, let k = indices.shape.last, (1...data.rank).contains(k) else {
            throw Failure(description: "ScatterND '\(c.nodeName)': indices \(formatShape(indices.shape)) do not index a rank-\(data.rank) value")
        }
        let slice = Array(data.shape[k...]), sliceCount = slice.reduce(1, *)
        let positions = indices.count / k
        guard updates.shape == Array(indices.shape.dropLast()) + slice else {
            throw Failure(description: "ScatterND '\(c.nodeName)': updates \(formatShape(updates.shape)) do not fit indices \(formatShape(indices.shape)) into \(formatShape(data.shape))")
        }
        var out = data.scalars
        let index = indices.scalars, values = updates.scalars
        for p in 0..<positions {
            let offset = try ndOffset(index, position: p, k, of: data.shape, c)
            for j in 0..<sliceCount { out[offset * sliceCount + j] = values[p * sliceCount + j] }
        }
        return .constant(try Tensor(shape: data.shape, scalars: out))
    }

    /// GatherND's and ScatterND's index tuple `position` (k integers, negative from the end) as the
    /// number of the slice of `shape[k...]` it points at; an index outside its axis is refused.
    static func ndOffset(_ index: [Float], position p: Int, _ k: Int, of shape: [Int], _ c: NodeContext) throws -> Int {
        var offset = 0
        for axis in 0..<k {
            let given = try integer(index[p * k + axis], c), at = given < 0 ? given + shape[axis] : given
            guard (0..<shape[axis]).contains(at) else { throw Failure(description: "\(c.op) '\(c.nodeName)': index \(given) outside axis \(axis) of \(formatShape(shape))") }
            offset = offset * shape[axis] + at
        }
        return offset
    }

    /// `Ceil` and `Floor` of constants: shape arithmetic (timm's TF-"same" padding, `ceil(H / stride)`).
    static func rounded(_ c: NodeContext, _ rule: FloatingPointRoundingRule) throws -> Value {
        guard case let .constant(t) = try c.value(0) else { throw constantsOnly(c) }
        return .constant(try Tensor(shape: t.shape, scalars: t.scalars.map { $0.rounded(rule) }))
    }

    /// `Mod` of constants: the remainder with the divisor's sign (fmod 0, as Python's %), or the
    /// dividend's (fmod 1, as C's fmod). A zero divisor is refused.
    static func modulo(_ c: NodeContext) throws -> Value {
        guard case let .constant(a) = try c.value(0), case let .constant(b) = try c.value(1) else { throw constantsOnly(c) }
        let shape = try Tensor.broadcastShape(a.shape, b.shape, op: "Mod")
        _ = try checkedElementCount(shape, c)
        let (x, y) = (try a.broadcast(to: shape).copied(), try b.broadcast(to: shape).copied())
        guard !y.scalars.contains(0) else { throw Failure(description: "Mod '\(c.nodeName)' divides by 0") }
        let truncated = c.int("fmod", 0) == 1
        return .constant(try Tensor(shape: shape, scalars: zip(x.scalars, y.scalars).map { a, b in
            let r = fmodf(a, b)
            return truncated || r == 0 || (r < 0) == (b < 0) ? r : r + b
        }))
    }

    /// The refusal for shape arithmetic on computed values.
    static func constantsOnly(_ c: NodeContext) -> Failure {
        Failure(description: "\(c.op) '\(c.nodeName)' of a computed value is not supported (graft folds it on constants: shape arithmetic)")
    }

    /// A constant of a constant shape filled with `value` (0 when absent).
    static func constantOfShape(_ c: NodeContext) throws -> Value {
        let shape = try c.constant(0).scalars.map { try integer($0, c) }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw Failure(description: "ConstantOfShape '\(c.nodeName)': shape \(shape) has a size the graph decides (the batch)") }
        _ = try checkedElementCount(shape, c)
        let fill = try c.attribute("value").map { try tensor($0.t, what: "ConstantOfShape '\(c.nodeName)'").scalars.first ?? 0 } ?? 0
        return .constant(try Tensor.full(shape, fill))
    }

    /// `Equal` of constants (shape arithmetic): 1 where equal, 0 elsewhere.
    static func compare(_ c: NodeContext) throws -> Value {
        let (a, b) = (try c.constant(0), try c.constant(1))
        let shape = try Tensor.broadcastShape(a.shape, b.shape, op: "Equal")
        _ = try checkedElementCount(shape, c)
        let (x, y) = (try a.broadcast(to: shape).copied(), try b.broadcast(to: shape).copied())
        return .constant(try Tensor(shape: shape, scalars: zip(x.scalars, y.scalars).map { $0 == $1 ? 1 : 0 }))
    }

    /// `Where` of constants: `x` where the condition holds, else `y`.
    static func select(_ c: NodeContext) throws -> Value {
        let (condition, x, y) = (try c.constant(0), try c.constant(1), try c.constant(2))
        let shape = try Tensor.broadcastShape(try Tensor.broadcastShape(condition.shape, x.shape, op: "Where"), y.shape, op: "Where")
        _ = try checkedElementCount(shape, c)
        let (k, a, b) = (try condition.broadcast(to: shape).copied(), try x.broadcast(to: shape).copied(), try y.broadcast(to: shape).copied())
        return .constant(try Tensor(shape: shape, scalars: zip(k.scalars, zip(a.scalars, b.scalars)).map { $0 != 0 ? $1.0 : $1.1 }))
    }

    static func constant(_ c: NodeContext) throws -> Value {
        let result: Value
        guard let attr = c.node.attribute.first else { throw Failure(description: "Constant '\(c.nodeName)' has no value") }
        switch attr.name {
        case "value": result = .constant(try tensor(attr.t, what: "Constant '\(c.nodeName)'"))
        case "value_float": result = .constant(Tensor(attr.f))
        case "value_floats": result = .constant(Tensor(attr.floats))
        case "value_int": result = .constant(Tensor(Float(attr.i)))
        case "value_ints": result = .constant(Tensor(attr.ints.map(Float.init)))
        default: throw Failure(description: "Constant '\(c.nodeName)' with attribute \(attr.name) is not supported")
        }
        return result
    }

    static func identity(_ c: NodeContext) throws -> Value {
        let result: Value
        result = try c.value(0)
        return result
    }

    /// A cast changes nothing graft keeps but a constant cast to an integer type, which truncates
    /// (and to a boolean, which is 1 where nonzero).
    static func cast(_ c: NodeContext) throws -> Value {
        let value = try c.value(0)
        guard case let .constant(t) = value, integerTypes.contains(c.int("to", 1)), !c.isInteger(0) else { return value }
        let boolean = c.int("to", 1) == 9
        return .constant(try Tensor(shape: t.shape, scalars: t.scalars.map { boolean ? ($0 != 0 ? 1 : 0) : $0.rounded(.towardZero) }))
    }

    /// Range(0, batch, 1), the batch as `Shape` gives it (−1): batch indices; a constant range folds.
    static func range(_ c: NodeContext) throws -> Value {
        let start = try c.constant(0).scalars.first ?? 0, limit = try c.constant(1).scalars.first ?? 0, delta = try c.constant(2).scalars.first ?? 1
        if start == 0, limit == -1, delta == 1 { return .batchIndices(scale: 1, offsets: try Tensor(shape: [1], scalars: [0])) }
        let count = (limit - start) / delta  // NaN and infinities are refused before anything becomes an Int
        guard start.isFinite, limit.isFinite, delta.isFinite, delta != 0, count.isFinite, count <= Float(1 << 20) else {
            throw Failure(description: "Range '\(c.nodeName)' from \(start) to \(limit) by \(delta) is not a range graft folds")
        }
        return .constant(try Tensor.arange(start, limit, step: delta))
    }
}
