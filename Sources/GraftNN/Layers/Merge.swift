import GraftTensor

/// Elementwise sum or product of two or more inputs (broadcasting, so [C, 1, 1] · [C, H, W] works
/// for squeeze-and-excitation), or concatenation along the channel axis.
public final class Merge: Layer, LayerKind {
    public enum Function: String, Sendable { case add, subtract, multiply, divide, concatenate }
    public struct Config: Codable, Sendable, Equatable {
        /// `add`, `subtract`, `multiply`, `divide` or `concat`.
        public var function: String
    }
    public static let key = "merge"

    public let function: Function

    public init(_ function: Function) {
        self.function = function
        let kinds: [Function: String] = [.add: "Add", .subtract: "Sub", .multiply: "Multiply", .divide: "Div", .concatenate: "Concat"]
        super.init(kind: kinds[function] ?? "Merge")
    }

    public convenience init(config: Config) throws(ModelError) {
        guard let function = config.function == "concat" ? .concatenate : Function(rawValue: config.function) else {
            throw .invalidArgument(what: "merge", reason: "unknown function '\(config.function)'")
        }
        self.init(function)
    }

    public var config: Config { Config(function: function == .concatenate ? "concat" : function.rawValue) }

    public override var arity: Int? { nil }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard inputs.count >= (function == .concatenate ? 1 : 2) else {
            throw .shapeMismatch(layer: kind, reason: "needs at least \(function == .concatenate ? "one input" : "two inputs"), got \(inputs.count)")
        }
        if function == .concatenate {
            let first = inputs[0]
            guard inputs.allSatisfy({ $0.count == first.count && Array($0.dropFirst()) == Array(first.dropFirst()) }) else {
                throw .shapeMismatch(layer: kind, reason: "inputs \(inputs.map(formatShape).joined(separator: ", ")) differ outside the channel axis")
            }
            return [inputs.reduce(0) { $0 + $1[0] }] + first.dropFirst()
        }
        var shape = inputs[0]
        for other in inputs.dropFirst() {
            do { shape = try Tensor.broadcastShape(shape, other, op: kind) } catch {
                throw .shapeMismatch(layer: kind, reason: "inputs \(inputs.map(formatShape).joined(separator: ", ")) do not broadcast")
            }
        }
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        switch function {
        case .concatenate: return inputs.count == 1 ? inputs[0] : try Tensor.concatenate(inputs, axis: 1)
        case .add:
            var total = inputs[0]
            for x in inputs.dropFirst() { total = try total + x }
            return total
        case .multiply:
            var product = inputs[0]
            for x in inputs.dropFirst() { product = try product * x }
            return product
        case .subtract:
            var result = inputs[0]
            for x in inputs.dropFirst() { result = try result - x }
            return result
        case .divide:
            var result = inputs[0]
            for x in inputs.dropFirst() { result = try result / x }
            return result
        }
    }
}

// MARK: Export

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

extension Merge: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Merge(\(Py.string(function == .concatenate ? "concat" : function.rawValue)))", helpers: [.merge])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let merge = PyTorchHelper("merge", source: #"""
class Merge(nn.Module):
    """Combines its inputs: add, subtract, multiply, divide (left to right, broadcasting) or concat (channels)."""

    def __init__(self, op):
        super().__init__()
        self.op = op

    def forward(self, *xs):
        if self.op == "concat":
            return torch.cat(xs, 1) if len(xs) > 1 else xs[0]
        out = xs[0]
        for x in xs[1:]:
            out = {"add": torch.add, "subtract": torch.sub, "multiply": torch.mul, "divide": torch.div}[self.op](out, x)
        return out
"""#)
}
