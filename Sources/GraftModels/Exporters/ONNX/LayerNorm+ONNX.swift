import GraftNN
import GraftTensor

extension LayerNorm: ONNXExportable {
    /// Written out as ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt, Div over its axis (opset 17's
    /// LayerNormalization normalizes trailing axes only), then γ and β.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let axes = ONNXWriter.attribute("axes", ints: [axis + 1])
        let keep = ONNXWriter.attribute("keepdims", int: 1)
        let x = node.inputs[0]
        let mean = writer.emit("ReduceMean", [x], [axes, keep])
        let centered = writer.emit("Sub", [x, mean])
        let variance = writer.emit("ReduceMean", [writer.emit("Mul", [centered, centered])], [axes, keep])
        let deviation = writer.emit("Sqrt", [writer.emit("Add", [variance, writer.constant([epsilon], name: node.key("epsilon"))])])
        let perChannel = [Int](repeating: 1, count: axis) + [channels] + [Int](repeating: 1, count: Swift.max(0, node.inputShape.count - 1 - axis))
        var y = writer.emit("Div", [centered, deviation], output: weight == nil && bias == nil ? node.output : nil)
        if let weight {
            y = writer.emit("Mul", [y, writer.initializer(node.key("weight"), try weight.value.reshaped(perChannel))], output: bias == nil ? node.output : nil)
        }
        if let bias { writer.emit("Add", [y, writer.initializer(node.key("bias"), try bias.value.reshaped(perChannel))], output: node.output) }
    }
}
