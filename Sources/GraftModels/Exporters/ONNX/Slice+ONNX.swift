import GraftNN

extension Slice: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Slice", [node.inputs[0], writer.int64Constant([start], name: node.key("starts")), writer.int64Constant([end], name: node.key("ends")),
                              writer.int64Constant([axis + 1], name: node.key("axes")), writer.int64Constant([step], name: node.key("steps"))], output: node.output)
    }
}
