import GraftTensor

/// Learned tokens put before a sequence: [T, D] → [k + T, D]. A class token (timm's `cls_token`,
/// torchvision's `class_token`, Hugging Face's `embeddings.cls_token`), DeiT's distillation token,
/// DINOv2's register tokens. Its one parameter, [1, k, D] as the checkpoints store it, has no name
/// of its own: its key is the layer's name (`cls_token`). Tokens of several kinds are layers in a
/// row, the last one's tokens first (timm's order [cls, dist, patches] is `dist_token`, then `cls_token`).
public final class PrefixTokens: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        public var count: Int
        public var width: Int
    }
    public static let key = "prefixTokens"

    public let count: Int
    public let width: Int
    public let tokens: Parameter

    public init(count: Int, width: Int, generator: Generator) throws(ModelError) {
        guard (1...4096).contains(count), featuresFit(width) else {
            throw .invalidArgument(what: "PrefixTokens", reason: "needs 1…4096 tokens of width 1…\(featureLimit)")
        }
        (self.count, self.width) = (count, width)
        // timm draws them from N(0, 0.02²) (trunc_normal_ and normal_ agree at this scale).
        do { tokens = Parameter(try Tensor.randomNormal([1, count, width], generator: generator) * 0.02) } catch { throw .tensor(layer: "PrefixTokens", error: error) }
        super.init(kind: "PrefixTokens")
        adopt("", tokens)
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(count: config.count, width: config.width, generator: configGenerator()) }
    public var config: Config { Config(count: count, width: width) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.count == 2, shape[1] == width else {
            throw .shapeMismatch(layer: kind, reason: "expects tokens [T, \(width)], got \(formatShape(inputs.first ?? []))")
        }
        return [count + shape[0], width]
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        return try Tensor.concatenate([try tokens.value.broadcast(to: [x.shape[0], count, width]), x], axis: 1)
    }

    public override var details: String { "\(count) token\(count == 1 ? "" : "s")" }
}

// MARK: Export

extension PrefixTokens: ONNXExportable {
    /// The tokens `Expand`ed to the batch ([N, k, D], N from the input's `Shape`), then `Concat`
    /// before the input on the token axis: what torch.onnx.export writes for `cls_token.expand(B, -1, -1)`.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let x = node.inputs[0]
        let batch = writer.emit("Slice", [writer.emit("Shape", [x]), writer.int64Constant([0], name: node.key("start")),
                                          writer.int64Constant([1], name: node.key("end"))])
        let shape = writer.emit("Concat", [batch, writer.int64Constant([count, width], name: node.key("size"))], [ONNXWriter.attribute("axis", int: 0)])
        let expanded = writer.emit("Expand", [writer.initializer(node.name, tokens.value), shape])
        writer.emit("Concat", [expanded, x], output: node.output, [ONNXWriter.attribute("axis", int: 1)])
    }
}

extension PrefixTokens: PyTorchExportable {
    /// A bare `nn.Parameter` at the layer's name (its state_dict key), put before the tokens by `prefix_tokens`.
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("nn.Parameter(torch.zeros(1, \(count), \(width)))", function: "prefix_tokens", helpers: [.prefixTokens])
    }
}

// The Python function this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let prefixTokens = PyTorchHelper("prefixTokens", source: #"""
def prefix_tokens(tokens, x):
    """Learned tokens [1, k, D] put before every sample's tokens [N, T, D]."""
    return torch.cat([tokens.expand(x.shape[0], -1, -1), x], 1)
"""#)
}
