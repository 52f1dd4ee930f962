import GraftNN

extension Merge: ONNXExportable {
    /// `Concat` on channels, or a chain of binary `Add`/`Sub`/`Mul`/`Div`.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let x = node.inputs
        let op: String
        switch function {
        case .concatenate:
            writer.emit("Concat", x, output: node.output, [ONNXWriter.attribute("axis", int: 1)])
            return
        case .add: op = "Add"
        case .subtract: op = "Sub"
        case .multiply: op = "Mul"
        case .divide: op = "Div"
        }
        var running = x[0]
        for (k, next) in x.dropFirst().enumerated() { running = writer.emit(op, [running, next], output: k == x.count - 2 ? node.output : nil) }
    }
}
