import GraftNN

/// ONNX operators as converters: each family's file lists its operators with the opsets each
/// handler reads (as onnx2torch's `@add_converter(operation_type=, version=)` does), and the
/// importer picks the one for the model's opset. A new operator is one row in its family's table
/// and its handler; an operator whose meaning changed at an opset (Slice's attributes became inputs
/// at 10) is two rows with one handler told the difference.
extension ONNXImporter {
    struct Converter: @unchecked Sendable {  // its handlers are pure functions of the node
        let op: String
        /// The opsets whose semantics the handler implements (from the operator's introduction).
        let opsets: ClosedRange<Int>
        /// The node's outputs, in order (one value for an operator with one output).
        let run: (NodeContext) throws -> [Value]

        init(_ op: String, _ opsets: ClosedRange<Int>, _ handler: @escaping Handler) {
            (self.op, self.opsets, self.run) = (op, opsets, { [try handler($0)] })
        }
        init(_ op: String, since first: Int, _ handler: @escaping Handler) { self.init(op, first...Int.max, handler) }

        /// An operator with several outputs (Split).
        init(_ op: String, _ opsets: ClosedRange<Int>, outputs: @escaping (NodeContext) throws -> [Value]) {
            (self.op, self.opsets, self.run) = (op, opsets, outputs)
        }
        init(_ op: String, since first: Int, outputs: @escaping (NodeContext) throws -> [Value]) { self.init(op, first...Int.max, outputs: outputs) }
    }

    /// Every family's converters.
    static let converters: [Converter] = constantConverters + shapeConverters + convolutionConverters
        + normalizationConverters + activationConverters + elementwiseConverters + poolingConverters

    /// The converters by operator.
    static let convertersByOp: [String: [Converter]] = Dictionary(grouping: converters, by: \.op)

    /// The converter for `op` at `opset`, or why there is none: an operator graft does not read, or
    /// one it reads at other opsets only.
    static func converter(_ op: String, opset: Int, node: String) throws -> Converter {
        guard let candidates = convertersByOp[op] else { throw Failure(description: "unsupported op '\(op)' (node '\(node)')") }
        guard let converter = candidates.first(where: { $0.opsets.contains(opset) }) else {
            let first = candidates.map(\.opsets.lowerBound).min() ?? 1
            throw Failure(description: "op '\(op)' (node '\(node)') does not exist at opset \(opset): ONNX introduced it at opset \(first)")
        }
        return converter
    }
}
