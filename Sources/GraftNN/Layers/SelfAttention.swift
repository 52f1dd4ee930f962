import GraftTensor

/// Multi-head self-attention on tokens [T, D]: q, k and v from one projection of the input,
/// softmax(q kᵀ / √d) v in each of `heads` heads of d = D / heads, the heads side by side, then an
/// output projection (ViT's attention; `Tensor.selfAttention` computes the middle).
///
/// Its weights carry the names of the framework the model came from: timm's `qkv` and `proj`,
/// torchvision's `in_proj_weight`/`in_proj_bias` and `out_proj` (the same fused [3D, D] layout, q
/// rows first), or Hugging Face's separate `attention.query`, `attention.key`, `attention.value` and
/// `output.dense`.
public final class SelfAttention: Layer, LayerKind {
    /// Whose parameter names (and so layout) the layer keeps.
    public enum Naming: String, Codable, Sendable, Equatable, CaseIterable {
        case timm, torchvision, huggingface
    }

    public struct Config: Codable, Sendable, Equatable {
        public var width: Int
        public var heads: Int
        /// Whether q, k and v have biases (the output projection always has one).
        public var bias: Bool
        public var naming: Naming
    }
    public static let key = "selfAttention"

    public let width: Int
    public let heads: Int
    public let naming: Naming
    /// q, k, v weights: one [3D, D] (timm, torchvision) or three [D, D] (Hugging Face).
    public let projections: [Parameter]
    public let projectionBiases: [Parameter]
    public let output: Parameter
    public let outputBias: Parameter

    public init(width: Int, heads: Int, bias: Bool = true, naming: Naming = .timm, generator: Generator) throws(ModelError) {
        guard featuresFit(width), (1...width).contains(heads), width % heads == 0 else {
            throw .invalidArgument(what: "SelfAttention", reason: "needs a width of 1…\(featureLimit) divisible by its 1…width heads (got \(width) and \(heads))")
        }
        (self.width, self.heads, self.naming) = (width, heads, naming)
        do {
            (projections, projectionBiases, output, outputBias) = try Self.drawProjections(width: width, naming: naming, bias: bias, generator: generator)
        } catch { throw .tensor(layer: "SelfAttention", error: error) }
        super.init(kind: "SelfAttention")
        let names = Self.names(naming)
        for (index, parameter) in projections.enumerated() { adopt(names.weights[index], parameter) }
        for (index, parameter) in projectionBiases.enumerated() { adopt(names.biases[index], parameter) }
        adopt(names.output, output)
        adopt(names.outputBias, outputBias)
    }

    /// q, k and v weights (one [3D, D], or Hugging Face's three [D, D]) with their biases, and the
    /// output projection, drawn as PyTorch's nn.Linear draws them: U(±1/√fan-in), in that order.
    static func drawProjections(width: Int, naming: Naming, bias: Bool, generator: Generator) throws(TensorError)
        -> (projections: [Parameter], biases: [Parameter], output: Parameter, outputBias: Parameter) {
        let parts = naming == .huggingface ? 3 : 1
        let rows = width * 3 / parts
        let limit = 1 / Float(width).squareRoot()
        let projections = try (0..<parts).map { _ throws(TensorError) in Parameter(try Tensor.randomUniform([rows, width], low: -limit, high: limit, generator: generator)) }
        let biases = bias ? try (0..<parts).map { _ throws(TensorError) in Parameter(try Tensor.randomUniform([rows], low: -limit, high: limit, generator: generator)) } : []
        let output = Parameter(try Tensor.randomUniform([width, width], low: -limit, high: limit, generator: generator))
        let outputBias = Parameter(try Tensor.randomUniform([width], low: -limit, high: limit, generator: generator))
        return (projections, biases, output, outputBias)
    }

    /// The fused q, k, v weight [3D, D] and bias [3D] of one or three projections.
    static func fuse(_ projections: [Parameter], _ biases: [Parameter]) throws(TensorError) -> (weight: Tensor, bias: Tensor?) {
        if projections.count == 1 { return (projections[0].value, biases.first?.value) }
        let weight = try Tensor.concatenate(projections.map(\.value), axis: 0)
        let bias = biases.isEmpty ? nil : try Tensor.concatenate(biases.map(\.value), axis: 0)
        return (weight, bias)
    }

    /// The parameters' names under each naming.
    static func names(_ naming: Naming) -> (weights: [String], biases: [String], output: String, outputBias: String) {
        switch naming {
        case .timm: return (["qkv.weight"], ["qkv.bias"], "proj.weight", "proj.bias")
        case .torchvision: return (["in_proj_weight"], ["in_proj_bias"], "out_proj.weight", "out_proj.bias")
        case .huggingface:
            let parts = ["query", "key", "value"]
            return (parts.map { "attention.\($0).weight" }, parts.map { "attention.\($0).bias" }, "output.dense.weight", "output.dense.bias")
        }
    }

    public convenience init(config c: Config) throws(ModelError) {
        try self.init(width: c.width, heads: c.heads, bias: c.bias, naming: c.naming, generator: configGenerator())
    }
    public var config: Config { Config(width: width, heads: heads, bias: !projectionBiases.isEmpty, naming: naming) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.count == 2, shape[1] == width else {
            throw .shapeMismatch(layer: kind, reason: "expects tokens [T, \(width)], got \(formatShape(inputs.first ?? []))")
        }
        return shape
    }

    /// The fused q, k, v weight [3D, D] and bias [3D].
    func fused() throws(TensorError) -> (weight: Tensor, bias: Tensor?) { try Self.fuse(projections, projectionBiases) }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let (weight, bias) = try fused()
        let attended = try inputs[0].linear(weight, bias: bias).selfAttention(heads: heads)
        return try attended.linear(output.value, bias: outputBias.value)
    }

    public override var details: String { "\(heads) heads of \(width / heads)" }
    public override var attendsAcrossTokens: Bool { true }
}

// MARK: Export

extension SelfAttention: ONNXExportable {
    /// Standard operators: `MatMul` + `Add` to q, k, v; for each a `Slice`, a `Reshape` to
    /// [N, T, heads, d] and a `Transpose` to [N, heads, T, d] (k to [N, heads, d, T]); `MatMul`,
    /// `Mul` by 1/√d, `Softmax` on the last axis, `MatMul` by v; back to [N, T, D]; the output projection.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let d = width / heads
        let (weight, bias) = try fused()
        var qkv = writer.emit("MatMul", [node.inputs[0], writer.initializer(node.key("qkv_t"), try weight.transposed())])
        if let bias { qkv = writer.emit("Add", [qkv, writer.initializer(node.key("qkv_bias"), bias)]) }
        let split = writer.int64Constant([0, 0, heads, d], name: node.key("split_heads"))
        let axis = writer.int64Constant([2], name: node.key("axis"))
        func part(_ index: Int, order: [Int]) -> String {
            let start = writer.int64Constant([index * width], name: node.key("start\(index)"))
            let end = writer.int64Constant([(index + 1) * width], name: node.key("end\(index)"))
            let sliced = writer.emit("Slice", [qkv, start, end, axis])
            return writer.emit("Transpose", [writer.emit("Reshape", [sliced, split])], [ONNXWriter.attribute("perm", ints: order)])
        }
        let (q, k, v) = (part(0, order: [0, 2, 1, 3]), part(1, order: [0, 2, 3, 1]), part(2, order: [0, 2, 1, 3]))
        let scores = writer.emit("Mul", [writer.emit("MatMul", [q, k]), writer.constant([1 / Float(d).squareRoot()], name: node.key("scale"))])
        let weights = writer.emit("Softmax", [scores], [ONNXWriter.attribute("axis", int: -1)])
        let heads = writer.emit("Transpose", [writer.emit("MatMul", [weights, v])], [ONNXWriter.attribute("perm", ints: [0, 2, 1, 3])])
        let merged = writer.emit("Reshape", [heads, writer.int64Constant([0, 0, width], name: node.key("merge_heads"))])
        let projected = writer.emit("MatMul", [merged, writer.initializer(node.key("proj_t"), try output.value.transposed())])
        writer.emit("Add", [projected, writer.initializer(node.key("proj_bias"), outputBias.value)], output: node.output)
    }
}

extension SelfAttention: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("SelfAttention(\(width), \(heads), bias=\(Py.bool(!projectionBiases.isEmpty)), naming=\(Py.string(naming.rawValue)))",
                      helpers: [.selfAttention])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let selfAttention = PyTorchHelper("selfAttention", source: #"""
class SelfAttention(nn.Module):
    """Multi-head self-attention on tokens [N, T, D] (scaled_dot_product_attention), its weights under
    the names of the framework the model came from: timm (qkv, proj), torchvision (in_proj_weight,
    in_proj_bias, out_proj) or Hugging Face (attention.query/key/value, output.dense)."""

    def __init__(self, width, heads, bias=True, naming="timm"):
        super().__init__()
        self.width, self.heads, self.naming = width, heads, naming
        if naming == "timm":
            self.qkv = nn.Linear(width, 3 * width, bias=bias)
            self.proj = nn.Linear(width, width)
        elif naming == "torchvision":
            self.in_proj_weight = nn.Parameter(torch.zeros(3 * width, width))
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * width)) if bias else None
            self.out_proj = nn.Linear(width, width)
        else:
            self.attention = nn.Module()
            self.attention.query = nn.Linear(width, width, bias=bias)
            self.attention.key = nn.Linear(width, width, bias=bias)
            self.attention.value = nn.Linear(width, width, bias=bias)
            self.output = nn.Module()
            self.output.dense = nn.Linear(width, width)

    def forward(self, x):
        n, t, _ = x.shape
        if self.naming == "timm":
            qkv, project = self.qkv(x), self.proj
        elif self.naming == "torchvision":
            qkv, project = F.linear(x, self.in_proj_weight, self.in_proj_bias), self.out_proj
        else:
            qkv = torch.cat([self.attention.query(x), self.attention.key(x), self.attention.value(x)], -1)
            project = self.output.dense
        q, k, v = (part.reshape(n, t, self.heads, -1).transpose(1, 2) for part in qkv.split(self.width, -1))
        return project(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(n, t, self.width))
"""#)
}
