import GraftNN

extension ReduceMean: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let reduced = writer.emit("ReduceMean", node.inputs, output: keepDims || node.inputShape.count > axes.count ? node.output : nil,
                                  [ONNXWriter.attribute("axes", ints: axes.map { $0 + 1 }), ONNXWriter.attribute("keepdims", int: keepDims ? 1 : 0)])
        // Reducing every sample axis leaves [N]; graft keeps [N, 1].
        if !keepDims && node.inputShape.count == axes.count {
            writer.emit("Reshape", [reduced, writer.int64Constant([-1, 1], name: node.key("shape"))], output: node.output)
        }
    }
}
