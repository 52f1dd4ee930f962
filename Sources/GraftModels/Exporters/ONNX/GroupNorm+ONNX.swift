import GraftNN
import GraftTensor

extension GroupNorm: ONNXExportable {
    /// Written out for opset 17 (GroupNormalization came with opset 18, and its scale changed
    /// meaning at 21): Reshape to [N, groups, −1], then ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt,
    /// Div over the last axis, Reshape back to the input's shape, then γ and β per channel.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let axes = ONNXWriter.attribute("axes", ints: [2])
        let keep = ONNXWriter.attribute("keepdims", int: 1)
        let x = node.inputs[0]
        let grouped = writer.emit("Reshape", [x, writer.int64Constant([0, groups, -1], name: node.key("groups"))])
        let mean = writer.emit("ReduceMean", [grouped], [axes, keep])
        let centered = writer.emit("Sub", [grouped, mean])
        let variance = writer.emit("ReduceMean", [writer.emit("Mul", [centered, centered])], [axes, keep])
        let deviation = writer.emit("Sqrt", [writer.emit("Add", [variance, writer.constant([epsilon], name: node.key("epsilon"))])])
        let normalized = writer.emit("Div", [centered, deviation])
        let perChannel = [channels] + [Int](repeating: 1, count: Swift.max(0, node.inputShape.count - 1))
        var y = writer.emit("Reshape", [normalized, writer.emit("Shape", [x])], output: weight == nil && bias == nil ? node.output : nil)
        if let weight {
            y = writer.emit("Mul", [y, writer.initializer(node.key("weight"), try weight.value.reshaped(perChannel))], output: bias == nil ? node.output : nil)
        }
        if let bias { writer.emit("Add", [y, writer.initializer(node.key("bias"), try bias.value.reshaped(perChannel))], output: node.output) }
    }
}
