import GraftNN
import GraftTensor

extension BatchNorm: ONNXExportable {
    /// `BatchNormalization` on the running statistics; a missing γ or β is written as ones or zeros.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let scale = try weight?.value ?? Tensor.ones([channels]), shift = try bias?.value ?? Tensor.zeros([channels])
        writer.emit("BatchNormalization", [node.inputs[0], writer.initializer(node.key("weight"), scale), writer.initializer(node.key("bias"), shift),
                                           writer.initializer(node.key("running_mean"), runningMean), writer.initializer(node.key("running_var"), runningVar)],
                    output: node.output, [ONNXWriter.attribute("epsilon", float: epsilon)])
    }
}
