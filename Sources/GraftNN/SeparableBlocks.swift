import GraftTensor

/// Fused separable blocks: in a channels-last chain, an inverted-residual block — a pointwise
/// expansion, a depthwise convolution and a pointwise projection, each with the BatchNorm and the
/// activation fused into it — runs as one pass (`Tensor.separableBlockChannelsLast`), band of rows by
/// band, so its expanded map is never written to memory whole. So do a depthwise-separable block
/// (depthwise, then pointwise) and an expansion with its depthwise convolution alone (MobileNetV3's
/// blocks with squeeze-and-excitation, whose depthwise output feeds two layers). The bits are those
/// of the layers run one by one (tested), so this changes no figure; it applies where the chains do.
extension Model {
    /// The nodes of a fused separable block: each stage's convolution and its fused group.
    struct SeparableStages {
        struct Stage {
            let node: Int
            let group: FusedGroup?
            var last: Int { group?.last ?? node }
        }
        let expand: Stage?, depthwise: Stage, project: Stage?
        var stages: [Stage] { [expand, depthwise, project].compactMap { $0 } }
        /// The node whose output the block computes.
        var last: Int { stages.last?.last ?? depthwise.last }
        /// The nodes the block computes after its first.
        var ahead: [Int] {
            stages.flatMap { [$0.node, $0.group?.batchNorm, $0.group?.activation].compactMap { $0 } }.filter { $0 != stages[0].node }
        }
    }

    /// The separable block starting at `index` (a pointwise convolution followed by a depthwise one,
    /// or a depthwise one followed by a pointwise one, in this pass's chain), whose group is `group`
    /// and whose input is `shape` ([N, C, H, W] as the model sees it); nil when there is none.
    func separableStages(at index: Int, group: FusedGroup?, shape: [Int], uses: [Int], end: Int, kept: Set<Int>,
                         _ context: ForwardContext) -> SeparableStages? {
        guard Model.fusesInference else { return nil }
        /// The convolution consuming `node` alone, as a stage with its group, when it is of `kind` and its operands need no gradient.
        func stage(after node: Int, depthwise: Bool) -> SeparableStages.Stage? {
            guard let next = onlyConsumer(of: node, uses: uses, end: end, kept: kept),
                  let layer = nodes[next].layer as? any RunsChannelsLast & FusesEpilogue, isDepthwise(next) == depthwise else { return nil }
            let group = fusedGroup(at: next, uses: uses, end: end, kept: kept, context)
            let affine = group?.batchNorm.flatMap { nodes[$0].layer as? any ChannelAffine }
            guard !Tensor.wouldRecord(layer.parameters.map(\.parameter.value) + (affine?.affineOperands ?? [])) else { return nil }
            return SeparableStages.Stage(node: next, group: group)
        }
        guard let first = isDepthwise(index) else { return nil }
        let start = SeparableStages.Stage(node: index, group: group)
        if first {
            guard let project = stage(after: start.last, depthwise: false) else { return nil }
            return SeparableStages(expand: nil, depthwise: start, project: project)
        }
        guard let depthwise = stage(after: start.last, depthwise: true) else { return nil }
        return SeparableStages(expand: start, depthwise: depthwise, project: stage(after: depthwise.last, depthwise: false))
    }

    /// Whether node `index` is a depthwise (true) or pointwise (false) convolution that runs channels-last; nil otherwise.
    private func isDepthwise(_ index: Int) -> Bool? {
        guard let conv = nodes[index].layer as? Conv2d, conv.inChannels > 0 else { return nil }
        if conv.groups == 1 { return conv.kernel == (1, 1) && conv.stride == (1, 1) && conv.dilation == (1, 1) ? false : nil }
        return conv.groups == conv.inChannels && conv.outChannels == conv.groups ? true : nil
    }

    /// Runs the block on its channels-last input x [N, H, W, C] (`shape`: [N, C, H, W]); nil when a
    /// stage does not run channels-last on these shapes (the layers then run one by one).
    func runSeparableStages(_ block: SeparableStages, input x: Tensor, shape: [Int]) throws(TensorError) -> Tensor? {
        var convolutions: [ChannelsLastConvolution] = []
        var current = shape
        for stage in block.stages {
            guard let layer = nodes[stage.node].layer as? any RunsChannelsLast,
                  let conv = layer.channelsLastConvolution(current, epilogue: stage.group.map(epilogue(of:)) ?? ConvEpilogue()) else { return nil }
            let out = try conv.outputShape(channelsLast: [current[0], current[2], current[3], current[1]])
            current = [out[0], out[3], out[1], out[2]]
            convolutions.append(conv)
        }
        let expand = block.expand == nil ? nil : convolutions.first
        let project = block.project == nil ? nil : convolutions.last
        return try x.separableBlockChannelsLast(expand: expand, depthwise: convolutions[block.expand == nil ? 0 : 1], project: project)
    }
}
