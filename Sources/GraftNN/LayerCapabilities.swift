import GraftTensor

// What a layer is to the rest of graft. The trainer, the LR finder, the summary, surgery,
// reinitialization, inference fusion, loading and the teaching commands ask these; none of them
// names a concrete layer kind (`LayerRegistryTests.noCodeOutsideConstructorsNamesALayerKind` holds
// that). A new kind says what it is here, in its own file, and every one of those places treats it
// right.

/// A layer that keeps running statistics (BatchNorm): it normalizes with batch statistics and
/// updates the running ones in a training pass, or keeps them (frozen, pretrained, Keras's
/// fine-tuning rule) and normalizes with them.
public protocol RunningStatistics: Layer {
    /// Normalize with the running statistics and never update them, even while the scale and shift train.
    var keepsStatistics: Bool { get set }
    /// Whether a training pass would use (and update) batch statistics.
    var trainsStatistics: Bool { get }
    /// No parameter trains (or, without parameters, frozen by name).
    var isFrozen: Bool { get }
}

/// A layer that is, in an inference pass, a per-channel affine map y = x·scale + shift over the
/// channel axis (a BatchNorm on its running statistics): a preceding convolution can apply it as it
/// writes each plane.
public protocol ChannelAffine: Layer {
    /// The map in a pass that is (`training`) or is not training; nil when the layer is not such a
    /// map in that pass (a BatchNorm on batch statistics).
    func channelAffine(training: Bool) throws(TensorError) -> (scale: [Float], shift: [Float])?
    /// The tensors the map is made of (a fused pass runs only when none of them needs a gradient).
    var affineOperands: [Tensor] { get }
}

/// A layer that can apply the activation after it in its own pass (a BatchNorm), in training and in
/// inference, with the bits of running the two one after the other (see NormalizationFusion.swift).
public protocol FusesActivation: Layer {
    /// The forward pass with `activation` applied to its output (recorded as one op).
    func forward(_ input: Tensor, activation: FusedActivation, _ context: ForwardContext) throws(TensorError) -> Tensor
}

/// A layer that can run with a fused epilogue (a convolution, a linear layer): the per-channel
/// affine map and the clamp or activation of the layers after it applied as it writes its output.
public protocol FusesEpilogue: Layer {
    /// The forward pass with `epilogue` applied (inference only: records nothing).
    func forward(_ input: Tensor, epilogue: ConvEpilogue) throws(TensorError) -> Tensor
    /// The tensors the pass reads besides its input.
    var fusionOperands: [Tensor] { get }
    /// Whether a following per-channel affine map (a BatchNorm in inference) may join the epilogue.
    var fusesChannelAffine: Bool { get }
}

extension FusesEpilogue {
    public var fusesChannelAffine: Bool { true }
}

/// A layer that runs, in inference, on channels-last maps [N, H, W, C] with the same bits as on
/// [N, C, H, W]. `Model.run` keeps a chain of such layers channels-last, converting once at its
/// entry and its exit (see ChannelsLastChains.swift).
public protocol RunsChannelsLast: Layer {
    /// Whether this pass can run channels-last on inputs of these shapes ([N, C, H, W] as the model
    /// sees them), with its operands needing no gradient.
    func runsChannelsLast(_ inputs: [[Int]], _ context: ForwardContext) -> Bool
    /// Whether a chain starts here from an NCHW input (a depthwise convolution, whose kernel is
    /// faster channels-last); other layers run channels-last only when an input already is.
    func startsChannelsLast(_ inputs: [[Int]]) -> Bool
    /// The pass on channels-last inputs (those of rank 4 are [N, H, W, C]) with `epilogue` fused
    /// when the layer `FusesEpilogue`; an output of rank 4 is channels-last.
    func forwardChannelsLast(_ inputs: [Tensor], epilogue: ConvEpilogue, _ context: ForwardContext) throws(TensorError) -> Tensor
    /// This layer as the channels-last kernels take a pointwise or depthwise convolution, on an input
    /// of `shape` ([N, C, H, W] as the model sees it), with `epilogue` fused: a stage of a fused
    /// separable block (SeparableBlocks.swift). Nil for other layers.
    func channelsLastConvolution(_ shape: [Int], epilogue: ConvEpilogue) -> ChannelsLastConvolution?
}

extension RunsChannelsLast {
    public func startsChannelsLast(_ inputs: [[Int]]) -> Bool { false }
    public func channelsLastConvolution(_ shape: [Int], epilogue: ConvEpilogue) -> ChannelsLastConvolution? { nil }
}

/// A layer that only moves axes (a permutation): on a map held channels-last it may cost nothing —
/// the permutation to channels-last returns the map as it is held, and the one back from channels-last
/// returns its input held channels-last.
public protocol RelaysLayout: Layer {
    /// The output and whether it is held channels-last, for an input held so (`channelsLast`) or not;
    /// nil when this permutation has to move values.
    func relay(_ input: Tensor, channelsLast: Bool) -> (output: Tensor, channelsLast: Bool)?
    /// Whether a map held channels-last goes through for free (a chain may start before this layer).
    var relaysChannelsLast: Bool { get }
}

/// A layer whose pass treats each value alone, or broadcasts inputs of one rank against each
/// other (an activation, a clamp, inference dropout, a sum or product): it runs on channels-last
/// maps as they are, when `runsChannelsLast` says so.
public protocol ActsElementwise: RunsChannelsLast {}

extension ActsElementwise {
    public func forwardChannelsLast(_ inputs: [Tensor], epilogue: ConvEpilogue, _ context: ForwardContext) throws(TensorError) -> Tensor {
        try forward(inputs, context)
    }
}

/// The model's input layer: the shape it declares, and which axes are free (any size).
public protocol DeclaresInput: Layer {
    /// Axes (of [C, H, W]) that take any size.
    var freeAxes: [Int] { get }
    /// The declared shape as the summary shows it (`3×?×?`).
    var described: String { get }
}

/// A convolution's kernels as `filters LAYER` shows them.
public struct FilterBank {
    /// [out, in / groups, kh, kw].
    public let weights: Tensor
    public let outChannels: Int, inChannelsPerGroup: Int
    public let kernel: (Int, Int)

    public init(weights: Tensor, outChannels: Int, inChannelsPerGroup: Int, kernel: (Int, Int)) {
        (self.weights, self.outChannels, self.inChannelsPerGroup, self.kernel) = (weights, outChannels, inChannelsPerGroup, kernel)
    }
}

extension Model {
    /// The layers that keep running statistics, in graph order.
    public var statisticsLayers: [any RunningStatistics] { nodes.compactMap { $0.layer as? any RunningStatistics } }

    /// Whether a training pass would normalize some layer with batch statistics.
    public var trainsSomeStatistics: Bool { statisticsLayers.contains { $0.trainsStatistics } }
}
