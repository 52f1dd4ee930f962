import GraftNN

extension Cropping2d: ONNXExportable {
    /// A `Slice` of height and width.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let h = node.inputShape[1], w = node.inputShape[2]
        writer.emit("Slice", [node.inputs[0], writer.int64Constant([cropping.top, cropping.left], name: node.key("starts")),
                              writer.int64Constant([h - cropping.bottom, w - cropping.right], name: node.key("ends")),
                              writer.int64Constant([2, 3], name: node.key("axes"))], output: node.output)
    }
}
