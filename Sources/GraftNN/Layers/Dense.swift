import GraftTensor

/// A fully connected layer, y = x·Wᵀ + b, with weight [out, in] as in PyTorch's `Linear`.
public final class Dense: Layer {
    public let inFeatures: Int, outFeatures: Int

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: Generator, kind: String = "Linear") throws(ModelError) {
        guard inFeatures > 0, outFeatures > 0 else {
            throw .invalidArgument(what: kind, reason: "features must be positive, got \(inFeatures) → \(outFeatures)")
        }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        super.init(kind: kind)
        do {
            register("weight", try Initializer.glorotUniform([outFeatures, inFeatures], fanIn: inFeatures, fanOut: outFeatures, generator: generator))
            if bias { register("bias", try Tensor.zeros([outFeatures])) }
        } catch { throw .tensor(layer: kind, error: error) }
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.last == inFeatures else {
            throw .shapeMismatch(layer: kind, reason: "expects \(inFeatures) input features, got \(formatShape(inputs.first ?? []))")
        }
        return Array(shape.dropLast()) + [outFeatures]
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        guard let weight = parameter("weight") else { return inputs[0] }
        return try inputs[0].linear(weight, bias: parameter("bias"))
    }

    public override var details: String { "\(inFeatures) → \(outFeatures)" }
}
