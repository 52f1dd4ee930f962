import GraftNN

extension Activation: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let x = node.inputs, out = node.output
        switch function {
        case .relu: writer.emit("Relu", x, output: out)
        case .relu6: writer.emit("Clip", [x[0], writer.constant([0], name: node.key("min")), writer.constant([6], name: node.key("max"))], output: out)
        case let .leakyRelu(slope): writer.emit("LeakyRelu", x, output: out, [ONNXWriter.attribute("alpha", float: slope)])
        case .sigmoid: writer.emit("Sigmoid", x, output: out)
        case .tanh: writer.emit("Tanh", x, output: out)
        case .hardswish: writer.emit("HardSwish", x, output: out)
        case .hardsigmoid: writer.emit("HardSigmoid", x, output: out, [ONNXWriter.attribute("alpha", float: 1.0 / 6.0), ONNXWriter.attribute("beta", float: 0.5)])
        case .silu: writer.emit("Mul", [x[0], writer.emit("Sigmoid", x)], output: out)
        case .gelu:
            // 0.5·x·(1 + erf(x/√2)): opset 17 has no Gelu.
            let scaled = writer.emit("Div", [x[0], writer.constant([Float(2).squareRoot()], name: node.key("sqrt2"))])
            let shifted = writer.emit("Add", [writer.emit("Erf", [scaled]), writer.constant([1], name: node.key("one"))])
            writer.emit("Mul", [writer.emit("Mul", [x[0], shifted]), writer.constant([0.5], name: node.key("half"))], output: out)
        case .erf: writer.emit("Erf", x, output: out)
        case .softmax: writer.emit("Softmax", x, output: out, [ONNXWriter.attribute("axis", int: 1)])
        case .logSoftmax: writer.emit("LogSoftmax", x, output: out, [ONNXWriter.attribute("axis", int: 1)])
        case .sqrt: writer.emit("Sqrt", x, output: out)
        }
    }
}
