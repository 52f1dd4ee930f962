import GraftTensor

/// A layer kind that writes itself as standard ONNX operators (inference semantics). Each kind's
/// conformance sits in its own file under `Layers/`; GraftModels' `ONNXExporter` walks the model
/// and encodes what the kinds wrote as an ONNX file.
public protocol ONNXExportable {
    /// Appends the operators computing `node.output` from `node.inputs`.
    func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws
}

/// The graph being written, as plain values: operators in order, initializers, fresh names. It
/// knows no wire format (GraftModels encodes it).
public struct ONNXWriter {
    /// The layer being exported: its name (also its output's), input value names and shapes.
    public struct Node {
        public let name: String
        public let inputs: [String]
        /// The first input's shape without the batch axis.
        public let inputShape: [Int]
        public let outputShape: [Int]
        public var output: String { name }

        public init(name: String, inputs: [String], inputShape: [Int], outputShape: [Int]) {
            (self.name, self.inputs, self.inputShape, self.outputShape) = (name, inputs, inputShape, outputShape)
        }

        /// A name under this layer (`layer1.0.conv1.weight`).
        public func key(_ suffix: String) -> String { "\(name).\(suffix)" }

        /// ONNX pads [top, left, bottom, right] for a window over this node's input.
        func pads(_ mode: PaddingMode, kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int) = (1, 1)) -> [Int] {
            let p = mode.resolve(height: inputShape[1], width: inputShape[2], kernel: kernel, stride: stride, dilation: dilation)
            return [p.top, p.left, p.bottom, p.right]
        }
    }

    /// An operator's attribute.
    public enum Attribute: Equatable, Sendable {
        case int(String, Int)
        case ints(String, [Int])
        case float(String, Float)
        case string(String, String)
    }

    /// One operator: its type, its node name, its inputs' and output's value names.
    public struct Operator: Sendable {
        public let op: String
        public let name: String
        public let inputs: [String]
        public let output: String
        public let attributes: [Attribute]
    }

    /// A named constant of the graph: float32 weights or int64 shape values (a vector).
    public enum Initializer: Sendable {
        case float(name: String, Tensor)
        case int64(name: String, [Int])
    }

    public private(set) var operators: [Operator] = []
    public private(set) var initializers: [Initializer] = []
    private var counter = 0

    public init() {}

    /// A float initializer; returns its name.
    @discardableResult
    public mutating func initializer(_ name: String, _ tensor: Tensor) -> String {
        initializers.append(.float(name: name, tensor))
        return name
    }

    /// A float constant of the given shape ([] for a scalar).
    public mutating func constant(_ values: [Float], shape: [Int] = [], name: String) -> String {
        initializer(name, (try? Tensor(shape: shape, scalars: values)) ?? Tensor(0))
    }

    /// An int64 vector (a shape, axes, pads); returns its name.
    public mutating func int64Constant(_ values: [Int], name: String) -> String {
        initializers.append(.int64(name: name, values))
        return name
    }

    public static func attribute(_ name: String, ints: [Int]) -> Attribute { .ints(name, ints) }
    public static func attribute(_ name: String, int: Int) -> Attribute { .int(name, int) }
    public static func attribute(_ name: String, float: Float) -> Attribute { .float(name, float) }
    public static func attribute(_ name: String, string: String) -> Attribute { .string(name, string) }

    /// Appends one operator; returns its output's name (`output`, or a fresh one).
    @discardableResult
    public mutating func emit(_ op: String, _ inputs: [String], output: String? = nil, _ attributes: [Attribute] = []) -> String {
        counter += 1
        let name = output ?? "\(op.lowercased())_\(counter)"
        operators.append(Operator(op: op, name: "\(op)_\(counter)", inputs: inputs, output: name, attributes: attributes))
        return name
    }
}
