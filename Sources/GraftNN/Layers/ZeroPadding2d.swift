import GraftTensor

/// Zero padding around the spatial axes of [C, H, W].
public final class ZeroPadding2d: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        /// [top, bottom, left, right].
        public var padding: [Int]
    }
    public static let key = "zeroPadding2d"
    public let padding: Padding2D

    public init(_ padding: Padding2D) throws(ModelError) {
        guard [padding.top, padding.bottom, padding.left, padding.right].allSatisfy({ $0 >= 0 && $0 <= windowLimit }) else {
            throw .invalidArgument(what: "ZeroPad2d", reason: "padding must be 0…\(windowLimit)")
        }
        self.padding = padding
        super.init(kind: "ZeroPad2d")
    }

    public convenience init(config: Config) throws(ModelError) {
        guard config.padding.count == 4 else { throw .invalidArgument(what: "ZeroPad2d", reason: "padding needs 4 values, got \(config.padding)") }
        let p = config.padding
        try self.init(Padding2D(top: p[0], bottom: p[1], left: p[2], right: p[3]))
    }
    public var config: Config { Config(padding: [padding.top, padding.bottom, padding.left, padding.right]) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = try requireImage(inputs, kind)
        return [shape[0], shape[1] + padding.top + padding.bottom, shape[2] + padding.left + padding.right]
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].padded([(0, 0), (0, 0), (padding.top, padding.bottom), (padding.left, padding.right)])
    }

    public override var details: String { "\(padding)" }
}

// MARK: Export

extension ZeroPadding2d: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let p = padding
        writer.emit("Pad", [node.inputs[0], writer.int64Constant([0, 0, p.top, p.left, 0, 0, p.bottom, p.right], name: node.key("pads"))], output: node.output)
    }
}

extension ZeroPadding2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("nn.ZeroPad2d(\(Py.ints([padding.left, padding.right, padding.top, padding.bottom])))")
    }
}
