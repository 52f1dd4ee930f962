import GraftNN

extension ZeroPadding2d: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let p = padding
        writer.emit("Pad", [node.inputs[0], writer.int64Constant([0, 0, p.top, p.left, 0, 0, p.bottom, p.right], name: node.key("pads"))], output: node.output)
    }
}
