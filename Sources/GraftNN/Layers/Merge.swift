import GraftTensor

/// Elementwise sum or product of two or more inputs (broadcasting, so [C, 1, 1] · [C, H, W] works
/// for squeeze-and-excitation), or concatenation along a sample axis (the channels unless told:
/// Swin's roll joins two slices of a map along its height or width).
public final class Merge: Layer, LayerKind, ActsElementwise {
    public enum Function: String, Sendable { case add, subtract, multiply, divide, concatenate }
    public struct Config: Codable, Sendable, Equatable {
        /// `add`, `subtract`, `multiply`, `divide` or `concat`.
        public var function: String
        /// The sample axis `concat` joins along (absent: 0, the channels).
        public var axis: Int?
    }
    public static let key = "merge"

    public let function: Function
    /// The sample axis a concatenation joins along.
    public let axis: Int

    /// A concatenation along sample axis `axis` (0…7; other functions ignore it).
    public init(_ function: Function, axis: Int = 0) {
        self.function = function
        self.axis = function == .concatenate ? Swift.min(Swift.max(axis, 0), 7) : 0
        let kinds: [Function: String] = [.add: "Add", .subtract: "Sub", .multiply: "Multiply", .divide: "Div", .concatenate: "Concat"]
        super.init(kind: kinds[function] ?? "Merge")
    }

    public convenience init(config: Config) throws(ModelError) {
        guard let function = config.function == "concat" ? .concatenate : Function(rawValue: config.function) else {
            throw .invalidArgument(what: "merge", reason: "unknown function '\(config.function)'")
        }
        guard (0...7).contains(config.axis ?? 0) else { throw .invalidArgument(what: "merge", reason: "concat axis \(config.axis ?? 0) is not a sample axis 0…7") }
        self.init(function, axis: config.axis ?? 0)
    }

    public var config: Config { Config(function: function == .concatenate ? "concat" : function.rawValue, axis: axis == 0 ? nil : axis) }

    public override var arity: Int? { nil }

    /// Sums, differences, products and quotients of maps of one rank broadcast the same in either layout.
    public func runsChannelsLast(_ inputs: [[Int]], _ context: ForwardContext) -> Bool {
        function != .concatenate && inputs.allSatisfy { $0.count == 4 }
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard inputs.count >= (function == .concatenate ? 1 : 2) else {
            throw .shapeMismatch(layer: kind, reason: "needs at least \(function == .concatenate ? "one input" : "two inputs"), got \(inputs.count)")
        }
        if function == .concatenate {
            let first = inputs[0]
            func outside(_ shape: [Int]) -> [Int] { shape.enumerated().filter { $0.offset != axis }.map(\.element) }
            guard first.count > axis, inputs.allSatisfy({ $0.count == first.count && outside($0) == outside(first) }) else {
                throw .shapeMismatch(layer: kind, reason: "inputs \(inputs.map(formatShape).joined(separator: ", ")) differ outside axis \(axis)")
            }
            var shape = first
            shape[axis] = inputs.reduce(0) { $0 + $1[axis] }
            return shape
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
        case .concatenate: return inputs.count == 1 ? inputs[0] : try Tensor.concatenate(inputs, axis: axis + 1)
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
    /// `Concat` (on channels unless told), or a chain of binary `Add`/`Sub`/`Mul`/`Div`.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let x = node.inputs
        let op: String
        switch function {
        case .concatenate:
            writer.emit("Concat", x, output: node.output, [ONNXWriter.attribute("axis", int: axis + 1)])
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
        PyTorchModule("Merge(\(Py.string(function == .concatenate ? "concat" : function.rawValue))\(axis == 0 ? "" : ", axis=\(axis)"))", helpers: [.merge])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let merge = PyTorchHelper("merge", source: #"""
class Merge(nn.Module):
    """Combines its inputs: add, subtract, multiply, divide (left to right, broadcasting) or concat
    (along a sample axis, the channels unless told)."""

    def __init__(self, op, axis=0):
        super().__init__()
        self.op, self.axis = op, axis

    def forward(self, *xs):
        if self.op == "concat":
            return torch.cat(xs, self.axis + 1) if len(xs) > 1 else xs[0]
        out = xs[0]
        for x in xs[1:]:
            out = {"add": torch.add, "subtract": torch.sub, "multiply": torch.mul, "divide": torch.div}[self.op](out, x)
        return out
"""#)
}
