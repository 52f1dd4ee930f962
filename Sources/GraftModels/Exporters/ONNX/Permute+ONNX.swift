import GraftNN

extension Permute: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Transpose", node.inputs, output: node.output, [ONNXWriter.attribute("perm", ints: [0] + order.map { $0 + 1 })])
    }
}
