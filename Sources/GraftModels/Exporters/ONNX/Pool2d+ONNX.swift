import GraftNN

extension Pool2d: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        // Ceil mode is written as the extra bottom and right padding it amounts to (never chosen, never counted).
        let p = try resolvedPadding(height: node.inputShape[1], width: node.inputShape[2])
        let overhang = p != padding.resolve(height: node.inputShape[1], width: node.inputShape[2], kernel: kernel, stride: stride)
        var attributes = [ONNXWriter.attribute("kernel_shape", ints: [kernel.0, kernel.1]), ONNXWriter.attribute("strides", ints: [stride.0, stride.1]),
                          ONNXWriter.attribute("pads", ints: [p.top, p.left, p.bottom, p.right])]
        if function == .average { attributes.append(ONNXWriter.attribute("count_include_pad", int: countPadding && padding != .same && !overhang ? 1 : 0)) }
        writer.emit(function == .max ? "MaxPool" : "AveragePool", [node.inputs[0]], output: node.output, attributes)
    }
}
