import GraftTensor

/// An elementwise op with a constant operand stored in the layer: `x + c`, `x − c`, `c − x`, `x · c`,
/// `x / c`, `c / x` (imported graphs spell biases, scales and hard-swish's `+ 3` and `/ 6` this way).
/// A constant with more than one value is a trainable parameter (`constant`); a scalar is fixed.
public final class ConstantOp: Layer, LayerKind {
    public enum Function: String, Sendable { case add, subtract, reverseSubtract, multiply, divide, reverseDivide }
    public struct Config: Codable, Sendable, Equatable {
        public var function: String
        /// The constant's shape (its values are the `constant` parameter), unless it is a scalar.
        public var shape: [Int]
        public var scalar: Float?
    }
    public static let key = "constantOp"

    public let function: Function
    public let scalar: Float?

    public init(_ function: Function, constant: Tensor) throws(ModelError) {
        self.function = function
        scalar = constant.count == 1 ? constant.scalars.first : nil
        let kinds: [Function: String] = [.add: "Add", .subtract: "Sub", .reverseSubtract: "Sub", .multiply: "Mul", .divide: "Div", .reverseDivide: "Div"]
        values = scalar == nil ? Parameter(constant.copied()) : nil
        super.init(kind: kinds[function] ?? "ConstantOp")
        if let values { adopt("constant", values) }
    }

    public convenience init(config c: Config) throws(ModelError) {
        guard let function = Function(rawValue: c.function) else { throw .invalidArgument(what: "constant op", reason: "unknown function '\(c.function)'") }
        guard c.shape.count <= 8, c.shape.allSatisfy({ $0 > 0 && $0 <= 1 << 24 }), c.shape.reduce(1, { $0 * $1 }) <= 1 << 26 else {
            throw .invalidArgument(what: "constant op", reason: "bad constant shape \(c.shape)")
        }
        let constant: Tensor
        if let scalar = c.scalar { constant = Tensor(scalar) } else {
            do { constant = try Tensor.zeros(c.shape) } catch { throw .tensor(layer: "constant", error: error) }
        }
        try self.init(function, constant: constant)
    }

    public var config: Config { Config(function: function.rawValue, shape: constant.shape, scalar: scalar) }

    /// The constant when it has more than one value (a parameter).
    public let values: Parameter?

    public var constant: Tensor { scalar.map { Tensor($0) } ?? values?.value ?? Tensor(0) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = inputs.first ?? []
        guard let c = values?.value else { return shape }
        // The constant broadcasts against [N, sample…]: it may carry the batch axis as 1.
        let trimmed = c.rank > shape.count ? Array(c.shape.dropFirst(c.rank - shape.count)) : c.shape
        guard c.rank <= shape.count + 1, c.rank <= shape.count || c.shape.first == 1 else {
            throw .shapeMismatch(layer: kind, reason: "constant \(formatShape(c.shape)) does not fit input \(formatShape(shape))")
        }
        do { return try Tensor.broadcastShape(shape, trimmed, op: kind) } catch {
            throw .shapeMismatch(layer: kind, reason: "constant \(formatShape(c.shape)) does not broadcast with input \(formatShape(shape))")
        }
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        if let s = scalar {
            switch function {
            case .add: return x + s
            case .subtract: return x - s
            case .reverseSubtract: return s - x
            case .multiply: return x * s
            case .divide: return x / s
            case .reverseDivide: return s / x
            }
        }
        let c = constant
        switch function {
        case .add: return try x + c
        case .subtract: return try x - c
        case .reverseSubtract: return try c - x
        case .multiply: return try x * c
        case .divide: return try x / c
        case .reverseDivide: return try c / x
        }
    }

    public override var details: String { scalar.map { "\(function.rawValue) \($0)" } ?? "\(function.rawValue) \(formatShape(constant.shape))" }
}

// MARK: Export

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

extension ConstantOp: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        let value = scalar.map { "scalar=\(Py.float($0))" } ?? "shape=\(Py.ints(constant.shape))"
        return PyTorchModule("ConstantOp(\(Py.string(function.rawValue)), \(value))", helpers: [.constantOp])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let constantOp = PyTorchHelper("constantOp", source: #"""
class ConstantOp(nn.Module):
    """x with a constant: add, subtract, reverse_subtract (c - x), multiply, divide, reverse_divide.
    A constant that is not a single number is a parameter named `constant`."""

    def __init__(self, op, scalar=None, shape=None):
        super().__init__()
        self.op, self.scalar = op, scalar
        self.constant = nn.Parameter(torch.zeros(shape)) if scalar is None else None

    def forward(self, x):
        c = self.scalar if self.scalar is not None else self.constant
        return {"add": lambda: x + c, "subtract": lambda: x - c, "reverseSubtract": lambda: c - x,
                "multiply": lambda: x * c, "divide": lambda: x / c, "reverseDivide": lambda: c / x}[self.op]()
"""#)
}
