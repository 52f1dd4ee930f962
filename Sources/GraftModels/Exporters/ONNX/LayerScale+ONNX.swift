import GraftNN

extension LayerScale: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let shaped = try scale.value.reshaped([channels] + [Int](repeating: 1, count: Swift.max(0, node.inputShape.count - 1)))
        writer.emit("Mul", [node.inputs[0], writer.initializer(node.key("layer_scale"), shaped)], output: node.output)
    }
}
