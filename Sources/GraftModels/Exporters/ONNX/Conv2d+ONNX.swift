import GraftNN

extension Conv2d: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        var inputs = [node.inputs[0], writer.initializer(node.key("weight"), weight.value)]
        if let bias { inputs.append(writer.initializer(node.key("bias"), bias.value)) }
        writer.emit("Conv", inputs, output: node.output, [
            ONNXWriter.attribute("kernel_shape", ints: [kernel.0, kernel.1]), ONNXWriter.attribute("strides", ints: [stride.0, stride.1]),
            ONNXWriter.attribute("dilations", ints: [dilation.0, dilation.1]), ONNXWriter.attribute("group", int: groups),
            ONNXWriter.attribute("pads", ints: node.pads(padding, kernel: kernel, stride: stride, dilation: dilation)),
        ])
    }
}
