import GraftTensor

extension Model {
    /// One row of the summary table.
    public struct SummaryRow: Sendable {
        public let index: Int
        public let name: String
        public let kind: String
        public let details: String
        public let outputShape: [Int]
        public let parameters: Int
        /// `yes`, `no`, `partial`, or `-` for layers without parameters.
        public let trainable: String
        /// `train` or `infer` for BatchNorm and dropout during training, `-` otherwise.
        public let mode: String
        public let inputs: [String]
    }

    /// One row per layer (GraftModels renders them as the summary table).
    public var summaryRows: [SummaryRow] {
        nodes.enumerated().map { index, node in
            SummaryRow(index: index, name: node.name, kind: node.layer.kind, details: node.layer.details,
                       outputShape: node.outputShape, parameters: node.layer.parameterCount,
                       trainable: node.layer.trainableState ?? "-", mode: node.layer.mode(training: true) ?? "-",
                       inputs: node.inputs.map { nodes[$0].name })
        }
    }
}
