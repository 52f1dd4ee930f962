import GraftTensor

/// An elementwise (or softmax) activation as a layer of its own.
public final class Activation: Layer, LayerKind, ActsElementwise {
    public struct Config: Codable, Sendable, Equatable {
        /// The function's lowercased PyTorch name (`relu6`, `leakyrelu`).
        public var name: String
        public var slope: Float?
        /// Softmax's sample axis (0, the classes, when absent; −1 the last).
        public var axis: Int?
    }
    public static let key = "activation"

    public enum Function: Sendable, Equatable {
        case relu, relu6, leakyRelu(Float), sigmoid, tanh, gelu, geluTanh, erf, silu, hardsigmoid, hardswish, softmax, logSoftmax, sqrt

        /// PyTorch's module name for it.
        public var name: String {
            switch self {
            case .relu: return "ReLU"
            case .relu6: return "ReLU6"
            case .leakyRelu: return "LeakyReLU"
            case .sigmoid: return "Sigmoid"
            case .tanh: return "Tanh"
            case .gelu: return "GELU"
            case .geluTanh: return "GELUTanh"
            case .erf: return "Erf"
            case .silu: return "SiLU"
            case .hardsigmoid: return "Hardsigmoid"
            case .hardswish: return "Hardswish"
            case .softmax: return "Softmax"
            case .logSoftmax: return "LogSoftmax"
            case .sqrt: return "Sqrt"
            }
        }

        /// Parses `relu`, `relu6`, `sigmoid`, `swish`/`silu`, … (Keras and PyTorch spellings).
        public init?(name: String) {
            switch name.lowercased() {
            case "relu": self = .relu
            case "relu6": self = .relu6
            case "leakyrelu", "leaky_relu": self = .leakyRelu(0.01)
            case "sigmoid": self = .sigmoid
            case "tanh": self = .tanh
            case "gelu": self = .gelu
            case "gelutanh", "gelu_tanh", "gelu_pytorch_tanh", "gelu_new": self = .geluTanh
            case "erf": self = .erf
            case "silu", "swish": self = .silu
            case "hardsigmoid", "hard_sigmoid": self = .hardsigmoid
            case "hardswish", "hard_swish": self = .hardswish
            case "softmax": self = .softmax
            case "logsoftmax", "log_softmax": self = .logSoftmax
            case "sqrt": self = .sqrt
            default: return nil
            }
        }
    }

    public let function: Function
    /// The sample axis softmax and log-softmax normalize over (0: the first after the batch; −1: the last).
    public let axis: Int

    public init(_ function: Function, axis: Int = 0) {
        self.function = function
        self.axis = axis
        super.init(kind: function.name)
    }

    /// `axis` as the tensor's axis (after the batch axis).
    var tensorAxis: Int { axis < 0 ? axis : axis + 1 }

    public convenience init(config c: Config) throws(ModelError) {
        if c.name == "leakyrelu" { self.init(.leakyRelu(c.slope ?? 0.01)); return }
        guard let function = Function(name: c.name) else { throw .invalidArgument(what: "activation", reason: "unknown function '\(c.name)'") }
        guard (-4...3).contains(c.axis ?? 0) else { throw .invalidArgument(what: "activation", reason: "axis \(c.axis ?? 0) outside a sample") }
        self.init(function, axis: c.axis ?? 0)
    }

    public var config: Config {
        if case let .leakyRelu(slope) = function { return Config(name: "leakyrelu", slope: slope) }
        return Config(name: kind.lowercased(), slope: nil, axis: axis == 0 ? nil : axis)
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        switch function {
        case .relu: return x.relu()
        case .relu6: return x.relu6()
        case let .leakyRelu(slope): return x.leakyRelu(slope)
        case .sigmoid: return x.sigmoid()
        case .tanh: return x.tanh()
        case .gelu: return x.gelu()
        case .geluTanh: return x.geluTanh()
        case .erf: return x.erf()
        case .silu: return x.silu()
        case .hardsigmoid: return x.hardsigmoid()
        case .hardswish: return x.hardswish()
        case .softmax: return try x.softmax(axis: tensorAxis)
        case .logSoftmax: return try x.logSoftmax(axis: tensorAxis)
        case .sqrt: return x.sqrt()
        }
    }

    /// Every function but the softmaxes acts on each value alone.
    public func runsChannelsLast(_ inputs: [[Int]], _ context: ForwardContext) -> Bool {
        switch function {
        case .softmax, .logSoftmax: return false
        default: return true
        }
    }

    public override var epilogueFunction: ConvEpilogue.Function? { fusedActivation?.epilogueFunction }

    public override var fusedActivation: FusedActivation? {
        switch function {
        case .relu: return .relu
        case .relu6: return .relu6
        case .hardswish: return .hardswish
        case .hardsigmoid: return .hardsigmoid
        case .silu: return .silu
        case .sigmoid: return .sigmoid
        case .gelu: return .gelu
        default: return nil
        }
    }

    public override var clampBounds: (low: Float, high: Float)? {
        switch function {
        case .relu: return (0, .infinity)
        case .relu6: return (0, 6)
        default: return nil
        }
    }

    public override var outputsProbabilities: Bool { function == .softmax && axis == 0 }

    public override var details: String {
        if case let .leakyRelu(slope) = function { return "slope \(slope)" }
        return axis == 0 ? "" : "axis \(axis)"
    }
}

// MARK: Export

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
        case .softmax: writer.emit("Softmax", x, output: out, [ONNXWriter.attribute("axis", int: tensorAxis)])
        case .logSoftmax: writer.emit("LogSoftmax", x, output: out, [ONNXWriter.attribute("axis", int: tensorAxis)])
        case .geluTanh:
            // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): opset 17 has no Gelu.
            let cube = writer.emit("Mul", [writer.emit("Mul", [x[0], x[0]]), x[0]])
            let inner = writer.emit("Add", [x[0], writer.emit("Mul", [cube, writer.constant([0.044715], name: node.key("cubic"))])])
            let t = writer.emit("Tanh", [writer.emit("Mul", [inner, writer.constant([Float((2 / Double.pi).squareRoot())], name: node.key("sqrt2pi"))])])
            let shifted = writer.emit("Add", [t, writer.constant([1], name: node.key("one"))])
            writer.emit("Mul", [writer.emit("Mul", [x[0], shifted]), writer.constant([0.5], name: node.key("half"))], output: out)
        case .sqrt: writer.emit("Sqrt", x, output: out)
        }
    }
}

extension Activation: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        switch function {
        case .relu: return PyTorchModule("nn.ReLU()")
        case .relu6: return PyTorchModule("nn.ReLU6()")
        case let .leakyRelu(slope): return PyTorchModule("nn.LeakyReLU(\(Py.float(slope)))")
        case .sigmoid: return PyTorchModule("nn.Sigmoid()")
        case .tanh: return PyTorchModule("nn.Tanh()")
        case .gelu: return PyTorchModule("nn.GELU()")
        case .geluTanh: return PyTorchModule("nn.GELU(approximate=\"tanh\")")
        case .erf: return PyTorchModule("Erf()", helpers: [.erf])
        case .silu: return PyTorchModule("nn.SiLU()")
        case .hardsigmoid: return PyTorchModule("nn.Hardsigmoid()")
        case .hardswish: return PyTorchModule("nn.Hardswish()")
        case .softmax: return PyTorchModule("nn.Softmax(dim=\(tensorAxis))")
        case .logSoftmax: return PyTorchModule("nn.LogSoftmax(dim=\(tensorAxis))")
        case .sqrt: return PyTorchModule("Sqrt()", helpers: [.sqrt])
        }
    }
}

// The Python classes this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let erf = PyTorchHelper("erf", source: #"""
class Erf(nn.Module):
    def forward(self, x):
        return torch.erf(x)
"""#)

    static let sqrt = PyTorchHelper("sqrt", source: #"""
class Sqrt(nn.Module):
    def forward(self, x):
        return torch.sqrt(x)
"""#)
}
