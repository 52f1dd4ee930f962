import GraftNN

extension ConstantOp: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let x = node.inputs[0], c = writer.initializer(node.key("constant"), constant)
        switch function {
        case .add: writer.emit("Add", [x, c], output: node.output)
        case .subtract: writer.emit("Sub", [x, c], output: node.output)
        case .reverseSubtract: writer.emit("Sub", [c, x], output: node.output)
        case .multiply: writer.emit("Mul", [x, c], output: node.output)
        case .divide: writer.emit("Div", [x, c], output: node.output)
        case .reverseDivide: writer.emit("Div", [c, x], output: node.output)
        }
    }
}
