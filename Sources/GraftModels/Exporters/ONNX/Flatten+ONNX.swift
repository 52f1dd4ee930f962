import GraftNN

extension Flatten: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Flatten", node.inputs, output: node.output, [ONNXWriter.attribute("axis", int: 1)])
    }
}
