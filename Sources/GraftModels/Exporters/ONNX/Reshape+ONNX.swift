import GraftNN

extension Reshape: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Reshape", [node.inputs[0], writer.int64Constant([-1] + node.outputShape, name: node.key("shape"))], output: node.output)
    }
}
