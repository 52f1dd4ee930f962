import GraftNN

extension Pool2d: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        var attributes = [ONNXWriter.attribute("kernel_shape", ints: [kernel.0, kernel.1]), ONNXWriter.attribute("strides", ints: [stride.0, stride.1]),
                          ONNXWriter.attribute("pads", ints: node.pads(padding, kernel: kernel, stride: stride))]
        if function == .average { attributes.append(ONNXWriter.attribute("count_include_pad", int: countPadding && padding != .same ? 1 : 0)) }
        writer.emit(function == .max ? "MaxPool" : "AveragePool", [node.inputs[0]], output: node.output, attributes)
    }
}
