import GraftNN

extension SeparableConv2d: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let depthwise = writer.initializer(node.key("depthwise_weight"), depthwiseWeight.value)
        let mid = writer.emit("Conv", [node.inputs[0], depthwise], [
            ONNXWriter.attribute("kernel_shape", ints: [kernel.0, kernel.1]), ONNXWriter.attribute("strides", ints: [stride.0, stride.1]),
            ONNXWriter.attribute("dilations", ints: [dilation.0, dilation.1]), ONNXWriter.attribute("group", int: inChannels),
            ONNXWriter.attribute("pads", ints: node.pads(padding, kernel: kernel, stride: stride, dilation: dilation)),
        ])
        var inputs = [mid, writer.initializer(node.key("pointwise_weight"), pointwiseWeight.value)]
        if let bias { inputs.append(writer.initializer(node.key("bias"), bias.value)) }
        writer.emit("Conv", inputs, output: node.output, [ONNXWriter.attribute("kernel_shape", ints: [1, 1])])
    }
}
