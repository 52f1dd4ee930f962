import GraftTensor

/// An elementwise (or softmax) activation as a layer of its own.
public final class Activation: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        /// The function's lowercased PyTorch name (`relu6`, `leakyrelu`).
        public var name: String
        public var slope: Float?
    }
    public static let key = "activation"

    public enum Function: Sendable, Equatable {
        case relu, relu6, leakyRelu(Float), sigmoid, tanh, gelu, erf, silu, hardsigmoid, hardswish, softmax, logSoftmax, sqrt

        /// PyTorch's module name for it.
        public var name: String {
            switch self {
            case .relu: return "ReLU"
            case .relu6: return "ReLU6"
            case .leakyRelu: return "LeakyReLU"
            case .sigmoid: return "Sigmoid"
            case .tanh: return "Tanh"
            case .gelu: return "GELU"
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

    public init(_ function: Function) {
        self.function = function
        super.init(kind: function.name)
    }

    public convenience init(config c: Config) throws(ModelError) {
        if c.name == "leakyrelu" { self.init(.leakyRelu(c.slope ?? 0.01)); return }
        guard let function = Function(name: c.name) else { throw .invalidArgument(what: "activation", reason: "unknown function '\(c.name)'") }
        self.init(function)
    }

    public var config: Config {
        if case let .leakyRelu(slope) = function { return Config(name: "leakyrelu", slope: slope) }
        return Config(name: kind.lowercased(), slope: nil)
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
        case .erf: return x.erf()
        case .silu: return x.silu()
        case .hardsigmoid: return x.hardsigmoid()
        case .hardswish: return x.hardswish()
        case .softmax: return try x.softmax(axis: 1)
        case .logSoftmax: return try x.logSoftmax(axis: 1)
        case .sqrt: return x.sqrt()
        }
    }

    public override var clampBounds: (low: Float, high: Float)? {
        switch function {
        case .relu: return (0, .infinity)
        case .relu6: return (0, 6)
        default: return nil
        }
    }

    public override var outputsProbabilities: Bool { function == .softmax }

    public override var details: String {
        if case let .leakyRelu(slope) = function { return "slope \(slope)" }
        return ""
    }
}
