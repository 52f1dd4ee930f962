import GraftTensor

/// PyTorch's `AdaptiveAvgPool2d(out)`: average pooling onto a fixed out-H × out-W grid, cell i
/// averaging input rows ⌊i·H/outH⌋ ..< ⌈(i+1)·H/outH⌉ (and the same for columns). Computed as two
/// products with averaging matrices, so any input size works and gradients flow through `linear`.
public final class AdaptiveAvgPool2d: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable { public var output: [Int] }
    public static let key = "adaptiveAvgPool2d"

    public let output: (Int, Int)

    public init(_ output: (Int, Int)) throws(ModelError) {
        guard output.0 > 0, output.1 > 0, output.0 <= 4096, output.1 <= 4096 else {
            throw .invalidArgument(what: "AdaptiveAvgPool2d", reason: "output size must be 1…4096")
        }
        self.output = output
        super.init(kind: "AdaptiveAvgPool2d")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(try configPair(config.output, "output", layer: Self.key)) }
    public var config: Config { Config(output: [output.0, output.1]) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = try requireImage(inputs, kind)
        return [shape[0], output.0, output.1]
    }

    /// The [out, size] matrix whose row i averages cell i's inputs.
    public static func averaging(_ size: Int, _ out: Int) throws(TensorError) -> Tensor {
        var values = [Float](repeating: 0, count: out * size)
        for i in 0..<out {
            let start = i * size / out, end = ((i + 1) * size + out - 1) / out
            for j in start..<end { values[i * size + j] = 1 / Float(end - start) }
        }
        return try Tensor(shape: [out, size], scalars: values)
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        let (h, w) = (x.shape[2], x.shape[3])
        if h == output.0 && w == output.1 { return x }
        let columns = try x.linear(Self.averaging(w, output.1))                 // [N, C, H, outW]
        let rows = try columns.transposed().linear(Self.averaging(h, output.0))  // [N, C, outW, outH]
        return try rows.transposed()
    }

    public override var details: String { "\(output.0)×\(output.1)" }
}

// MARK: Export

extension AdaptiveAvgPool2d: ONNXExportable {
    /// The same two products with averaging matrices (for the declared input size), as MatMul and Transpose.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let (h, w) = (node.inputShape[1], node.inputShape[2])
        let columns = writer.emit("MatMul", [node.inputs[0], writer.initializer(node.key("columns"), try AdaptiveAvgPool2d.averaging(w, output.1).transposed())])
        let swapped = writer.emit("Transpose", [columns], [ONNXWriter.attribute("perm", ints: [0, 1, 3, 2])])
        let rows = writer.emit("MatMul", [swapped, writer.initializer(node.key("rows"), try AdaptiveAvgPool2d.averaging(h, output.0).transposed())])
        writer.emit("Transpose", [rows], output: node.output, [ONNXWriter.attribute("perm", ints: [0, 1, 3, 2])])
    }
}

extension AdaptiveAvgPool2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("nn.AdaptiveAvgPool2d(\(Py.pair(output)))") }
}
