import GraftNN

extension Clamp: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Clip", [node.inputs[0], writer.constant([low], name: node.key("min")), writer.constant([high], name: node.key("max"))], output: node.output)
    }
}
