import GraftTensor

/// x · γ with one learnable γ per channel: on feature maps, γ shaped [C, 1, 1] (ConvNeXt's
/// `layer_scale`, Keras's `LayerScale`); on tokens [T, D], γ shaped [D] on the last axis, named as the
/// source names it (timm's `ls1.gamma`, Hugging Face's `layer_scale1.lambda1`).
public final class LayerScale: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        public var channels: Int, initial: Float
        /// On tokens: γ's name (nil: on feature maps, named `layer_scale`).
        public var tokens: String?
    }
    public static let key = "layerScale"

    public let channels: Int
    public let initial: Float
    public let scale: Parameter
    /// On tokens, γ's name (nil on feature maps).
    public let tokens: String?

    public init(_ channels: Int, initial: Float = 1e-6, tokens: String? = nil) throws(ModelError) {
        guard channels > 0, initial.isFinite, tokens.map({ !$0.isEmpty && $0.utf8.count <= 64 && !$0.contains(".") }) ?? true else {
            throw .invalidArgument(what: "LayerScale", reason: "needs channels > 0, a finite initial value and a plain parameter name")
        }
        (self.channels, self.initial, self.tokens) = (channels, initial, tokens)
        do { scale = Parameter(try Tensor.full(tokens == nil ? [channels, 1, 1] : [channels], initial)) } catch { throw .tensor(layer: "LayerScale", error: error) }
        super.init(kind: "LayerScale")
        adopt(tokens ?? "layer_scale", scale)
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(config.channels, initial: config.initial, tokens: config.tokens) }
    public var config: Config { Config(channels: channels, initial: initial, tokens: tokens) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, (tokens == nil ? shape.first : shape.last) == channels else {
            throw .shapeMismatch(layer: kind, reason: "expects \(channels) channels \(tokens == nil ? "first" : "last"), got \(formatShape(inputs.first ?? []))")
        }
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        if tokens != nil { return try x * scale.value }
        return try x * scale.value.reshaped([channels] + [Int](repeating: 1, count: x.rank - 2))
    }
}

// MARK: Export

extension LayerScale: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let shaped = tokens != nil ? scale.value : try scale.value.reshaped([channels] + [Int](repeating: 1, count: Swift.max(0, node.inputShape.count - 1)))
        writer.emit("Mul", [node.inputs[0], writer.initializer(node.key(tokens ?? "layer_scale"), shaped)], output: node.output)
    }
}

extension LayerScale: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        if let tokens { return PyTorchModule("TokenScale(\(channels), \(Py.string(tokens)), \(Py.float(initial)))", helpers: [.tokenScale]) }
        return PyTorchModule("LayerScale(\(channels), \(Py.float(initial)))", helpers: [.layerScale])
    }
}

// The Python classes this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let layerScale = PyTorchHelper("layerScale", source: #"""
class LayerScale(nn.Module):
    """Multiplies each channel by a learned scale (ConvNeXt), a parameter named layer_scale."""

    def __init__(self, channels, initial=1e-6):
        super().__init__()
        self.layer_scale = nn.Parameter(torch.full((channels, 1, 1), initial))

    def forward(self, x):
        return x * self.layer_scale.reshape((-1,) + (1,) * (x.dim() - 2))
"""#)

    static let tokenScale = PyTorchHelper("tokenScale", source: #"""
class TokenScale(nn.Module):
    """Multiplies tokens [N, T, D] by a learned scale per channel [D], under the source's name
    (timm's gamma, Hugging Face's lambda1)."""

    def __init__(self, channels, name="gamma", initial=1e-5):
        super().__init__()
        self.name = name
        self.register_parameter(name, nn.Parameter(torch.full((channels,), initial)))

    def forward(self, x):
        return x * getattr(self, self.name)
"""#)
}
