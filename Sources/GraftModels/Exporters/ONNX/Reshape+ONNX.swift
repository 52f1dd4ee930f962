import GraftNN

extension Reshape: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        // The shape for the declared input; ONNX's 0 keeps an input size, which only lines up when the rank does not change.
        var shape = [-1] + node.outputShape
        if trailing > 0 && node.inputShape.count == node.outputShape.count {
            for k in (shape.count - trailing)..<shape.count { shape[k] = 0 }
        }
        writer.emit("Reshape", [node.inputs[0], writer.int64Constant(shape, name: node.key("shape"))], output: node.output)
    }
}
