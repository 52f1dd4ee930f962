import Foundation
import GraftFormats
import GraftNN
import GraftTensor

extension ONNXImporter {
    /// One handler per ONNX operator: reads the node through its context, adds graft layers, and
    /// returns the value of its output.
    nonisolated(unsafe) static let handlers: [String: Handler] = [
        "Constant": constant,
        "Identity": identity,
        "Dropout": identity,
        "Cast": cast,
        "Shape": shape,
        "Gather": gather,
        "Slice": slice,
        "Unsqueeze": squeeze,
        "Squeeze": squeeze,
        "Concat": concat,
        "Reshape": reshape,
        "Flatten": flatten,
        "Conv": conv,
        "BatchNormalization": batchNormalization,
        "Relu": activation(.relu),
        "Sigmoid": activation(.sigmoid),
        "Tanh": activation(.tanh),
        "LeakyRelu": leakyRelu,
        "HardSwish": activation(.hardswish),
        "Erf": activation(.erf),
        "Gelu": gelu,
        "HardSigmoid": hardSigmoid,
        "Clip": clip,
        "Add": arithmetic,
        "Sub": arithmetic,
        "Mul": arithmetic,
        "Div": arithmetic,
        "MaxPool": pool,
        "AveragePool": pool,
        "GlobalAveragePool": globalPool,
        "GlobalMaxPool": globalPool,
        "Gemm": gemm,
        "MatMul": matMul,
        "Softmax": softmax,
        "LogSoftmax": softmax,
        "Pad": pad,
        "Transpose": transpose,
        "ReduceMean": reduceMean,
        "Sqrt": activation(.sqrt),
        "LayerNormalization": layerNormalization,
        "Split": split,
        "Range": range,
    ]

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

    static func cast(_ c: NodeContext) throws -> Value {
        let result: Value
        result = try c.value(0)
        return result
    }

    static func shape(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        var dims = [Float(-1)] + c.shape(i).map(Float.init)
        if c.opset >= 15 {
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
    static func slice(_ c: NodeContext) throws -> Value {
        func list(_ position: Int) throws -> [Int]? {
            guard case let .constant(t)? = try c.optionalValue(position) else { return nil }
            return try t.scalars.map { try integer($0, c) }
        }
        let starts = c.opset >= 10 ? try list(1) ?? [] : c.ints("starts") ?? []
        let ends = c.opset >= 10 ? try list(2) ?? [] : c.ints("ends") ?? []
        let axes = c.opset >= 10 ? try list(3) ?? Array(0..<starts.count) : c.ints("axes") ?? Array(0..<starts.count)
        let steps = c.opset >= 10 ? try list(4) ?? [Int](repeating: 1, count: starts.count) : [Int](repeating: 1, count: starts.count)
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
                let (s, e) = sliceRange(start: starts[k], end: ends[k], size: size)
                guard steps[k] > 0 else { throw Failure(description: "Slice '\(c.nodeName)' with a negative step is not supported") }
                t = try t.sliced(axis: a, start: s, end: e, step: steps[k])
            }
            return .constant(t)
        case .batchIndices:
            throw batchIndicesRefusal(c)
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
    static func sliceRange(start: Int, end: Int, size: Int) -> (Int, Int) {
        let s = Swift.max(0, Swift.min(size, start < 0 ? start + size : start))
        return (s, Swift.max(s, Swift.min(size, end < 0 ? end + size : end)))
    }

    /// An integer from a float constant, or an error (NaN, infinities and huge values are not sizes).
    static func integer(_ value: Float, _ c: NodeContext) throws -> Int {
        guard value.isFinite, abs(value) < 9.0e15 else { throw Failure(description: "\(c.op) '\(c.nodeName)': \(value) is not an integer") }
        return Int(value)
    }

    /// Split along a sample axis into Slice layers (one per output); handled by ``splitOutputs``.
    static func split(_ c: NodeContext) throws -> Value {
        throw Failure(description: "Split '\(c.nodeName)' is handled with its outputs")
    }

    /// The outputs of a Split: consecutive ranges of one axis, sized by `split` (an input from opset
    /// 13, an attribute before) or equal.
    static func splitOutputs(_ c: NodeContext) throws -> [Value] {
        let i = try c.nodeInput(0)
        let shape = c.shape(i)
        let axis = c.int("axis", 0)
        let a = axis < 0 ? axis + shape.count + 1 : axis
        guard a >= 1, a <= shape.count else { throw Failure(description: "Split '\(c.nodeName)' along axis \(axis) is not supported") }
        let outputs = c.node.output.count
        var sizes: [Int]
        if c.opset >= 13, case let .constant(t)? = try c.optionalValue(1) {
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

    /// ReduceMean over sample axes (axes from an input at opset 18, an attribute before).
    static func reduceMean(_ c: NodeContext) throws -> Value {
        let i = try c.nodeInput(0)
        let rank = c.shape(i).count + 1
        var axes = c.ints("axes")
        if c.opset >= 18, case let .constant(t)? = try c.optionalValue(1) { axes = try t.scalars.map { try integer($0, c) } }
        let resolved = (axes ?? Array(0..<rank)).map { $0 < 0 ? $0 + rank : $0 }
        guard resolved.allSatisfy({ $0 >= 1 && $0 < rank }) else { throw Failure(description: "ReduceMean '\(c.nodeName)' over the batch axis is not supported") }
        let keep = c.int("keepdims", 1) == 1
        if Set(resolved) == [2, 3], rank == 4 { return try c.add(GlobalPool2d(.average, keepDims: keep), [i]) }
        return try c.add(try ReduceMean(axes: resolved.map { $0 - 1 }, keepDims: keep), [i])
    }

    /// LayerNormalization (opset 17) over one axis, with its scale and bias.
    static func layerNormalization(_ c: NodeContext) throws -> Value {
        let i = try c.nodeInput(0)
        let shape = c.shape(i)
        let axis = c.int("axis", -1)
        let a = axis < 0 ? axis + shape.count + 1 : axis
        guard a >= 1, a == shape.count else {
            throw Failure(description: "LayerNormalization '\(c.nodeName)' over axes \(axis)… is not supported (graft normalizes one axis: the last)")
        }
        let scale = try c.constant(1)
        let bias = try c.optionalValue(2).map { value -> Tensor in
            guard case let .constant(t) = value else { throw Failure(description: "LayerNormalization '\(c.nodeName)': a computed bias is not supported") }
            return t
        }
        let layer = try LayerNorm(shape[a - 1], epsilon: c.float("epsilon", 1e-5), scale: true, center: bias != nil, axis: a - 1)
        let result = try c.add(layer, [i])
        if let weight = layer.weight { c.state.assignments.append((weight, try scale.reshaped([-1]), c.nodeName)) }
        if let parameter = layer.bias, let bias { c.state.assignments.append((parameter, try bias.reshaped([-1]), c.nodeName)) }
        return result
    }

    static func squeeze(_ c: NodeContext) throws -> Value {
        let result: Value
        var axes = c.ints("axes") ?? []
        if c.opset >= 13 {
            axes = []
            if case let .constant(t)? = try c.optionalValue(1) { axes = try t.scalars.map { try integer($0, c) } }
        }
        let rank: Int
        switch try c.value(0) {
        case let .constant(t), let .batchIndices(_, t): rank = t.rank
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
        } else {
            let indices = try parts.map { part -> Int in
                guard case let .node(i) = part else { throw Failure(description: "Concat '\(c.nodeName)' mixes constants and computed values") }
                return i
            }
            let rank = c.shape(indices[0]).count + 1
            guard axis == 1 || axis == 1 - rank else { throw Failure(description: "Concat '\(c.nodeName)' along axis \(axis) is not supported (only channels)") }
            result = try c.add(Merge(.concatenate), indices)
        }
        return result
    }

    static func reshape(_ c: NodeContext) throws -> Value {
        let result: Value
        let target = try c.constant(1).scalars.map { try integer($0, c) }
        guard target.count <= 8, target.allSatisfy({ $0 >= -1 }), target.filter({ $0 == -1 }).count <= 1 else {
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

    static func conv(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        let weight = try c.constant(1)
        guard weight.rank == 4 else { throw Failure(description: "Conv '\(c.nodeName)' is not 2-D (weight \(weight.shape))") }
        let bias = try c.optionalValue(2).map { v -> Tensor in
            guard case let .constant(t) = v else { throw Failure(description: "Conv '\(c.nodeName)': a computed bias is not supported") }
            return t
        }
        let groups = c.int("group", 1)
        let strides = try c.pair("strides", (1, 1)), dilations = try c.pair("dilations", (1, 1))
        let padding = try paddingMode(auto: c.attribute("auto_pad").map { String(decoding: $0.s, as: UTF8.self) }, pads: c.ints("pads"), name: c.nodeName)
        guard c.shape(i).count == 3 else { throw Failure(description: "Conv '\(c.nodeName)' needs an image input, got \(formatShape(c.shape(i)))") }
        let layer = try Conv2d(c.shape(i)[0], weight.shape[0], kernel: (weight.shape[2], weight.shape[3]), stride: strides,
                               padding: padding, dilation: dilations, groups: groups, bias: bias != nil, generator: c.state.generator, kind: "Conv")
        result = try c.add(layer, [i])
        c.state.assignments.append((layer.parameters[0].parameter, weight, c.nodeName))
        if let bias { c.state.assignments.append((layer.parameters[1].parameter, bias, c.nodeName)) }
        return result
    }

    static func batchNormalization(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        guard let channels = c.shape(i).first else { throw Failure(description: "BatchNormalization '\(c.nodeName)' needs channels, got \(formatShape(c.shape(i)))") }
        let layer = try BatchNorm(channels, epsilon: c.float("epsilon", 1e-5), momentum: 1 - c.float("momentum", 0.9),
                                  kind: c.shape(i).count == 3 ? "BatchNormalization" : "BatchNormalization")
        result = try c.add(layer, [i])
        c.state.assignments.append((layer.parameters[0].parameter, try c.constant(1), c.nodeName))
        c.state.assignments.append((layer.parameters[1].parameter, try c.constant(2), c.nodeName))
        c.state.buffers.append((layer.buffers[0].tensor, try c.constant(3)))
        c.state.buffers.append((layer.buffers[1].tensor, try c.constant(4)))
        return result
    }




    /// An operator that is one graft activation.
    static func activation(_ function: Activation.Function) -> Handler {
        { c in try c.add(Activation(function), [try c.nodeInput(0)]) }
    }

    static func leakyRelu(_ c: NodeContext) throws -> Value {
        let result: Value
        result = try c.add(Activation(.leakyRelu(c.float("alpha", 0.01))), [try c.nodeInput(0)])
        return result
    }



    /// Opset 20's Gelu (the dynamo exporter writes it): the exact form; the tanh approximation is refused by name.
    static func gelu(_ c: NodeContext) throws -> Value {
        let approximate = c.attribute("approximate").map { String(decoding: $0.s, as: UTF8.self) } ?? "none"
        guard approximate == "none" else {
            throw Failure(description: "Gelu '\(c.nodeName)' with approximate='\(approximate.prefix(40))' is not supported (only the exact form, 'none')")
        }
        return try c.add(Activation(.gelu), [try c.nodeInput(0)])
    }

    static func hardSigmoid(_ c: NodeContext) throws -> Value {
        let result: Value
        let alpha = c.float("alpha", 0.2), beta = c.float("beta", 0.5)
        let i = try c.nodeInput(0)
        if abs(alpha - 1 / 6) < 1e-7 && beta == 0.5 {
            result = try c.add(Activation(.hardsigmoid), [i])
        } else {
            // max(0, min(1, αx + β)): an affine step, then a clamp (ONNX's default α is 0.2, not PyTorch's 1/6).
            let scaled = try c.state.builder.add(try Affine(scale: [alpha], offset: [beta]), name: c.nodeName + ".affine", inputs: [i])
            result = try c.add(try Clamp(low: 0, high: 1), [scaled])
        }
        return result
    }

    static func clip(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        var low = -Float.infinity, high = Float.infinity
        if c.opset >= 11 {
            if case let .constant(t)? = try c.optionalValue(1) { low = t.scalars.first ?? low }
            if case let .constant(t)? = try c.optionalValue(2) { high = t.scalars.first ?? high }
        } else {
            low = c.float("min", low); high = c.float("max", high)
        }
        if low == 0 && high == 6 { result = try c.add(Activation(.relu6), [i]) }
        else if low == 0 && high == .infinity { result = try c.add(Activation(.relu), [i]) }
        else { result = try c.add(try Clamp(low: low, high: high), [i]) }
        return result
    }

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
            default: result = .constant(try x / y)
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

    static func pool(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        guard c.ints("kernel_shape") != nil else { throw Failure(description: "\(c.op) '\(c.nodeName)' has no kernel_shape") }
        let kernel = try c.pair("kernel_shape", (1, 1)), strides = try c.pair("strides", (1, 1))
        let padding = try paddingMode(auto: c.attribute("auto_pad").map { String(decoding: $0.s, as: UTF8.self) }, pads: c.ints("pads"), name: c.nodeName)
        result = try c.add(try Pool2d(c.op == "MaxPool" ? .max : .average, kernel: kernel, stride: strides,
                                    padding: padding, countPadding: c.int("count_include_pad", 0) == 1, ceilMode: c.int("ceil_mode", 0) == 1), [i])
        return result
    }

    static func globalPool(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        result = try c.add(GlobalPool2d(c.op == "GlobalMaxPool" ? .max : .average, keepDims: true), [i])   // ONNX keeps [N, C, 1, 1]
        return result
    }

    static func gemm(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        guard c.int("transA", 0) == 0 else { throw Failure(description: "Gemm '\(c.nodeName)' with transA is not supported") }
        var weight = try c.constant(1)
        guard weight.rank == 2 else { throw Failure(description: "Gemm '\(c.nodeName)' with a rank-\(weight.rank) weight is not supported") }
        if c.int("transB", 0) == 0 { weight = try weight.transposed() }
        weight = weight * c.float("alpha", 1)
        let bias = try c.optionalValue(2).map { v -> Tensor in
            guard case let .constant(t) = v else { throw Failure(description: "Gemm '\(c.nodeName)': a computed C is not supported") }
            return try t.reshaped([-1]) * c.float("beta", 1)
        }
        let layer = try Dense(weight.shape[1], weight.shape[0], bias: bias != nil, generator: c.state.generator, kind: "Gemm")
        result = try c.add(layer, [i])
        c.state.assignments.append((layer.parameters[0].parameter, weight, c.nodeName))
        if let bias {
            let full = bias.count == 1 ? try Tensor.full([weight.shape[0]], bias.scalars[0]) : bias
            c.state.assignments.append((layer.parameters[1].parameter, full, c.nodeName))
        }
        return result
    }

    static func matMul(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        let weight = try c.constant(1)
        guard weight.rank == 2 else { throw Failure(description: "MatMul '\(c.nodeName)' with a rank-\(weight.rank) weight is not supported") }
        let layer = try Dense(weight.shape[0], weight.shape[1], bias: false, generator: c.state.generator, kind: "MatMul")
        result = try c.add(layer, [i])
        c.state.assignments.append((layer.parameters[0].parameter, try weight.transposed(), c.nodeName))
        return result
    }

    static func softmax(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        let rank = c.shape(i).count + 1
        let axis = c.int("axis", c.opset >= 13 ? -1 : 1)
        guard axis == 1 || axis == 1 - rank || (rank == 2 && axis == -1) else { throw Failure(description: "\(c.op) '\(c.nodeName)' over axis \(axis) is not supported") }
        result = try c.add(Activation(c.op == "Softmax" ? .softmax : .logSoftmax), [i])
        return result
    }

    static func pad(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        let mode = c.attribute("mode").map { String(decoding: $0.s, as: UTF8.self) } ?? "constant"
        let pads = c.opset >= 11 ? try c.constant(1).scalars.map { try integer($0, c) } : (c.ints("pads") ?? [])
        let fill: Float = c.opset >= 11 ? ((try c.optionalValue(2)).flatMap { if case let .constant(t) = $0 { return t.scalars.first } else { return nil } } ?? 0) : c.float("value", 0)
        guard mode == "constant", fill == 0, pads.count == 8, pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else {
            throw Failure(description: "Pad '\(c.nodeName)' other than zero padding of height and width is not supported")
        }
        result = try c.add(try ZeroPadding2d(Padding2D(top: pads[2], bottom: pads[6], left: pads[3], right: pads[7])), [i])
        return result
    }

    static func transpose(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        guard let perm = c.ints("perm"), perm.first == 0 else { throw Failure(description: "Transpose '\(c.nodeName)' that moves the batch axis is not supported") }
        result = try c.add(try Permute(perm.dropFirst().map { $0 - 1 }), [i])
        return result
    }
}
