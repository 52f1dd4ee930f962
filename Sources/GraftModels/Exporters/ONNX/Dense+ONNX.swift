import GraftNN

extension Dense: ONNXExportable {
    /// `Gemm` on [N, in]; `MatMul` (+ `Add`) on higher-rank samples, over the last axis.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        if node.inputShape.count == 1 {
            var inputs = [node.inputs[0], writer.initializer(node.key("weight"), weight.value)]
            if let bias { inputs.append(writer.initializer(node.key("bias"), bias.value)) }
            writer.emit("Gemm", inputs, output: node.output, [ONNXWriter.attribute("transB", int: 1)])
        } else {
            let transposed = writer.initializer(node.key("weight_t"), try weight.value.transposed())
            let product = writer.emit("MatMul", [node.inputs[0], transposed], output: bias == nil ? node.output : nil)
            if let bias { writer.emit("Add", [product, writer.initializer(node.key("bias"), bias.value)], output: node.output) }
        }
    }
}
