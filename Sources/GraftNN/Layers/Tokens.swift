import GraftTensor

/// A patch embedding's feature map as a sequence of tokens: [C, H, W] → [H·W, C], the grid read
/// row by row (timm's `PatchEmbed` and torchvision's `_process_input`: `x.flatten(2).transpose(1, 2)`).
public final class Tokens: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {}
    public static let key = "tokens"
    public init() { super.init(kind: "Tokens") }

    public convenience init(config: Config) throws(ModelError) { self.init() }
    public var config: Config { Config() }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.count == 3 else {
            throw .shapeMismatch(layer: kind, reason: "expects a feature map [C, H, W], got \(formatShape(inputs.first ?? []))")
        }
        return [shape[1] * shape[2], shape[0]]
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        return try x.reshaped([x.shape[0], x.shape[1], x.shape[2] * x.shape[3]]).transposed(1, 2)
    }

    public override var readsGridAsTokens: Bool { true }
}

// MARK: Export

extension Tokens: ONNXExportable {
    /// `Reshape` to [N, C, H·W], then `Transpose` to [N, H·W, C].
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let flat = writer.emit("Reshape", [node.inputs[0], writer.int64Constant([0, node.inputShape[0], -1], name: node.key("shape"))])
        writer.emit("Transpose", [flat], output: node.output, [ONNXWriter.attribute("perm", ints: [0, 2, 1])])
    }
}

extension Tokens: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("Tokens()", helpers: [.tokens]) }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let tokens = PyTorchHelper("tokens", source: #"""
class Tokens(nn.Module):
    """A feature map [N, C, H, W] as tokens [N, H*W, C], the grid row by row."""

    def forward(self, x):
        return x.flatten(2).transpose(1, 2)
"""#)
}
