import Foundation
import GraftData
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
        /// Indices that depend on the batch: sample n's are `n · scale + offsets` (`offsets` has a
        /// batch axis of 1). What torch.export writes for `as_strided` (a `Range` over the batch
        /// size, scaled and offset), which a `Gather` on a flattened value folds into a Reshape.
        case batchIndices(scale: Float, offsets: Tensor)
        /// A constant with a batch axis of 1 that every sample gets: an `Expand` to the batch of a
        /// graph value's `Shape` (a class token's `cls_token.expand(B, -1, -1)`), until a `Concat`
        /// puts it before the tokens.
        case perSample(Tensor)
        /// A computed value whose batch axis is not alone at the front (see ``View``).
        case view(View)
    }

    /// The refusal for a per-sample constant anywhere but before tokens in a `Concat`.
    static func perSampleRefusal(_ c: NodeContext) -> Failure {
        Failure(description: "\(c.op) '\(c.nodeName)' of a constant expanded to the batch is not supported (only a Concat before tokens)")
    }

    /// The refusal for batch indices anywhere but as an `as_strided` Gather's.
    static func batchIndicesRefusal(_ c: NodeContext) -> Failure {
        Failure(description: "\(c.op) '\(c.nodeName)' of indices over the batch is not supported (only as_strided's Gather of a flattened value)")
    }

    typealias Handler = (NodeContext) throws -> Value

    /// One ONNX node as its handler sees it: its inputs (constants or graft nodes), attributes and the import state.
    struct NodeContext {
        let node: Onnx_NodeProto
        let nodeName: String
        let op: String
        let opset: Int
        let values: [String: Value]
        /// The names of integer-typed values (initializers, `Shape`'s and `Cast`'s outputs, and what
        /// follows from them): a `Div` of two is integer division.
        let integers: Set<String>
        let state: ImportBuild

        /// Whether input `position` holds integers (int64 shape arithmetic, booleans).
        func isInteger(_ position: Int) -> Bool { position < node.input.count && integers.contains(node.input[position]) }

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
            if case .view = try value(position) { throw ONNXImporter.viewRefusal(self) }
            guard case let .node(i) = try value(position) else { throw Failure(description: "\(op) '\(nodeName)': input \(position) must be computed, not constant") }
            return i
        }
        func attribute(_ key: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == key } }
        /// An attribute's integers as the file gives them, saturated at ±2⁴⁰ where the file goes
        /// beyond (Slice's "to the end" is INT64_MAX): every sum and difference the handlers make of
        /// them and a rank stays far from overflowing, and each handler checks the range it needs.
        func ints(_ key: String) -> [Int]? { attribute(key).map { $0.ints.map(Self.saturated) } }
        static func saturated(_ value: Int64) -> Int { Int(Swift.max(-(1 << 40), Swift.min(1 << 40, value))) }
        /// A 2-D attribute (strides, dilations, kernel_shape): exactly two values, or `fallback` when absent.
        func pair(_ key: String, _ fallback: (Int, Int)) throws -> (Int, Int) {
            guard let values = ints(key) else { return fallback }
            guard values.count == 2 else { throw Failure(description: "\(op) '\(nodeName)': \(key) \(values) must have 2 values (graft imports 2-D \(op))") }
            return (values[0], values[1])
        }
        func int(_ key: String, _ fallback: Int) -> Int { attribute(key).map { Self.saturated($0.i) } ?? fallback }
        func float(_ key: String, _ fallback: Float) -> Float { attribute(key).map { $0.f } ?? fallback }
        /// Adds `layer` under the node's name.
        func add(_ layer: Layer, _ inputs: [Int]) throws -> Value { .node(try state.builder.add(layer, name: nodeName, inputs: inputs)) }
        func shape(_ i: Int) -> [Int] { state.builder.shape(of: i) }
    }

    public static func load(_ data: Data, name: String, modelName: String, inputShape: [Int]?) throws -> Model {
        let file = try ONNXFile(data, source: name)
        let model = file.model
        guard model.hasGraph else { throw FormatError.malformed(format: "onnx", where: name, reason: "no graph") }
        let graph = model.graph
        let opset = Int(model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version ?? 11)
        if let other = model.opsetImport.first(where: { !$0.domain.isEmpty && $0.domain != "ai.onnx" }) {
            throw Failure(description: "operator domain '\(other.domain)' is not supported")
        }
        guard graph.node.count <= 100_000 else { throw Failure(description: "more than 100,000 nodes") }
        var values: [String: Value] = [:]
        var integers = Set<String>()
        var external = ONNXExternalData(modelPath: name)
        for index in 0..<file.initializerCount {
            let stored = try file.initializer(index)
            let initializer = try external.resolved(stored, what: "initializer '\(stored.name)'")
            values[initializer.name] = .constant(try tensor(initializer, what: "initializer '\(initializer.name)'"))
            if integerTypes.contains(Int(initializer.dataType)) { integers.insert(initializer.name) }
        }
        let inputs = graph.input.filter { values[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else { throw Failure(description: "graft imports graphs with exactly one input, this one has \(inputs.count)") }
        let declared = input.type.tensorType.shape.dim.map { dim -> Int? in
            if case let .dimValue(v)? = dim.value, v > 0 { return Int(v) }
            return nil
        }
        var sample: [Int]
        var free: [Int] = []
        if let inputShape {
            sample = inputShape
            if declared.count == sample.count + 1 {
                for (given, fixed) in zip(sample, declared.dropFirst()) where fixed != nil && fixed != given {
                    throw Failure(description: "input \(inputShape) does not fit the graph's declared input [\(declared.map { $0.map(String.init) ?? "?" }.joined(separator: ", "))]")
                }
            }
        } else {
            // Free height and width (a torch.onnx.export with dynamic axes) run at any size; the
            // graph is built for 224×224, the ImageNet size, until data says otherwise.
            let dims = Array(declared.dropFirst())
            guard dims.count >= 1, dims.count <= 4, dims.count == 3 ? dims[0] != nil : !dims.contains(nil) else {
                throw Failure(description: "the input '\(input.name)' has free dimensions [\(declared.map { $0.map(String.init) ?? "?" }.joined(separator: ", "))]; give its size with input=CxHxW")
            }
            free = dims.indices.filter { dims[$0] == nil }
            sample = dims.map { $0 ?? 224 }
        }
        let state = ImportBuild(builder: try GraphBuilder(inputShape: sample, freeAxes: free, inputName: input.name.isEmpty ? "input" : input.name))
        values[input.name] = .node(state.builder.input)
        var usedNames = Set<String>()
        // How many reads of each value are still to come: a constant is let go after its last one, so
        // a weight the converters copied (a MatMul's transposed) is not held twice until the end.
        var readsLeft: [String: Int] = [:]
        for node in graph.node { for input in node.input where !input.isEmpty { readsLeft[input, default: 0] += 1 } }
        for output in graph.output { readsLeft[output.name, default: 0] += 1 }

        for (index, node) in graph.node.enumerated() {
            try Cancellation.check(name)   // weights may be Constant nodes, not initializers
            let op = node.opType
            var nodeName = node.name.isEmpty ? "\(op.lowercased())_\(index)" : node.name
            while usedNames.contains(nodeName) { nodeName += "_" }
            usedNames.insert(nodeName)
            let context = NodeContext(node: node, nodeName: nodeName, op: op, opset: opset, values: values, integers: integers, state: state)
            let handler = try converter(op, opset: opset, node: nodeName)
            let results = try lifted(context, handler) ?? handler.run(context)
            if producesIntegers(context) { integers.formUnion(node.output.filter { !$0.isEmpty }) }
            if results.count == 1, let result = results.first {
                // Outputs beyond the first (Dropout's mask) are never used: they take the same value.
                for output in node.output where !output.isEmpty { values[output] = result }
            } else {
                for (output, value) in zip(node.output, results) where !output.isEmpty { values[output] = value }
            }
            for input in node.input where !input.isEmpty {
                readsLeft[input, default: 1] -= 1
                if readsLeft[input] == 0, case .constant? = values[input] { values[input] = nil }
            }
        }
        guard let outputName = graph.output.first?.name, case let .node(outputIndex)? = values[outputName] else {
            throw Failure(description: "the graph's output is not computed from its input")
        }
        let built = try state.finish(name: modelName, architecture: "onnx", output: outputIndex)
        if let names = model.metadataProps.first(where: { $0.key == "graft.classes" })?.value.split(separator: "\n", omittingEmptySubsequences: false).map(String.init),
           names.count == built.classNames.count {
            built.classNames = names
        }
        // graft's own exports say how image files become inputs; a value that does not fit is ignored.
        let decoder = JSONDecoder()
        if let text = model.metadataProps.first(where: { $0.key == Self.normalizationKey })?.value, text.utf8.count < 4096,
           let described = try? decoder.decode(GraphDescription.NormalizationDescription.self, from: Data(text.utf8)) {
            built.normalization = described.value
        }
        if let text = model.metadataProps.first(where: { $0.key == Self.preprocessingKey })?.value, text.utf8.count < 4096,
           let transform = try? decoder.decode(ImageTransform.self, from: Data(text.utf8)), transform.fits(built.inputShape) {
            built.preprocessing = transform
        }
        return built
    }

    /// The metadata keys graft's ONNX export writes beside `graft.classes`.
    static let preprocessingKey = "graft.preprocessing", normalizationKey = "graft.normalization"

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

    /// ONNX's integer and boolean `TensorProto.DataType`s (UINT8, INT8, UINT16, INT16, INT32, INT64,
    /// BOOL, UINT32, UINT64).
    static let integerTypes: Set<Int> = [2, 3, 4, 5, 6, 7, 9, 12, 13]

    /// Whether a node's outputs are integers: by the operator's type rule, or as its data input's.
    static func producesIntegers(_ c: NodeContext) -> Bool {
        switch c.op {
        case "Shape", "Size", "ArgMax", "ArgMin", "NonZero", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not", "And", "Or":
            return true
        case "Cast": return integerTypes.contains(c.int("to", 1))
        case "Constant":
            guard let attribute = c.node.attribute.first else { return false }
            return attribute.name == "value_int" || attribute.name == "value_ints" || (attribute.name == "value" && integerTypes.contains(Int(attribute.t.dataType)))
        case "ConstantOfShape": return c.attribute("value").map { integerTypes.contains(Int($0.t.dataType)) } ?? false
        case "Where": return c.isInteger(1)
        default: return c.isInteger(0)
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
        let type = proto.dataType
        if proto.dataLocation == .external { throw Failure(description: "\(what): external data is read only for initializers") }
        if !proto.rawData.isEmpty {
            guard let element = ElementType(onnx: type) else { throw Failure(description: "\(what): data type \(type) is not supported") }
            guard proto.rawData.count == count * element.size else { throw Failure(description: "\(what): raw data holds \(proto.rawData.count) bytes, shape \(shape) needs \(count * element.size)") }
            return try Tensor(shape: shape) { values in
                proto.rawData.withUnsafeBytes { raw in
                    guard let base = raw.baseAddress else { return }
                    element.decode(base, count: count, into: values)
                }
            }
        }
        let values: [Float]
        switch type {
        case 1: values = proto.floatData
        case 11: values = proto.doubleData.map(Float.init)
        case 7: values = proto.int64Data.map(Float.init)
        case 6, 5, 3, 2, 4, 9: values = proto.int32Data.map(Float.init)
        default: throw Failure(description: "\(what): data type \(type) is not supported")
        }
        guard values.count == count else { throw Failure(description: "\(what): \(values.count) values for shape \(shape)") }
        return try Tensor(shape: shape, scalars: values)
    }
}
