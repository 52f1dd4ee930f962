import GraftTensor

/// Flattens each sample: [C, H, W] → [C·H·W].
public final class Flatten: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {}
    public static let key = "flatten"
    public init() { super.init(kind: "Flatten") }

    public convenience init(config: Config) throws(ModelError) { self.init() }
    public var config: Config { Config() }
    public override var isHeadBoundary: Bool { true }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] { [try elementCount(inputs.first ?? [], layer: kind)] }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].flattened(from: 1)
    }
}

// MARK: Export

extension Flatten: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Flatten", node.inputs, output: node.output, [ONNXWriter.attribute("axis", int: 1)])
    }
}

extension Flatten: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("nn.Flatten()") }
}
