import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// ONNX graphs of the CNN operator set imported as graft layers (not an opaque blob), so the model
/// can be summarized, frozen, cut and fine-tuned like any other. Weights may be initializers or
/// `Constant` nodes; chains of `Shape`/`Gather`/`Cast`/`Slice`/`Concat`/`Unsqueeze` on constants or
/// on static shapes fold to constants. Unknown operators are refused by name.
public enum ONNXImporter {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// A value of the graph: a constant (folded) or a graft node's output (its shape without the batch axis).
    enum Value {
        case constant(Tensor)
        case node(Int)
    }

    public static func load(_ data: Data, name: String, modelName: String, inputShape: [Int]?) throws -> Model {
        let model: Onnx_ModelProto
        do { model = try Onnx_ModelProto(serializedBytes: data) } catch {
            throw FormatError.malformed(format: "onnx", where: name, reason: "not a valid ONNX protobuf (\(error))")
        }
        guard model.hasGraph else { throw FormatError.malformed(format: "onnx", where: name, reason: "no graph") }
        let graph = model.graph
        let opset = Int(model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version ?? 11)
        if let other = model.opsetImport.first(where: { !$0.domain.isEmpty && $0.domain != "ai.onnx" }) {
            throw Failure(description: "operator domain '\(other.domain)' is not supported")
        }
        guard graph.node.count <= 100_000 else { throw Failure(description: "more than 100,000 nodes") }
        var values: [String: Value] = [:]
        for initializer in graph.initializer { values[initializer.name] = .constant(try tensor(initializer, what: "initializer '\(initializer.name)'")) }
        let inputs = graph.input.filter { values[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else { throw Failure(description: "graft imports graphs with exactly one input, this one has \(inputs.count)") }
        let declared = input.type.tensorType.shape.dim.map { dim -> Int? in
            if case let .dimValue(v)? = dim.value, v > 0 { return Int(v) }
            return nil
        }
        var sample: [Int]
        if let inputShape {
            sample = inputShape
            if declared.count == sample.count + 1 {
                for (given, fixed) in zip(sample, declared.dropFirst()) where fixed != nil && fixed != given {
                    throw Failure(description: "input \(inputShape) does not fit the graph's declared input [\(declared.map { $0.map(String.init) ?? "?" }.joined(separator: ", "))]")
                }
            }
        } else {
            guard declared.count >= 2, declared.dropFirst().allSatisfy({ $0 != nil }) else {
                throw Failure(description: "the input '\(input.name)' has free dimensions [\(declared.map { $0.map(String.init) ?? "?" }.joined(separator: ", "))]; give its size with input=CxHxW")
            }
            sample = declared.dropFirst().compactMap { $0 }
        }
        var builder = try GraphBuilder(inputShape: sample, inputName: input.name.isEmpty ? "input" : input.name)
        values[input.name] = .node(builder.input)
        var assignments: [(Parameter, Tensor, String)] = []
        var buffers: [(Tensor, Tensor)] = []
        let generator = Generator(seed: 0)
        var usedNames = Set<String>()

        for (index, node) in graph.node.enumerated() {
            let op = node.opType
            var nodeName = node.name.isEmpty ? "\(op.lowercased())_\(index)" : node.name
            while usedNames.contains(nodeName) { nodeName += "_" }
            usedNames.insert(nodeName)
            func value(_ position: Int) throws -> Value {
                guard position < node.input.count, !node.input[position].isEmpty else { throw Failure(description: "\(op) '\(nodeName)' lacks input \(position)") }
                guard let v = values[node.input[position]] else { throw Failure(description: "\(op) '\(nodeName)' reads '\(node.input[position])', which is not defined before it") }
                return v
            }
            func optionalValue(_ position: Int) throws -> Value? {
                position < node.input.count && !node.input[position].isEmpty ? try value(position) : nil
            }
            func constant(_ position: Int) throws -> Tensor {
                guard case let .constant(t) = try value(position) else { throw Failure(description: "\(op) '\(nodeName)': input \(position) must be a constant") }
                return t
            }
            func nodeInput(_ position: Int) throws -> Int {
                guard case let .node(i) = try value(position) else { throw Failure(description: "\(op) '\(nodeName)': input \(position) must be computed, not constant") }
                return i
            }
            func attribute(_ key: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == key } }
            func ints(_ key: String) -> [Int]? { attribute(key).map { $0.ints.map(Int.init) } }
            func int(_ key: String, _ fallback: Int) -> Int { attribute(key).map { Int($0.i) } ?? fallback }
            func float(_ key: String, _ fallback: Float) -> Float { attribute(key).map { $0.f } ?? fallback }
            func add(_ layer: Layer, _ inputs: [Int]) throws -> Value { .node(try builder.add(layer, name: nodeName, inputs: inputs)) }
            func shape(_ i: Int) -> [Int] { builder.shape(of: i) }

            let result: Value
            switch op {
            case "Constant":
                guard let attr = node.attribute.first else { throw Failure(description: "Constant '\(nodeName)' has no value") }
                switch attr.name {
                case "value": result = .constant(try tensor(attr.t, what: "Constant '\(nodeName)'"))
                case "value_float": result = .constant(Tensor(attr.f))
                case "value_floats": result = .constant(Tensor(attr.floats))
                case "value_int": result = .constant(Tensor(Float(attr.i)))
                case "value_ints": result = .constant(Tensor(attr.ints.map(Float.init)))
                default: throw Failure(description: "Constant '\(nodeName)' with attribute \(attr.name) is not supported")
                }
            case "Identity", "Dropout":
                result = try value(0)
            case "Cast":
                result = try value(0)
            case "Shape":
                let i = try nodeInput(0)
                var dims = [Float(-1)] + shape(i).map(Float.init)
                if opset >= 15 {
                    let start = int("start", 0), end = int("end", dims.count)
                    let s = start < 0 ? start + dims.count : start, e = min(end < 0 ? end + dims.count : end, dims.count)
                    dims = s < e ? Array(dims[s..<e]) : []
                }
                result = .constant(Tensor(dims))
            case "Gather":
                let data = try constant(0), indices = try constant(1)
                let axis = int("axis", 0)
                let picked = indices.scalars.map { Int($0) }.map { $0 < 0 ? $0 + data.shape[axis < 0 ? axis + data.rank : axis] : $0 }
                var gathered = try data.gather(picked, axis: axis)
                if indices.rank == 0 { var s = gathered.shape; s.remove(at: axis < 0 ? axis + data.rank : axis); gathered = try gathered.reshaped(s) }
                result = .constant(gathered)
            case "Slice":
                let data = try constant(0)
                let starts = opset >= 10 ? try constant(1).scalars.map { Int($0) } : ints("starts") ?? []
                let ends = opset >= 10 ? try constant(2).scalars.map { Int($0) } : ints("ends") ?? []
                let axes = opset >= 10 ? (try optionalValue(3)).flatMap { if case let .constant(t) = $0 { return t.scalars.map { Int($0) } } else { return nil } } ?? Array(0..<starts.count)
                                       : ints("axes") ?? Array(0..<starts.count)
                let steps = opset >= 10 ? (try optionalValue(4)).flatMap { if case let .constant(t) = $0 { return t.scalars.map { Int($0) } } else { return nil } } ?? [Int](repeating: 1, count: starts.count)
                                        : [Int](repeating: 1, count: starts.count)
                var t = data
                for (k, axis) in axes.enumerated() {
                    let a = axis < 0 ? axis + t.rank : axis
                    let size = t.shape[a]
                    let s = max(0, min(size, starts[k] < 0 ? starts[k] + size : starts[k]))
                    let e = max(s, min(size, ends[k] < 0 ? ends[k] + size : ends[k]))
                    guard steps[k] > 0 else { throw Failure(description: "Slice '\(nodeName)' with a negative step is not supported") }
                    t = try t.sliced(axis: a, start: s, end: e, step: steps[k])
                }
                result = .constant(t)
            case "Unsqueeze", "Squeeze":
                let axes = opset >= 13 ? ((try optionalValue(1)).flatMap { if case let .constant(t) = $0 { return t.scalars.map { Int($0) } } else { return nil } } ?? []) : (ints("axes") ?? [])
                switch try value(0) {
                case let .constant(t):
                    var s = t.shape
                    if op == "Unsqueeze" {
                        for axis in axes.map({ $0 < 0 ? $0 + s.count + axes.count : $0 }).sorted() { s.insert(1, at: min(axis, s.count)) }
                    } else {
                        let drop = Set(axes.isEmpty ? s.indices.filter { s[$0] == 1 } : axes.map { $0 < 0 ? $0 + s.count : $0 })
                        s = s.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
                    }
                    result = .constant(try t.reshaped(s))
                case let .node(i):
                    var s = [1] + shape(i)
                    if op == "Unsqueeze" {
                        for axis in axes.map({ $0 < 0 ? $0 + s.count + axes.count : $0 }).sorted() { s.insert(1, at: min(axis, s.count)) }
                    } else {
                        let drop = Set(axes.isEmpty ? s.indices.dropFirst().filter { s[$0] == 1 } : axes.map { $0 < 0 ? $0 + s.count : $0 })
                        guard !drop.contains(0) else { throw Failure(description: "Squeeze '\(nodeName)' of the batch axis") }
                        s = s.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
                    }
                    result = try add(try Reshape(Array(s.dropFirst())), [i])
                }
            case "Concat":
                let axis = int("axis", 0)
                let parts = try node.input.indices.map { try value($0) }
                if parts.allSatisfy({ if case .constant = $0 { return true } else { return false } }) {
                    result = .constant(try Tensor.concatenate(parts.map { if case let .constant(t) = $0 { return t } else { return Tensor(0) } }, axis: axis))
                } else {
                    let indices = try parts.map { part -> Int in
                        guard case let .node(i) = part else { throw Failure(description: "Concat '\(nodeName)' mixes constants and computed values") }
                        return i
                    }
                    let rank = shape(indices[0]).count + 1
                    guard axis == 1 || axis == 1 - rank else { throw Failure(description: "Concat '\(nodeName)' along axis \(axis) is not supported (only channels)") }
                    result = try add(Merge(.concatenate), indices)
                }
            case "Reshape":
                let target = try constant(1).scalars.map { Int($0) }
                switch try value(0) {
                case let .constant(t):
                    result = .constant(try t.reshaped(target.enumerated().map { $0.element == 0 ? t.shape[$0.offset] : $0.element }))
                case let .node(i):
                    let full = [-1] + shape(i)
                    let resolved = target.enumerated().map { $0.element == 0 && $0.offset < full.count ? full[$0.offset] : $0.element }
                    guard let first = resolved.first, first == -1 || first == 1 || target.first == 0 else {
                        throw Failure(description: "Reshape '\(nodeName)' to \(target) changes the batch axis")
                    }
                    var rest = Array(resolved.dropFirst())
                    if first == -1 && target.first != 0 {
                        // [-1, …] with a -1 batch: the rest must be fully known.
                        guard !rest.contains(-1) else { throw Failure(description: "Reshape '\(nodeName)' to \(target) leaves two sizes free") }
                    }
                    if rest.isEmpty { rest = [shape(i).reduce(1, *)] }
                    result = try add(try Reshape(rest), [i])
                }
            case "Flatten":
                let i = try nodeInput(0)
                guard int("axis", 1) == 1 else { throw Failure(description: "Flatten '\(nodeName)' with axis \(int("axis", 1)) is not supported") }
                result = try add(Flatten(), [i])
            case "Conv":
                let i = try nodeInput(0)
                let weight = try constant(1)
                guard weight.rank == 4 else { throw Failure(description: "Conv '\(nodeName)' is not 2-D (weight \(weight.shape))") }
                let bias = try optionalValue(2).map { v -> Tensor in
                    guard case let .constant(t) = v else { throw Failure(description: "Conv '\(nodeName)': a computed bias is not supported") }
                    return t
                }
                let groups = int("group", 1)
                let strides = ints("strides") ?? [1, 1], dilations = ints("dilations") ?? [1, 1]
                let padding = try paddingMode(auto: attribute("auto_pad").map { String(decoding: $0.s, as: UTF8.self) }, pads: ints("pads"), name: nodeName)
                let layer = try Conv2d(shape(i)[0], weight.shape[0], kernel: (weight.shape[2], weight.shape[3]), stride: (strides[0], strides[1]),
                                       padding: padding, dilation: (dilations[0], dilations[1]), groups: groups, bias: bias != nil, generator: generator, kind: "Conv")
                result = try add(layer, [i])
                assignments.append((layer.parameters[0].parameter, weight, nodeName))
                if let bias { assignments.append((layer.parameters[1].parameter, bias, nodeName)) }
            case "BatchNormalization":
                let i = try nodeInput(0)
                let channels = shape(i)[0]
                let layer = try BatchNorm(channels, epsilon: float("epsilon", 1e-5), momentum: 1 - float("momentum", 0.9),
                                          kind: shape(i).count == 3 ? "BatchNormalization" : "BatchNormalization")
                result = try add(layer, [i])
                assignments.append((layer.parameters[0].parameter, try constant(1), nodeName))
                assignments.append((layer.parameters[1].parameter, try constant(2), nodeName))
                buffers.append((layer.buffers[0].tensor, try constant(3)))
                buffers.append((layer.buffers[1].tensor, try constant(4)))
            case "Relu": result = try add(Activation(.relu), [try nodeInput(0)])
            case "Sigmoid": result = try add(Activation(.sigmoid), [try nodeInput(0)])
            case "Tanh": result = try add(Activation(.tanh), [try nodeInput(0)])
            case "LeakyRelu": result = try add(Activation(.leakyRelu(float("alpha", 0.01))), [try nodeInput(0)])
            case "HardSwish": result = try add(Activation(.hardswish), [try nodeInput(0)])
            case "Erf": result = try add(Activation(.erf), [try nodeInput(0)])
            case "HardSigmoid":
                let alpha = float("alpha", 0.2), beta = float("beta", 0.5)
                let i = try nodeInput(0)
                if abs(alpha - 1 / 6) < 1e-7 && beta == 0.5 {
                    result = try add(Activation(.hardsigmoid), [i])
                } else {
                    // max(0, min(1, αx + β)): an affine step, then a clamp (ONNX's default α is 0.2, not PyTorch's 1/6).
                    let scaled = try builder.add(try Affine(scale: [alpha], offset: [beta]), name: nodeName + ".affine", inputs: [i])
                    result = try add(try Clamp(low: 0, high: 1), [scaled])
                }
            case "Clip":
                let i = try nodeInput(0)
                var low = -Float.infinity, high = Float.infinity
                if opset >= 11 {
                    if case let .constant(t)? = try optionalValue(1) { low = t.scalars.first ?? low }
                    if case let .constant(t)? = try optionalValue(2) { high = t.scalars.first ?? high }
                } else {
                    low = float("min", low); high = float("max", high)
                }
                if low == 0 && high == 6 { result = try add(Activation(.relu6), [i]) }
                else if low == 0 && high == .infinity { result = try add(Activation(.relu), [i]) }
                else { result = try add(try Clamp(low: low, high: high), [i]) }
            case "Add", "Sub", "Mul", "Div":
                let a = try value(0), b = try value(1)
                switch (a, b) {
                case let (.node(x), .node(y)):
                    let function: Merge.Function = op == "Add" ? .add : op == "Sub" ? .subtract : op == "Mul" ? .multiply : .divide
                    result = try add(Merge(function), [x, y])
                case let (.node(x), .constant(c)):
                    let function: ConstantOp.Function = op == "Add" ? .add : op == "Sub" ? .subtract : op == "Mul" ? .multiply : .divide
                    result = try add(try ConstantOp(function, constant: c), [x])
                case let (.constant(c), .node(y)):
                    let function: ConstantOp.Function = op == "Add" ? .add : op == "Sub" ? .reverseSubtract : op == "Mul" ? .multiply : .reverseDivide
                    result = try add(try ConstantOp(function, constant: c), [y])
                case let (.constant(x), .constant(y)):
                    switch op {
                    case "Add": result = .constant(try x + y)
                    case "Sub": result = .constant(try x - y)
                    case "Mul": result = .constant(try x * y)
                    default: result = .constant(try x / y)
                    }
                }
            case "MaxPool", "AveragePool":
                let i = try nodeInput(0)
                guard int("ceil_mode", 0) == 0 else { throw Failure(description: "\(op) '\(nodeName)' with ceil_mode is not supported") }
                guard let kernel = ints("kernel_shape"), kernel.count == 2 else { throw Failure(description: "\(op) '\(nodeName)' is not 2-D") }
                let strides = ints("strides") ?? [1, 1]
                let padding = try paddingMode(auto: attribute("auto_pad").map { String(decoding: $0.s, as: UTF8.self) }, pads: ints("pads"), name: nodeName)
                result = try add(try Pool2d(op == "MaxPool" ? .max : .average, kernel: (kernel[0], kernel[1]), stride: (strides[0], strides[1]),
                                            padding: padding, countPadding: int("count_include_pad", 0) == 1), [i])
            case "GlobalAveragePool", "GlobalMaxPool":
                let i = try nodeInput(0)
                let pooled = try builder.add(GlobalPool2d(op == "GlobalMaxPool" ? .max : .average), name: nodeName + ".pool", inputs: [i])
                result = try add(try Reshape([shape(i)[0], 1, 1]), [pooled])   // ONNX keeps [N, C, 1, 1]
            case "Gemm":
                let i = try nodeInput(0)
                guard int("transA", 0) == 0 else { throw Failure(description: "Gemm '\(nodeName)' with transA is not supported") }
                var weight = try constant(1)
                if int("transB", 0) == 0 { weight = try weight.transposed() }
                weight = weight * float("alpha", 1)
                let bias = try optionalValue(2).map { v -> Tensor in
                    guard case let .constant(t) = v else { throw Failure(description: "Gemm '\(nodeName)': a computed C is not supported") }
                    return try t.reshaped([-1]) * float("beta", 1)
                }
                let layer = try Dense(weight.shape[1], weight.shape[0], bias: bias != nil, generator: generator, kind: "Gemm")
                result = try add(layer, [i])
                assignments.append((layer.parameters[0].parameter, weight, nodeName))
                if let bias {
                    let full = bias.count == 1 ? try Tensor.full([weight.shape[0]], bias.scalars[0]) : bias
                    assignments.append((layer.parameters[1].parameter, full, nodeName))
                }
            case "MatMul":
                let i = try nodeInput(0)
                let weight = try constant(1)
                guard weight.rank == 2 else { throw Failure(description: "MatMul '\(nodeName)' with a rank-\(weight.rank) weight is not supported") }
                let layer = try Dense(weight.shape[0], weight.shape[1], bias: false, generator: generator, kind: "MatMul")
                result = try add(layer, [i])
                assignments.append((layer.parameters[0].parameter, try weight.transposed(), nodeName))
            case "Softmax", "LogSoftmax":
                let i = try nodeInput(0)
                let rank = shape(i).count + 1
                let axis = int("axis", opset >= 13 ? -1 : 1)
                guard axis == 1 || axis == 1 - rank || (rank == 2 && axis == -1) else { throw Failure(description: "\(op) '\(nodeName)' over axis \(axis) is not supported") }
                result = try add(Activation(op == "Softmax" ? .softmax : .logSoftmax), [i])
            case "Pad":
                let i = try nodeInput(0)
                let mode = attribute("mode").map { String(decoding: $0.s, as: UTF8.self) } ?? "constant"
                let pads = opset >= 11 ? try constant(1).scalars.map { Int($0) } : (ints("pads") ?? [])
                let fill: Float = opset >= 11 ? ((try optionalValue(2)).flatMap { if case let .constant(t) = $0 { return t.scalars.first } else { return nil } } ?? 0) : float("value", 0)
                guard mode == "constant", fill == 0, pads.count == 8, pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0 else {
                    throw Failure(description: "Pad '\(nodeName)' other than zero padding of height and width is not supported")
                }
                result = try add(try ZeroPadding2d(Padding2D(top: pads[2], bottom: pads[6], left: pads[3], right: pads[7])), [i])
            case "Transpose":
                let i = try nodeInput(0)
                guard let perm = ints("perm"), perm.first == 0 else { throw Failure(description: "Transpose '\(nodeName)' that moves the batch axis is not supported") }
                result = try add(try Permute(perm.dropFirst().map { $0 - 1 }), [i])
            default:
                throw Failure(description: "unsupported op '\(op)' (node '\(nodeName)')")
            }
            guard let output = node.output.first else { continue }
            values[output] = result
            for extra in node.output.dropFirst() where !extra.isEmpty { values[extra] = result }   // e.g. Dropout's mask, unused
        }
        guard let outputName = graph.output.first?.name, case let .node(outputIndex)? = values[outputName] else {
            throw Failure(description: "the graph's output is not computed from its input")
        }
        var built = builder.build(name: modelName, architecture: "onnx")
        if outputIndex != built.nodes.count - 1 {
            // Keep only what the output needs.
            var needed = Set([outputIndex])
            for index in stride(from: outputIndex, through: 0, by: -1) where needed.contains(index) { needed.formUnion(built.nodes[index].inputs) }
            built = GraphBuilder(keeping: built, nodes: built.nodes.indices.filter { needed.contains($0) && $0 <= outputIndex })
                .build(name: modelName, architecture: "onnx")
        }
        for (parameter, tensor, layer) in assignments {
            do { try parameter.assign(try tensor.reshaped(parameter.shape), name: layer) } catch {
                throw Failure(description: "\(layer): weight \(formatShape(tensor.shape)) does not fit \(formatShape(parameter.shape))")
            }
        }
        for (buffer, tensor) in buffers {
            guard buffer.count == tensor.count else { throw Failure(description: "BatchNormalization statistics \(formatShape(tensor.shape)) for \(formatShape(buffer.shape))") }
            tensor.withUnsafeBufferPointer { s in buffer.withUnsafeMutableBufferPointer { d in for k in d.indices { d[k] = s[k] } } }
        }
        built.classNames = (0..<(built.outputShape.last ?? 0)).map(String.init)
        if let names = model.metadataProps.first(where: { $0.key == "graft.classes" })?.value.split(separator: "\n", omittingEmptySubsequences: false).map(String.init),
           names.count == built.classNames.count {
            built.classNames = names
        }
        return built
    }

    static func paddingMode(auto: String?, pads: [Int]?, name: String) throws -> PaddingMode {
        switch auto ?? "NOTSET" {
        case "SAME_UPPER": return .same
        case "VALID": return .valid
        case "NOTSET", "":
            guard let pads else { return .valid }
            guard pads.count == 4 else { throw Failure(description: "'\(name)': pads \(pads) are not 2-D") }
            return .explicit(Padding2D(top: pads[0], bottom: pads[2], left: pads[1], right: pads[3]))
        default: throw Failure(description: "'\(name)': auto_pad \(auto ?? "") is not supported")
        }
    }

    /// A TensorProto's values as Float32 (float, double, float16, integer and raw little-endian data).
    static func tensor(_ proto: Onnx_TensorProto, what: String) throws -> Tensor {
        let shape = proto.dims.map(Int.init)
        guard shape.count <= 32, shape.allSatisfy({ $0 >= 0 }) else { throw Failure(description: "\(what): bad dims \(shape)") }
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p <= 1 << 32 else { throw Failure(description: "\(what): shape \(shape) is too large") }
            count = p
        }
        var values: [Float]
        let type = proto.dataType
        if !proto.rawData.isEmpty {
            let sizes: [Int32: Int] = [1: 4, 11: 8, 10: 2, 16: 2, 6: 4, 7: 8, 2: 1, 3: 1, 5: 2, 9: 1]
            guard let size = sizes[type] else { throw Failure(description: "\(what): data type \(type) is not supported") }
            guard proto.rawData.count == count * size else { throw Failure(description: "\(what): raw data holds \(proto.rawData.count) bytes, shape \(shape) needs \(count * size)") }
            values = [Float](repeating: 0, count: count)
            proto.rawData.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                for i in 0..<count {
                    let p = base + i * size
                    switch type {
                    case 1: values[i] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
                    case 11: values[i] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))))
                    case 10: values[i] = Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))))
                    case 16: values[i] = Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self))) << 16)
                    case 6: values[i] = Float(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
                    case 7: values[i] = Float(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
                    case 5: values[i] = Float(Int16(littleEndian: p.loadUnaligned(as: Int16.self)))
                    case 3: values[i] = Float(p.load(as: Int8.self))
                    default: values[i] = Float(p.load(as: UInt8.self))
                    }
                }
            }
        } else {
            switch type {
            case 1: values = proto.floatData
            case 11: values = proto.doubleData.map(Float.init)
            case 7: values = proto.int64Data.map(Float.init)
            case 6, 5, 3, 2, 4, 9: values = proto.int32Data.map(Float.init)
            default: throw Failure(description: "\(what): data type \(type) is not supported")
            }
            guard values.count == count else { throw Failure(description: "\(what): \(values.count) values for shape \(shape)") }
        }
        if proto.dataLocation == .external { throw Failure(description: "\(what): external data is not supported") }
        return try Tensor(shape: shape, scalars: values)
    }
}
