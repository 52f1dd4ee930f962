import GraftTensor

/// Fused separable blocks: in a channels-last chain, an inverted-residual block — a pointwise
/// expansion, a depthwise convolution and a pointwise projection, each with the BatchNorm and the
/// activation fused into it — runs as one pass (`Tensor.separableBlockChannelsLast`), band of rows by
/// band, so its expanded map is never written to memory whole. So do a depthwise-separable block
/// (depthwise, then pointwise) and an expansion with its depthwise convolution alone (MobileNetV3's
/// blocks with squeeze-and-excitation, whose depthwise output feeds two layers). The bits are those
/// of the layers run one by one (tested), so this changes no figure; it applies where the chains do.
extension Model {
    /// The nodes of a fused separable block: each stage's convolution, its fused group, and the
    /// convolution as the channels-last kernels take it (with the group's epilogue).
    struct SeparableStages {
        struct Stage {
            let node: Int
            let group: FusedGroup?
            let convolution: ChannelsLastConvolution
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
        /// Node `node` as a stage on an input of `shape`, and the stage's output shape ([N, C, H, W]).
        func stage(_ node: Int, _ group: FusedGroup?, _ shape: [Int]) -> (stage: SeparableStages.Stage, output: [Int])? {
            guard shape.count == 4, let layer = nodes[node].layer as? any RunsChannelsLast,
                  let conv = layer.channelsLastConvolution(shape, epilogue: group.map(epilogue(of:)) ?? ConvEpilogue()),
                  let out = try? conv.outputShape(channelsLast: [shape[0], shape[2], shape[3], shape[1]]) else { return nil }
            return (SeparableStages.Stage(node: node, group: group, convolution: conv), [out[0], out[3], out[1], out[2]])
        }
        /// The convolution consuming `node` alone, as a stage, when it is depthwise (or pointwise) as asked
        /// and its operands need no gradient.
        func stage(after node: Int, _ shape: [Int], depthwise: Bool) -> (stage: SeparableStages.Stage, output: [Int])? {
            guard let next = onlyConsumer(of: node, uses: uses, end: end, kept: kept) else { return nil }
            let group = fusedGroup(at: next, uses: uses, end: end, kept: kept, context)
            let affine = group?.batchNorm.flatMap { nodes[$0].layer as? any ChannelAffine }
            guard let found = stage(next, group, shape), (found.stage.convolution.groups > 1) == depthwise,
                  !Tensor.wouldRecord(nodes[next].layer.parameters.map(\.parameter.value) + (affine?.affineOperands ?? [])) else { return nil }
            return found
        }
        guard let (start, output) = stage(index, group, shape) else { return nil }
        if start.convolution.groups > 1 {
            guard let project = stage(after: start.last, output, depthwise: false) else { return nil }
            return SeparableStages(expand: nil, depthwise: start, project: project.stage)
        }
        guard let depthwise = stage(after: start.last, output, depthwise: true) else { return nil }
        return SeparableStages(expand: start, depthwise: depthwise.stage, project: stage(after: depthwise.stage.last, depthwise.output, depthwise: false)?.stage)
    }

    /// Runs the block on its channels-last input x [N, H, W, C].
    func runSeparableStages(_ block: SeparableStages, input x: Tensor) throws(TensorError) -> Tensor {
        try x.separableBlockChannelsLast(expand: block.expand?.convolution, depthwise: block.depthwise.convolution,
                                         project: block.project?.convolution)
    }
}
