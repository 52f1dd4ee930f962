import GraftNN

extension Affine: ONNXExportable {
    /// `Mul` then `Add`, with per-channel values shaped [C, 1, 1] to broadcast over [N, C, H, W].
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        func perChannel(_ v: [Float], _ name: String) -> String {
            v.count == 1 ? writer.constant(v, name: node.key(name))
                         : writer.constant(v, shape: [v.count] + [Int](repeating: 1, count: max(0, node.inputShape.count - 1)), name: node.key(name))
        }
        let scaled = writer.emit("Mul", [node.inputs[0], perChannel(scale, "scale")])
        writer.emit("Add", [scaled, perChannel(offset, "offset")], output: node.output)
    }
}
