import GraftNN

extension AdaptiveAvgPool2d: ONNXExportable {
    /// The same two products with averaging matrices (for the declared input size), as MatMul and Transpose.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let (h, w) = (node.inputShape[1], node.inputShape[2])
        let columns = writer.emit("MatMul", [node.inputs[0], writer.initializer(node.key("columns"), try AdaptiveAvgPool2d.averaging(w, output.1).transposed())])
        let swapped = writer.emit("Transpose", [columns], [ONNXWriter.attribute("perm", ints: [0, 1, 3, 2])])
        let rows = writer.emit("MatMul", [swapped, writer.initializer(node.key("rows"), try AdaptiveAvgPool2d.averaging(h, output.0).transposed())])
        writer.emit("Transpose", [rows], output: node.output, [ONNXWriter.attribute("perm", ints: [0, 1, 3, 2])])
    }
}
