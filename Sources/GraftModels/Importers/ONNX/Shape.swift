import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// Shapes and layouts: Shape, Gather, Slice, Squeeze/Unsqueeze, Concat, Reshape, Flatten, Transpose,
/// Split and Pad. Chains of them on constants or static shapes fold; on computed values they are layers.
extension ONNXImporter {
    static let shapeConverters: [Converter] = [
        Converter("Shape", 1...14) { try shape($0, slicing: false) },
        Converter("Shape", since: 15) { try shape($0, slicing: true) },
        Converter("Gather", since: 1, gather),
        Converter("Slice", 1...9) { try slice($0, fromInputs: false) },
        Converter("Slice", since: 10) { try slice($0, fromInputs: true) },
        Converter("Squeeze", 1...12) { try squeeze($0, axesFromInput: false) },
        Converter("Squeeze", since: 13) { try squeeze($0, axesFromInput: true) },
        Converter("Unsqueeze", 1...12) { try squeeze($0, axesFromInput: false) },
        Converter("Unsqueeze", since: 13) { try squeeze($0, axesFromInput: true) },
        Converter("Concat", since: 1, concat),
        Converter("Reshape", since: 1, reshape),
        Converter("Expand", since: 8, expand),
        Converter("Flatten", since: 1, flatten),
        Converter("Transpose", since: 1, transpose),
        Converter("Split", 1...12, outputs: { try splitOutputs($0, sizesFromInput: false) }),
        Converter("Split", since: 13, outputs: { try splitOutputs($0, sizesFromInput: true) }),
        Converter("Pad", 1...10) { try pad($0, fromInputs: false) },
        Converter("Pad", since: 11) { try pad($0, fromInputs: true) },
    ]

    static func shape(_ c: NodeContext, slicing: Bool) throws -> Value {
        let result: Value
        var dims: [Float]
        switch try c.value(0) {
        case let .constant(t): dims = t.shape.map(Float.init)
        case let .node(i): dims = [Float(-1)] + c.shape(i).map(Float.init)
        case let .view(v): dims = sizes(c, v).map(Float.init)
        default: throw perSampleRefusal(c)
        }
        if slicing {
            let start = c.int("start", 0), end = c.int("end", dims.count)
            // As ONNX says: negative from the end, then clamped to 0…rank.
            let (s, e) = sliceRange(start: start, end: end, size: dims.count)
            dims = Array(dims[s..<e])
        }
        result = .constant(Tensor(dims))
        return result
    }

    static func gather(_ c: NodeContext) throws -> Value {
        let result: Value
        // as_strided with contiguous strides: sample n's flattened values at n · count + 0…count−1,
        // which is the value itself in the offsets' shape.
        if case let .node(i) = try c.value(0), case let .batchIndices(scale, offsets) = try c.value(1), c.int("axis", 0) == 0 {
            let count = c.shape(i).reduce(1, *)
            guard c.shape(i).count == 1, scale == Float(count), offsets.shape.first == 1, offsets.count == count,
                  offsets.scalars.enumerated().allSatisfy({ Float($0.offset) == $0.element }) else {
                throw Failure(description: "Gather '\(c.nodeName)': an as_strided view other than the value itself is not supported")
            }
            return try c.add(try Reshape(Array(offsets.shape.dropFirst())), [i])
        }
        // One index of a computed value: along its moved first axis (attention's q, k, v), or along
        // a sample axis (a class token's x[:, 0]): a Slice, then the axis dropped.
        if case let .constant(index) = try c.value(1), index.rank == 0 {
            let position = try integer(index.scalars[0], c)
            switch try c.value(0) {
            case let .view(v):
                let raw = c.int("axis", 0), axis = raw < 0 ? raw + v.groups.count : raw
                let sliced = try sliceView(c, v, axis: axis, start: position, end: position == -1 ? 1 << 40 : position + 1, name: "\(c.nodeName).slice")
                return try squeezeView(c, sliced, axes: [axis])
            case let .node(node):
                let rank = c.shape(node).count + 1, raw = c.int("axis", 0)
                let axis = raw < 0 ? raw + rank : raw
                guard axis >= 1, axis < rank else { throw Failure(description: "Gather '\(c.nodeName)' along axis \(raw) of a rank-\(rank) value is not supported") }
                let size = c.shape(node)[axis - 1]
                guard position >= -size, position < size else { throw Failure(description: "Gather '\(c.nodeName)': index \(position) outside 0…\(size - 1)") }
                let start = position < 0 ? position + size : position
                let sliced = try c.state.builder.add(try Slice(axis: axis - 1, start: start, end: start + 1), name: "\(c.nodeName).slice", inputs: [node])
                var shape = c.shape(node)
                shape.remove(at: axis - 1)
                return try c.add(try Reshape(shape.isEmpty ? [1] : shape), [sliced])
            default: break
            }
        }
        let data = try c.constant(0), indices = try c.constant(1)
        let raw = c.int("axis", 0)
        guard raw >= -data.rank, raw < data.rank else { throw Failure(description: "Gather '\(c.nodeName)': axis \(raw) of a rank-\(data.rank) constant") }
        let axis = raw < 0 ? raw + data.rank : raw
        let size = data.shape[axis]
        let picked = try indices.scalars.map { value -> Int in
            let index = try integer(value, c)
            guard index >= -size, index < size else { throw Failure(description: "Gather '\(c.nodeName)': index \(index) outside 0…\(size - 1)") }
            return index < 0 ? index + size : index
        }
        var gathered = try data.gather(picked, axis: axis)
        if indices.rank == 0 { var s = gathered.shape; s.remove(at: axis); gathered = try gathered.reshaped(s) }
        result = .constant(gathered)
        return result
    }

    /// A constant slice folds; a slice of a computed value along one sample axis is a Slice layer.
    static func slice(_ c: NodeContext, fromInputs: Bool) throws -> Value {
        func list(_ position: Int) throws -> [Int]? {
            guard case let .constant(t)? = try c.optionalValue(position) else { return nil }
            return try t.scalars.map { try integer($0, c) }
        }
        let starts = fromInputs ? try list(1) ?? [] : c.ints("starts") ?? []
        let ends = fromInputs ? try list(2) ?? [] : c.ints("ends") ?? []
        let axes = fromInputs ? try list(3) ?? Array(0..<starts.count) : c.ints("axes") ?? Array(0..<starts.count)
        let steps = fromInputs ? try list(4) ?? [Int](repeating: 1, count: starts.count) : [Int](repeating: 1, count: starts.count)
        guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count, !starts.isEmpty else {
            throw Failure(description: "Slice '\(c.nodeName)': starts, ends, axes and steps differ in length")
        }
        switch try c.value(0) {
        case let .constant(data):
            var t = data
            for (k, axis) in axes.enumerated() {
                guard axis >= -t.rank, axis < t.rank else { throw Failure(description: "Slice '\(c.nodeName)': axis \(axis) of a rank-\(t.rank) constant") }
                let a = axis < 0 ? axis + t.rank : axis
                let size = t.shape[a]
                guard steps[k] != 0 else { throw Failure(description: "Slice '\(c.nodeName)' with a step of 0") }
                if steps[k] < 0 {
                    t = try reversedSlice(t, axis: a, start: starts[k], end: ends[k], step: steps[k])
                    continue
                }
                let (s, e) = sliceRange(start: starts[k], end: ends[k], size: size)
                t = try t.sliced(axis: a, start: s, end: e, step: steps[k])
            }
            return .constant(t)
        case .batchIndices:
            throw batchIndicesRefusal(c)
        case .perSample:
            throw perSampleRefusal(c)
        case let .view(v):
            guard axes.count == 1, steps == [1] else { throw viewRefusal(c) }
            return .view(try sliceView(c, v, axis: axes[0] < 0 ? axes[0] + v.groups.count : axes[0], start: starts[0], end: ends[0], name: c.nodeName))
        case let .node(i):
            var current = i
            let rank = c.shape(i).count + 1
            for (k, axis) in axes.enumerated() {
                guard axis >= -rank, axis < rank else { throw Failure(description: "Slice '\(c.nodeName)': axis \(axis) of a rank-\(rank) value") }
                let a = axis < 0 ? axis + rank : axis
                guard a > 0 else { throw Failure(description: "Slice '\(c.nodeName)' of the batch axis is not supported") }
                let size = c.shape(current)[a - 1]
                let (s, e) = sliceRange(start: starts[k], end: ends[k], size: size)
                guard steps[k] > 0, e > s else { throw Failure(description: "Slice '\(c.nodeName)': an empty or reversed range is not supported") }
                let layer = try Slice(axis: a - 1, start: s, end: e, step: steps[k])
                current = try c.state.builder.add(layer, name: k == axes.count - 1 ? c.nodeName : "\(c.nodeName).\(k)", inputs: [current])
            }
            return .node(current)
        }
    }

    /// ONNX's start and end of one axis (negative from the end), clamped to 0…size.
    /// A constant sliced backwards, as ONNX says: the start clamped to 0…size−1, the end to
    /// −1…size−1, every |step|-th index from the start down to past the end (torch.onnx.export
    /// reverses a padding list so: `pads[::-1]`).
    static func reversedSlice(_ t: Tensor, axis: Int, start: Int, end: Int, step: Int) throws -> Tensor {
        let size = t.shape[axis]
        let first = Swift.max(-1, Swift.min(size - 1, start < 0 ? start + size : start))
        let last = Swift.max(-1, Swift.min(size - 1, end < 0 ? end + size : end))
        let indices = first > last ? Array(stride(from: first, to: last, by: step)) : []
        let outer = t.shape[..<axis].reduce(1, *), inner = t.shape[(axis + 1)...].reduce(1, *)
        let values = t.scalars
        var result: [Float] = []
        result.reserveCapacity(outer * indices.count * inner)
        for o in 0..<outer {
            for index in indices { result += values[(o * size + index) * inner ..< (o * size + index + 1) * inner] }
        }
        var shape = t.shape
        shape[axis] = indices.count
        return try Tensor(shape: shape, scalars: result)
    }

    static func sliceRange(start: Int, end: Int, size: Int) -> (Int, Int) {
        let s = Swift.max(0, Swift.min(size, start < 0 ? start + size : start))
        return (s, Swift.max(s, Swift.min(size, end < 0 ? end + size : end)))
    }

    /// An integer from a float constant, or an error (NaN, infinities and huge values are not sizes).
    /// The values a shape holds, refused past 2^28 (a constant the file asks graft to make).
    static func checkedElementCount(_ shape: [Int], _ c: NodeContext) throws -> Int {
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: Swift.max(size, 0))
            guard !overflow, product <= 1 << 28 else { throw Failure(description: "\(c.op) '\(c.nodeName)' would make \(shape) values (more than 2^28)") }
            count = product
        }
        return count
    }

    /// An int64 input's value (read as a float), saturated at ±2⁴⁰ as attributes are: INT64_MAX and
    /// INT64_MIN are how exporters write a Slice's "to the end" and "from the start" (timm's rexnet
    /// and dpn), and each handler checks the range it needs.
    static func integer(_ value: Float, _ c: NodeContext) throws -> Int {
        guard value.isFinite, value == value.rounded() else { throw Failure(description: "\(c.op) '\(c.nodeName)': \(value) is not an integer") }
        return abs(value) < 9.0e15 ? Int(value) : (value > 0 ? 1 << 40 : -(1 << 40))
    }

    static func squeeze(_ c: NodeContext, axesFromInput: Bool) throws -> Value {
        let result: Value
        var axes = c.ints("axes") ?? []
        if axesFromInput {
            axes = []
            if case let .constant(t)? = try c.optionalValue(1) { axes = try t.scalars.map { try integer($0, c) } }
        }
        if case let .view(v) = try c.value(0) {
            if c.op == "Squeeze" { return try squeezeView(c, v, axes: axes) }
            // Unsqueeze: size-1 axes where the output has them.
            var target = sizes(c, v)
            let rank = target.count + axes.count
            let inserted = axes.map { $0 < 0 ? $0 + rank : $0 }
            guard Set(inserted).count == axes.count, inserted.allSatisfy({ (0..<rank).contains($0) }) else { throw viewRefusal(c) }
            for axis in inserted.sorted() { target.insert(1, at: axis) }
            return try reshapeView(c, v, target)
        }
        let rank: Int
        switch try c.value(0) {
        case let .constant(t), let .batchIndices(_, t): rank = t.rank
        case .perSample: throw perSampleRefusal(c)
        case .view: throw viewRefusal(c)
        case let .node(i): rank = c.shape(i).count + 1
        }
        let outputRank = c.op == "Unsqueeze" ? rank + axes.count : rank
        guard axes.count <= 8, axes.allSatisfy({ $0 >= -outputRank && $0 < outputRank }) else {
            throw Failure(description: "\(c.op) '\(c.nodeName)': axes \(axes) outside a rank-\(outputRank) value")
        }
        switch try c.value(0) {
        case let .constant(t):
            var s = t.shape
            if c.op == "Unsqueeze" {
                for axis in axes.map({ $0 < 0 ? $0 + s.count + axes.count : $0 }).sorted() { s.insert(1, at: min(axis, s.count)) }
            } else {
                let drop = Set(axes.isEmpty ? s.indices.filter { s[$0] == 1 } : axes.map { $0 < 0 ? $0 + s.count : $0 })
                s = s.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
            }
            result = .constant(try t.reshaped(s))
        case let .batchIndices(scale, t):
            // The offsets take the new axes (the batch axis stays first).
            guard c.op == "Unsqueeze", !axes.contains(0), !axes.contains(-outputRank) else { throw batchIndicesRefusal(c) }
            var s = t.shape
            for axis in axes.map({ $0 < 0 ? $0 + s.count + axes.count : $0 }).sorted() { s.insert(1, at: min(axis, s.count)) }
            result = .batchIndices(scale: scale, offsets: try t.reshaped(s))
        case .perSample:
            throw perSampleRefusal(c)
        case .view:
            throw viewRefusal(c)
        case let .node(i):
            var s = [1] + c.shape(i)
            if c.op == "Unsqueeze" {
                for axis in axes.map({ $0 < 0 ? $0 + s.count + axes.count : $0 }).sorted() { s.insert(1, at: min(axis, s.count)) }
            } else {
                let drop = Set(axes.isEmpty ? s.indices.dropFirst().filter { s[$0] == 1 } : axes.map { $0 < 0 ? $0 + s.count : $0 })
                guard !drop.contains(0) else { throw Failure(description: "Squeeze '\(c.nodeName)' of the batch axis") }
                s = s.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
            }
            result = try c.add(try Reshape(Array(s.dropFirst())), [i])
        }
        return result
    }

    static func concat(_ c: NodeContext) throws -> Value {
        let result: Value
        let axis = c.int("axis", 0)
        let parts = try c.node.input.indices.map { try c.value($0) }
        if parts.allSatisfy({ if case .constant = $0 { return true } else { return false } }) {
            result = .constant(try Tensor.concatenate(parts.map { if case let .constant(t) = $0 { return t } else { return Tensor(0) } }, axis: axis))
        } else if case .perSample = parts[0] {
            result = try prefixTokens(c, parts, axis: axis)
        } else if case let .constant(first) = parts[0], first.rank == 3, first.shape[0] == 1, case .node? = parts.last {
            // torch.onnx.export's `cls_token.expand(B, -1, -1)` folds to [1, k, D] once the batch is
            // −1 (its Where keeps −1's places at 1): the same tokens before every sample's.
            result = try prefixTokens(c, parts.map { if case let .constant(t) = $0, t.rank == 3, t.shape[0] == 1 { return .perSample(t) } else { return $0 } }, axis: axis)
        } else {
            let indices = try parts.map { part -> Int in
                guard case let .node(i) = part else { throw Failure(description: "Concat '\(c.nodeName)' mixes constants and computed values") }
                return i
            }
            let rank = c.shape(indices[0]).count + 1
            let sampleAxis = (axis < 0 ? axis + rank : axis) - 1
            guard (0..<(rank - 1)).contains(sampleAxis) else { throw Failure(description: "Concat '\(c.nodeName)' along axis \(axis) is not supported (only a sample axis, not the batch)") }
            result = try c.add(Merge(.concatenate, axis: sampleAxis), indices)
        }
        return result
    }

    /// Learned tokens before tokens: `Concat` on axis 1 of constants expanded to the batch, then
    /// one computed [N, T, D].
    static func prefixTokens(_ c: NodeContext, _ parts: [Value], axis: Int) throws -> Value {
        var tokens: [Tensor] = []
        for part in parts.dropLast() {
            guard case let .perSample(t) = part else { throw perSampleRefusal(c) }
            tokens.append(t)
        }
        guard case let .node(i)? = parts.last, c.shape(i).count == 2, axis == 1 || axis == -2,
              tokens.allSatisfy({ $0.rank == 3 && $0.shape[2] == c.shape(i)[1] }) else { throw perSampleRefusal(c) }
        let table = try Tensor.concatenate(tokens, axis: 1)
        let layer = try PrefixTokens(count: table.shape[1], width: table.shape[2], generator: c.state.generator)
        let result = try c.add(layer, [i])
        c.state.assign(layer.tokens, table, layer: c.nodeName)
        return result
    }

    /// `Expand` of a constant: to a constant shape, the constant broadcast; to a shape whose first
    /// size is the batch (a graph value's `Shape`, folded to −1), a per-sample constant.
    static func expand(_ c: NodeContext) throws -> Value {
        if case .node = try c.value(0) { return try expandComputed(c) }
        if case let .view(v) = try c.value(0) {
            // Along the last axis from 1 (F.normalize's norm to its input's shape): zeros added, which broadcast.
            let have = sizes(c, v), target = try c.constant(1).scalars.map { try integer($0, c) }
            guard target.count == have.count, have.last == 1, let last = target.last, (1...(1 << 24)).contains(last),
                  zip(have.dropLast(), target.dropLast()).allSatisfy({ $0 == $1 || $1 == 1 }) else { throw viewRefusal(c) }
            guard last > 1 else { return .view(v) }
            let laid = try normalized(c, v)
            _ = try checkedElementCount(Array(c.shape(laid.node).dropLast()) + [last], c)
            let grown = try c.state.builder.add(try ConstantOp(.add, constant: Tensor.zeros([last])), name: c.nodeName, inputs: [laid.node])
            return try viewed(c, View(node: grown, groups: laid.groups))
        }
        let data = try c.constant(0)
        let target = try c.constant(1).scalars.map { try integer($0, c) }
        guard target.count <= 8, target.allSatisfy({ $0 >= -1 }) else { throw Failure(description: "Expand '\(c.nodeName)': target \(target) is not a shape") }
        if target.first == -1 {
            guard data.rank == target.count, data.shape.first == 1, !target.dropFirst().contains(-1) else {
                throw Failure(description: "Expand '\(c.nodeName)' of \(formatShape(data.shape)) to the batch and \(target.dropFirst().map(String.init)) is not supported")
            }
            // ONNX broadcasts both ways: a 1 in the target keeps the constant's size.
            let shape = [1] + zip(data.shape.dropFirst(), target.dropFirst()).map { Swift.max($0, $1) }
            _ = try checkedElementCount(shape, c)
            return .perSample(try data.broadcast(to: shape).copied())
        }
        let rank = Swift.max(data.rank, target.count)
        let padded = [Int](repeating: 1, count: rank - data.rank) + data.shape, wanted = [Int](repeating: 1, count: rank - target.count) + target
        let shape = zip(padded, wanted).map { Swift.max($0, $1) }
        _ = try checkedElementCount(shape, c)
        return .constant(try data.reshaped(padded).broadcast(to: shape).copied())
    }

    /// Expand of a computed value (`F.normalize`'s norm to its input's shape): nothing when the
    /// value already has the target's sample shape, else the value plus zeros of that shape
    /// (ConstantOp broadcasts). The target's batch is −1 (a Shape of a computed value) or 1.
    static func expandComputed(_ c: NodeContext) throws -> Value {
        let i = try c.nodeInput(0)
        let sample = c.shape(i)
        let target = try c.constant(1).scalars.map { try integer($0, c) }
        let wanted = target.count == sample.count + 1 ? Array(target.dropFirst()) : target
        guard target.count <= sample.count + 1, target.count < sample.count + 1 || [-1, 1].contains(target[0]), wanted.allSatisfy({ $0 >= 1 }) else {
            throw Failure(description: "Expand '\(c.nodeName)' of a computed \(formatShape(sample)) to \(target) is not supported (only sample axes expand)")
        }
        let shape: [Int]
        do { shape = try Tensor.broadcastShape(sample, wanted, op: "Expand") } catch {
            throw Failure(description: "Expand '\(c.nodeName)': \(formatShape(sample)) does not broadcast to \(target)")
        }
        guard shape != sample else { return .node(i) }
        _ = try checkedElementCount(shape, c)
        return try c.add(try ConstantOp(.add, constant: Tensor.zeros(shape)), [i])
    }

    static func reshape(_ c: NodeContext) throws -> Value {
        let result: Value
        var target = try c.constant(1).scalars.map { try integer($0, c) }
        // A shape computed from the value's own Shape carries the batch as −1 (graft folds it so):
        // beside another −1 it is the batch, as a 0 would copy it.
        if case .node = try c.value(0), target.count >= 2, target[0] == -1, target.dropFirst().contains(-1) { target[0] = 0 }
        // A size below −1 is the batch times a number (a graph Shape's −1 multiplied: [T, N·heads, d]); only a computed value can have one.
        var computed = true
        if case .constant = try c.value(0) { computed = false }
        // At most one −1, and one batch times k beside it.
        guard target.count <= 8, target.allSatisfy({ $0 >= (computed ? -(1 << 40) : -1) }), target.filter({ $0 == -1 }).count <= 1, target.filter({ $0 < -1 }).count <= 1 else {
            throw Failure(description: "Reshape '\(c.nodeName)': target \(target) is not a shape")
        }
        // A 0 copies the input's size on that axis (allowzero=0): there must be one.
        func copied(_ input: [Int]) throws -> [Int] {
            try target.enumerated().map { axis, size in
                guard size == 0 else { return size }
                guard axis < input.count else {
                    throw Failure(description: "Reshape '\(c.nodeName)': target \(target) copies axis \(axis) of a rank-\(input.count) input")
                }
                return input[axis]
            }
        }
        switch try c.value(0) {
        case let .constant(t):
            result = .constant(try t.reshaped(try copied(t.shape)))
        case .batchIndices:
            throw batchIndicesRefusal(c)
        case .perSample:
            throw perSampleRefusal(c)
        case let .view(v):
            return try reshapeView(c, v, try copied(sizes(c, v)))
        case let .node(i) where target.contains { $0 < -1 }:
            return try reshapeView(c, View(node: i, groups: (0...c.shape(i).count).map { [$0] }), try copied([-1] + c.shape(i)))
        case let .node(i):
            let resolved = try copied([-1] + c.shape(i))
            guard let first = resolved.first, first == -1 || first == 1 || target.first == 0 else {
                throw Failure(description: "Reshape '\(c.nodeName)' to \(target) changes the batch axis")
            }
            var rest = Array(resolved.dropFirst())
            if first == -1 && target.first != 0 {
                // [-1, …] with a -1 batch: the rest must be fully known.
                guard !rest.contains(-1) else { throw Failure(description: "Reshape '\(c.nodeName)' to \(target) leaves two sizes free") }
            }
            if rest.isEmpty { rest = [c.shape(i).reduce(1, *)] }
            // A batch folded into other axes ([N·heads, T, d], the dynamo exporter's k transpose)
            // leaves fewer values per sample than the input has.
            let values = rest.reduce(Optional(1)) { product, size in product.flatMap { let (m, overflow) = $0.multipliedReportingOverflow(by: size); return overflow ? nil : m } }
            if !rest.contains(-1), values != c.shape(i).reduce(1, *) {
                // [−1] and the input's last axes: the batch merged with the axes before them.
                let input = c.shape(i)
                if first == -1, target.first != 0 {
                    return try reshapeView(c, View(node: i, groups: (0...input.count).map { [$0] }), resolved)
                }
                throw Failure(description: "Reshape '\(c.nodeName)' to \(target) folds the batch axis into others (\(formatShape(c.shape(i))) a sample); not supported")
            }
            // Where the input's height and width are free and the target ends in them (a channel
            // shuffle of ShuffleNet, sizes read from Shape), they follow the input.
            var trailing = 0
            let input = c.shape(i)
            if !c.state.builder.freeInputAxes.isEmpty, input.count >= 3, rest.count >= 3, rest.suffix(2) == input.suffix(2) { trailing = 2 }
            result = try c.add(try Reshape(rest, trailing: trailing), [i])
        }
        return result
    }

    static func flatten(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        guard c.int("axis", 1) == 1 else { throw Failure(description: "Flatten '\(c.nodeName)' with axis \(c.int("axis", 1)) is not supported") }
        result = try c.add(Flatten(), [i])
        return result
    }

    static func transpose(_ c: NodeContext) throws -> Value {
        let (i, before): (Int, [Int])
        switch try c.value(0) {
        case let .view(v):
            let perm = c.ints("perm") ?? Array((0..<v.groups.count).reversed())
            guard perm.count == v.groups.count, perm.sorted() == Array(0..<v.groups.count) else {
                throw Failure(description: "Transpose '\(c.nodeName)': perm \(perm) does not permute \(v.groups.count) axes")
            }
            return try viewed(c, View(node: v.node, groups: perm.map { v.groups[$0] }))
        case let .node(node): (i, before) = (node, Array(0...c.shape(node).count))
        case let .constant(t):
            // Shape arithmetic (a padding list reordered): folded.
            let perm = c.ints("perm") ?? Array((0..<t.rank).reversed())
            guard perm.count == t.rank, perm.sorted() == Array(0..<t.rank) else { throw Failure(description: "Transpose '\(c.nodeName)': perm \(perm) does not permute \(t.rank) axes") }
            return .constant(try t.permuted(perm))
        default: throw Failure(description: "Transpose '\(c.nodeName)' of this value is not supported")
        }
        let rank = c.shape(i).count + 1
        let perm = c.ints("perm") ?? Array((0..<rank).reversed())
        guard perm.count == rank, perm.sorted() == Array(0..<rank) else { throw Failure(description: "Transpose '\(c.nodeName)': perm \(perm) does not permute \(rank) axes") }
        return try arranged(c, i, perm.map { before[$0] })
    }

    /// Node `i` with its axes in `perm`'s order: a Permute layer when the batch stays first (none
    /// for the identity), else a view.
    static func arranged(_ c: NodeContext, _ i: Int, _ perm: [Int]) throws -> Value {
        try viewed(c, View(node: i, groups: perm.map { [$0] }))
    }

    /// The outputs of a Split: consecutive ranges of one axis, sized by `split` (an input from opset
    /// 13, an attribute before) or equal; one Slice layer each.
    static func splitOutputs(_ c: NodeContext, sizesFromInput: Bool) throws -> [Value] {
        if case let .view(v) = try c.value(0) {
            let raw = c.int("axis", 0), axis = raw < 0 ? raw + v.groups.count : raw
            guard v.groups.indices.contains(axis), v.groups[axis].count == 1, let nodeAxis = v.groups[axis].first, nodeAxis != 0 else { throw viewRefusal(c) }
            let size = c.shape(v.node)[nodeAxis - 1], outputs = c.node.output.count
            var sizes = [Int](repeating: outputs > 0 ? size / outputs : 0, count: outputs)
            if sizesFromInput, case let .constant(t)? = try c.optionalValue(1) { sizes = try t.scalars.map { try integer($0, c) } }
            else if let attribute = c.ints("split") { sizes = attribute }
            guard sizes.count == outputs, sizes.allSatisfy({ $0 > 0 }), sizes.reduce(0, +) == size else {
                throw Failure(description: "Split '\(c.nodeName)': sizes \(sizes) do not cover \(size)")
            }
            var start = 0
            return try sizes.enumerated().map { k, part in
                defer { start += part }
                return .view(try sliceView(c, v, axis: axis, start: start, end: start + part, name: c.node.output[k].isEmpty ? "\(c.nodeName).\(k)" : c.node.output[k]))
            }
        }
        let i = try c.nodeInput(0)
        let shape = c.shape(i)
        let axis = c.int("axis", 0)
        let a = axis < 0 ? axis + shape.count + 1 : axis
        guard a >= 1, a <= shape.count else { throw Failure(description: "Split '\(c.nodeName)' along axis \(axis) is not supported") }
        let outputs = c.node.output.count
        var sizes: [Int]
        if sizesFromInput, case let .constant(t)? = try c.optionalValue(1) {
            sizes = try t.scalars.map { try integer($0, c) }
        } else if let attribute = c.ints("split") {
            sizes = attribute
        } else {
            guard outputs > 0, shape[a - 1] % outputs == 0 else { throw Failure(description: "Split '\(c.nodeName)': \(shape[a - 1]) does not split evenly into \(outputs)") }
            sizes = [Int](repeating: shape[a - 1] / outputs, count: outputs)
        }
        guard sizes.count == outputs, sizes.allSatisfy({ $0 > 0 }), sizes.reduce(0, +) == shape[a - 1] else {
            throw Failure(description: "Split '\(c.nodeName)': sizes \(sizes) do not cover \(shape[a - 1])")
        }
        var start = 0
        var values: [Value] = []
        for (k, size) in sizes.enumerated() {
            let name = c.node.output[k].isEmpty ? "\(c.nodeName).\(k)" : c.node.output[k]
            values.append(.node(try c.state.builder.add(try Slice(axis: a - 1, start: start, end: start + size), name: name, inputs: [i])))
            start += size
        }
        return values
    }

    static func pad(_ c: NodeContext, fromInputs: Bool) throws -> Value {
        let i = try c.nodeInput(0)
        let rank = c.shape(i).count + 1
        let mode = c.attribute("mode").map { String(decoding: $0.s, as: UTF8.self) } ?? "constant"
        let pads = fromInputs ? try c.constant(1).scalars.map { try integer($0, c) } : (c.ints("pads") ?? [])
        var fill: Float = c.float("value", 0)
        if fromInputs, let value = try c.optionalValue(2) {
            guard case let .constant(t) = value, t.scalars.count == 1 else { throw Failure(description: "Pad '\(c.nodeName)': its fill is not one constant") }
            fill = t.scalars[0]
        }
        guard mode == "constant" else { throw Failure(description: "Pad '\(c.nodeName)' in mode '\(mode)' is not supported (constant only)") }
        guard fromInputs ? c.node.input.count < 4 || c.node.input[3].isEmpty : true else {
            throw Failure(description: "Pad '\(c.nodeName)' of chosen axes is not supported")
        }
        guard pads.count == 2 * rank, pads.allSatisfy({ $0 >= 0 }) else {
            throw Failure(description: "Pad '\(c.nodeName)': pads \(pads) are not \(rank) pairs of sizes ≥ 0")
        }
        guard pads[0] == 0, pads[rank] == 0 else { throw Failure(description: "Pad '\(c.nodeName)' pads the batch axis") }
        guard fill.isFinite else { throw Failure(description: "Pad '\(c.nodeName)': the fill \(fill) is not a finite number") }
        let before = Array(pads[1..<rank]), after = Array(pads[(rank + 1)...])
        if rank == 4, fill == 0, before[0] == 0, after[0] == 0 {
            return try c.add(try ZeroPadding2d(Padding2D(top: before[1], bottom: after[1], left: before[2], right: after[2])), [i])
        }
        return try c.add(try ConstantPad(before: before, after: after, value: fill), [i])
    }
}
