import GraftTensor

/// Channels-last chains: in a pass that records nothing, a model keeps a chain of layers that
/// `RunsChannelsLast` (depthwise and pointwise convolutions with their fused BatchNorm and
/// activation, elementwise activations, sums and products, average pooling) on [N, H, W, C] maps,
/// converting once where the chain starts — at a depthwise convolution whose consumers all run
/// channels-last — and once where a layer that does not consumes it (or the pass returns it).
/// Every such layer gives the same bits in either layout, so a chain changes no figure (tested
/// against the layer-by-layer pass); it is on with inference fusion, in the portable numerics.
struct ChannelsLastLayout {
    let enabled: Bool
    /// Which values are held channels-last.
    private(set) var channelsLast: [Bool]

    init(nodes: Int) {
        enabled = Model.fusesInference && Numerics.current == .portable
        channelsLast = [Bool](repeating: false, count: nodes)
    }

    /// The shape the model sees ([N, C, H, W] for a channels-last map [N, H, W, C]).
    func shape(of value: Tensor, _ index: Int) -> [Int] {
        guard channelsLast[index] else { return value.shape }
        let s = value.shape
        return [s[0], s[3], s[1], s[2]]
    }

    /// Holds `index`'s value in NCHW again.
    mutating func restore(_ index: Int, _ values: inout [Tensor?]) throws(TensorError) {
        guard channelsLast[index], let value = values[index] else { return }
        values[index] = try value.channelsFirst()
        channelsLast[index] = false
    }

    /// Holds `index`'s value channels-last (a map of rank 4).
    mutating func convert(_ index: Int, _ values: inout [Tensor?]) throws(TensorError) {
        guard !channelsLast[index], let value = values[index], value.rank == 4 else { return }
        values[index] = try value.channelsLast()
        channelsLast[index] = true
    }

    /// Records how `index`'s value is held: channels-last when it is a map of rank 4 (nil: not channels-last).
    mutating func mark(_ index: Int, _ value: Tensor?) { channelsLast[index] = value?.rank == 4 }
}

/// The nodes a pass ran channels-last, for tests that check a chain formed (`Model.$channelsLastTrace`).
final class ChannelsLastTrace: @unchecked Sendable {
    var nodes: [Int] = []
    /// The convolutions of each fused separable block, by node.
    var blocks: [[Int]] = []
}

extension Model {
    @TaskLocal static var channelsLastTrace: ChannelsLastTrace?

    /// Runs node `index` channels-last when it qualifies (see ``ChannelsLastLayout``), with the
    /// BatchNorm and activation after it fused when they qualify; returns the fused group's nodes
    /// after `index` (none when nothing fused), or nil when the node does not run channels-last —
    /// then nothing has changed but the layout of its inputs.
    func runChannelsLast(_ index: Int, _ values: inout [Tensor?], _ layout: inout ChannelsLastLayout, uses: [Int], end: Int,
                         kept: Set<Int>, _ context: ForwardContext) throws(TensorError) -> [Int]? {
        guard layout.enabled, let layer = nodes[index].layer as? any RunsChannelsLast else { return nil }
        let inputs = nodes[index].inputs
        var operands: [Tensor] = layer.parameters.map(\.parameter.value)
        var shapes: [[Int]] = []
        for input in inputs {
            guard let value = values[input] else { return nil }
            operands.append(value)
            shapes.append(layout.shape(of: value, input))
        }
        guard !Tensor.wouldRecord(operands), layer.runsChannelsLast(shapes, context) else { return nil }
        // Channels-last already, or a chain may start here: only then is the fused group worth finding.
        let continues = inputs.contains { layout.channelsLast[$0] }
        guard continues || layer.startsChannelsLast(shapes) else { return nil }
        var group: FusedGroup?
        if layer is any FusesEpilogue, let found = fusedGroup(at: index, uses: uses, end: end, kept: kept, context) {
            let affine = found.batchNorm.flatMap { nodes[$0].layer as? any ChannelAffine }
            if !Tensor.wouldRecord(affine?.affineOperands ?? []) { group = found }
        }
        let last = group?.last ?? index
        guard continues || continuesChannelsLast(after: last, through: end) else { return nil }
        for input in inputs { try layout.convert(input, &values) }
        // A separable block starting here runs as one pass (SeparableBlocks.swift).
        if inputs.count == 1, let input = values[inputs[0]],
           let block = separableStages(at: index, group: group, shape: shapes[0], uses: uses, end: end, kept: kept, context) {
            let output = try runSeparableStages(block, input: input)
            values[block.last] = output
            layout.mark(block.last, output)
            Model.channelsLastTrace?.nodes.append(index)
            Model.channelsLastTrace?.blocks.append(block.stages.map(\.node))
            return block.ahead
        }
        let output = try layer.forwardChannelsLast(inputs.compactMap { values[$0] }, epilogue: group.map(epilogue(of:)) ?? ConvEpilogue(), context)
        values[last] = output
        layout.mark(last, output)
        Model.channelsLastTrace?.nodes.append(index)
        return group.map { [$0.batchNorm, $0.activation].compactMap { $0 } } ?? []
    }

    /// Whether `node`'s output has consumers up to `end` and all of them run channels-last (so a
    /// chain starting there does not convert straight back).
    private func continuesChannelsLast(after node: Int, through end: Int) -> Bool {
        guard node < end else { return false }
        let consumers = (node + 1...end).filter { nodes[$0].inputs.contains(node) }
        return !consumers.isEmpty && consumers.allSatisfy {
            nodes[$0].layer is any RunsChannelsLast || (nodes[$0].layer as? any RelaysLayout)?.relaysChannelsLast == true
        }
    }

    /// Runs node `index` as a relay (a permutation that costs nothing on a map held channels-last),
    /// when it is one here; returns whether it ran.
    func relayLayout(_ index: Int, _ values: inout [Tensor?], _ layout: inout ChannelsLastLayout) -> Bool {
        guard layout.enabled, let relay = nodes[index].layer as? any RelaysLayout, let input = nodes[index].inputs.first,
              nodes[index].inputs.count == 1, let value = values[input], !Tensor.wouldRecord([value]),
              let (output, channelsLast) = relay.relay(value, channelsLast: layout.channelsLast[input]) else { return false }
        values[index] = output
        layout.mark(index, channelsLast ? output : nil)
        Model.channelsLastTrace?.nodes.append(index)
        return true
    }
}
