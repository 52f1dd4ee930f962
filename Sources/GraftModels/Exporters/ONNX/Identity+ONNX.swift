import GraftNN

/// Dropout and stochastic depth are the identity at inference.
extension Dropout: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Identity", node.inputs, output: node.output)
    }
}

extension DropPath: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Identity", node.inputs, output: node.output)
    }
}
