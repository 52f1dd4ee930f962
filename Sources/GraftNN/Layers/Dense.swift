import GraftTensor

/// A fully connected layer, y = x·Wᵀ + b, with weight [out, in] as in PyTorch's `Linear`. It acts
/// on the last axis, so it also runs on [H, W, C] or [T, C] samples.
public final class Dense: Layer, LayerKind, FusesEpilogue {
    public struct Config: Codable, Sendable, Equatable {
        public var inFeatures: Int, outFeatures: Int, bias: Bool, kind: String
    }
    public static let key = "dense"

    public let inFeatures: Int, outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: Generator, kind: String = "Linear") throws(ModelError) {
        guard featuresFit(inFeatures, outFeatures) else {
            throw .invalidArgument(what: kind, reason: "features must be 1…\(featureLimit), got \(inFeatures) → \(outFeatures)")
        }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        do {
            let w = try Initializer.glorotUniform([outFeatures, inFeatures], fanIn: inFeatures, fanOut: outFeatures, generator: generator)
            let b = bias ? try Tensor.zeros([outFeatures]) : nil
            weight = Parameter(w)
            self.bias = b.map { Parameter($0) }
        } catch { throw .tensor(layer: kind, error: error) }
        super.init(kind: kind)
        adopt("weight", weight)
        if let b = self.bias { adopt("bias", b) }
    }

    public convenience init(config c: Config) throws(ModelError) {
        try self.init(c.inFeatures, c.outFeatures, bias: c.bias, generator: configGenerator(), kind: c.kind)
    }

    public var config: Config { Config(inFeatures: inFeatures, outFeatures: outFeatures, bias: bias != nil, kind: kind) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.last == inFeatures else {
            throw .shapeMismatch(layer: kind, reason: "expects \(inFeatures) input features, got \(formatShape(inputs.first ?? []))")
        }
        return Array(shape.dropLast()) + [outFeatures]
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].linear(weight.value, bias: bias?.value)
    }

    /// An activation after it (a transformer MLP's GELU, a head's ReLU) is applied as the product
    /// finishes each block of the output (inference fusion).
    public func forward(_ x: Tensor, epilogue: ConvEpilogue) throws(TensorError) -> Tensor {
        try x.linearInference(weight.value, bias: bias?.value, epilogue: epilogue)
    }

    public var fusionOperands: [Tensor] { [weight.value, bias?.value].compactMap { $0 } }
    /// A BatchNorm's channel axis is not a linear layer's feature axis once samples have more than one.
    public var fusesChannelAffine: Bool { false }

    public override var mixesFeatures: Bool { true }
    public override var details: String { "\(inFeatures) → \(outFeatures)" }
}

// MARK: Export

extension Dense: ONNXExportable {
    /// `Gemm` on [N, in]; `MatMul` (+ `Add`) on higher-rank samples, over the last axis.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        if node.inputShape.count == 1 {
            var inputs = [node.inputs[0], writer.initializer(node.key("weight"), weight.value)]
            if let bias { inputs.append(writer.initializer(node.key("bias"), bias.value)) }
            writer.emit("Gemm", inputs, output: node.output, [ONNXWriter.attribute("transB", int: 1)])
        } else {
            let transposed = writer.initializer(node.key("weight_t"), try weight.value.transposed())
            let product = writer.emit("MatMul", [node.inputs[0], transposed], output: bias == nil ? node.output : nil)
            if let bias { writer.emit("Add", [product, writer.initializer(node.key("bias"), bias.value)], output: node.output) }
        }
    }
}

extension Dense: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("nn.Linear(\(inFeatures), \(outFeatures)\(bias == nil ? ", bias=False" : ""))")
    }
}
