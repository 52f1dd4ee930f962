import GraftTensor

/// Inference fusion: a convolution followed by a BatchNorm that normalizes with its running
/// statistics, and then by a ReLU, ReLU6, clip, hardswish, hardsigmoid, SiLU, sigmoid or GELU (or a
/// convolution followed by one of those alone), runs as one convolution that applies the BatchNorm's
/// per-channel affine map and the activation to each plane as it writes it: one pass over memory
/// instead of three, and the same bits as running the layers one by one (the same arithmetic in the
/// same order; tested). A linear layer followed by one of those activations runs the same way, the
/// activation applied to each block of its output as the product finishes it.
///
/// It applies where nothing needs a gradient — `predict`, evaluation, feature caching, and frozen
/// layers in training (their BatchNorm is in inference mode) — and where no one asks for the
/// intermediate outputs. `Model.$fusesInference.withValue(false)` runs the layers one by one.
extension Model {
    /// Whether forward passes fuse — inference fusion here, normalization fusion (NormalizationFusion.swift)
    /// in training too — on by default; off for checks against the layer-by-layer path.
    @TaskLocal public static var fusesInference = true

    /// Nodes run as one fused convolution: the convolution, then the BatchNorm and the activation when present.
    struct FusedGroup {
        let convolution: Int
        let batchNorm: Int?
        let activation: Int?
        /// The BatchNorm's per-channel map in this pass (computed once, when the group is found).
        var affine: (scale: [Float], shift: [Float])? = nil
        var last: Int { activation ?? batchNorm ?? convolution }
    }

    /// The fused group starting at `index`, when its nodes qualify in this pass: `uses` counts each
    /// node's consumers among the nodes that run; outputs in `kept` (and `end`) must stay visible.
    func fusedGroup(at index: Int, uses: [Int], end: Int, kept: Set<Int>, _ context: ForwardContext) -> FusedGroup? {
        guard Model.fusesInference, let layer = nodes[index].layer as? any FusesEpilogue else { return nil }
        func onlyConsumer(of node: Int) -> Int? { self.onlyConsumer(of: node, uses: uses, end: end, kept: kept) }
        var batchNorm: Int?
        var map: (scale: [Float], shift: [Float])?
        if layer.fusesChannelAffine, let next = onlyConsumer(of: index), let affine = nodes[next].layer as? any ChannelAffine,
           let found = try? affine.channelAffine(training: context.training) {
            (batchNorm, map) = (next, found)
        }
        var activation: Int?
        if let next = onlyConsumer(of: batchNorm ?? index), nodes[next].layer.clampBounds != nil || nodes[next].layer.epilogueFunction != nil {
            activation = next
        }
        guard batchNorm != nil || activation != nil else { return nil }
        return FusedGroup(convolution: index, batchNorm: batchNorm, activation: activation, affine: map)
    }

    /// The single consumer of `node` up to `end`, when it takes `node` alone and the output of `node`
    /// may stay hidden (not in `kept`, not `end`, one use).
    func onlyConsumer(of node: Int, uses: [Int], end: Int, kept: Set<Int>) -> Int? {
        guard node != end, !kept.contains(node), uses[node] == 1, node + 1 <= end else { return nil }
        guard let next = (node + 1...end).first(where: { nodes[$0].inputs.contains(node) }), nodes[next].inputs == [node] else { return nil }
        return next
    }

    /// Runs a fused group on the convolution's input, or returns nil when an operand needs a
    /// gradient (the layers then run one by one and record it).
    func runFused(_ group: FusedGroup, input x: Tensor) throws(TensorError) -> Tensor? {
        guard let conv = nodes[group.convolution].layer as? any FusesEpilogue else { return nil }
        let affine = group.batchNorm.flatMap { nodes[$0].layer as? any ChannelAffine }
        guard !Tensor.wouldRecord([x] + conv.fusionOperands + (affine?.affineOperands ?? [])) else { return nil }
        return try conv.forward(x, epilogue: epilogue(of: group))
    }

    /// The group's BatchNorm map and clamp, as its convolution applies them.
    func epilogue(of group: FusedGroup) -> ConvEpilogue {
        var epilogue = ConvEpilogue()
        if let map = group.affine { (epilogue.scale, epilogue.shift) = map }
        if let bounds = group.activation.flatMap({ nodes[$0].layer.clampBounds }) { (epilogue.low, epilogue.high) = bounds }
        epilogue.function = group.activation.flatMap { nodes[$0].layer.epilogueFunction }
        return epilogue
    }
}
