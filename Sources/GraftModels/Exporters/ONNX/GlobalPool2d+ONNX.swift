import GraftNN

extension GlobalPool2d: ONNXExportable {
    /// ONNX keeps [N, C, 1, 1]; a `Flatten` gives graft's [N, C] unless the layer keeps the axes.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let op = function == .max ? "GlobalMaxPool" : "GlobalAveragePool"
        if keepsDimensions {
            writer.emit(op, [node.inputs[0]], output: node.output)
        } else {
            writer.emit("Flatten", [writer.emit(op, [node.inputs[0]])], output: node.output, [ONNXWriter.attribute("axis", int: 1)])
        }
    }
}
