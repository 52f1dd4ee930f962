import GraftTensor

/// Inference fusion: a convolution followed by a BatchNorm that normalizes with its running
/// statistics, and then by a ReLU, ReLU6 or clip (or a convolution followed by one of those
/// alone), runs as one convolution that applies the BatchNorm's per-channel affine map and the
/// activation to each plane as it writes it: one pass over memory instead of three, and the same
/// bits as running the layers one by one (the same arithmetic in the same order; tested).
///
/// It applies where nothing needs a gradient — `predict`, evaluation, feature caching, and frozen
/// layers in training (their BatchNorm is in inference mode) — and where no one asks for the
/// intermediate outputs. `Model.$fusesInference.withValue(false)` runs the layers one by one.
extension Model {
    /// Whether forward passes fuse (on by default; off for checks against the layer-by-layer path).
    @TaskLocal public static var fusesInference = true

    /// Nodes run as one fused convolution: the convolution, then the BatchNorm and the activation when present.
    struct FusedGroup {
        let convolution: Int
        let batchNorm: Int?
        let activation: Int?
        var last: Int { activation ?? batchNorm ?? convolution }
    }

    /// The fused group starting at `index`, when its nodes qualify in this pass: `uses` counts each
    /// node's consumers among the nodes that run; outputs in `kept` (and `end`) must stay visible.
    func fusedGroup(at index: Int, uses: [Int], end: Int, kept: Set<Int>, _ context: ForwardContext) -> FusedGroup? {
        guard Model.fusesInference, nodes[index].layer is Conv2d else { return nil }
        /// The single consumer of `node`, when it takes `node` alone and the output of `node` may stay hidden.
        func onlyConsumer(of node: Int) -> Int? {
            guard node != end, !kept.contains(node), uses[node] == 1, node + 1 <= end else { return nil }
            guard let next = (node + 1...end).first(where: { nodes[$0].inputs.contains(node) }), nodes[next].inputs == [node] else { return nil }
            return next
        }
        var batchNorm: Int?
        if let next = onlyConsumer(of: index), let norm = nodes[next].layer as? BatchNorm, !(context.training && norm.trainsStatistics) {
            batchNorm = next
        }
        var activation: Int?
        if let next = onlyConsumer(of: batchNorm ?? index), clampBounds(of: nodes[next].layer) != nil {
            activation = next
        }
        guard batchNorm != nil || activation != nil else { return nil }
        return FusedGroup(convolution: index, batchNorm: batchNorm, activation: activation)
    }

    /// The bounds of an activation that clamps: ReLU 0…∞, ReLU6 0…6, a clip its own.
    func clampBounds(of layer: Layer) -> (low: Float, high: Float)? {
        if let activation = layer as? Activation {
            switch activation.function {
            case .relu: return (0, .infinity)
            case .relu6: return (0, 6)
            default: return nil
            }
        }
        if let clamp = layer as? Clamp { return (clamp.low, clamp.high) }
        return nil
    }

    /// Runs a fused group on the convolution's input, or returns nil when an operand needs a
    /// gradient (the layers then run one by one and record it).
    func runFused(_ group: FusedGroup, input x: Tensor) throws(TensorError) -> Tensor? {
        guard let conv = nodes[group.convolution].layer as? Conv2d else { return nil }
        let norm = group.batchNorm.flatMap { nodes[$0].layer as? BatchNorm }
        let operands = [x, conv.weight.value] + [conv.bias?.value, norm?.weight?.value, norm?.bias?.value].compactMap { $0 }
        guard !Tensor.wouldRecord(operands) else { return nil }
        var epilogue = ConvEpilogue()
        if let norm {
            (epilogue.scale, epilogue.shift) = try Tensor.batchNormInferenceAffine(
                weight: norm.weight?.value, bias: norm.bias?.value, runningMean: norm.runningMean, runningVar: norm.runningVar, epsilon: norm.epsilon)
        }
        if let bounds = group.activation.flatMap({ clampBounds(of: nodes[$0].layer) }) { (epilogue.low, epilogue.high) = bounds }
        let pad = conv.padding.resolve(height: x.shape[2], width: x.shape[3], kernel: conv.kernel, stride: conv.stride, dilation: conv.dilation)
        return try x.conv2dInference(conv.weight.value, bias: conv.bias?.value, stride: conv.stride, padding: pad, dilation: conv.dilation,
                                     groups: conv.groups, epilogue: epilogue)
    }
}
