import GraftTensor

/// Batch normalization over the channel axis of [C] or [C, H, W] samples.
///
/// It trains on batch statistics only while the model trains and the layer itself is trainable; a
/// frozen BatchNorm runs in inference mode (running statistics, left unchanged), the Keras rule.
/// One that came from a pretrained file or was frozen before keeps its statistics when unfrozen:
/// its γ and β train, it normalizes with its running statistics and leaves them as they are (the
/// Keras fine-tuning rule), until `unfreeze … bn=train` clears `keepsStatistics`.
/// `momentum` is PyTorch's: running = (1 − momentum)·running + momentum·batch. γ (`weight`) and
/// β (`bias`) are each optional, as Keras's `scale=False` and `center=False` make them.
public final class BatchNorm: Layer, LayerKind, RunningStatistics, ChannelAffine, FusesActivation {
    public struct Config: Codable, Sendable, Equatable {
        public var channels: Int, epsilon: Float, momentum: Float
        /// Both γ and β (graft 0.2's spelling; `scale` and `center` override it when present).
        public var affine: Bool
        public var scale: Bool?, center: Bool?
        public var kind: String
    }
    public static let key = "batchNorm"

    public let channels: Int
    public let epsilon: Float, momentum: Float
    /// γ and β, when the layer has them.
    public let weight: Parameter?, bias: Parameter?
    public let runningMean: Tensor, runningVar: Tensor

    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, scale: Bool = true, center: Bool = true,
                kind: String = "BatchNorm2d") throws(ModelError) {
        guard featuresFit(channels), epsilon >= 0, (0...1).contains(momentum) else {
            throw .invalidArgument(what: kind, reason: "needs channels 1…\(featureLimit), epsilon ≥ 0, momentum in 0…1")
        }
        (self.channels, self.epsilon, self.momentum) = (channels, epsilon, momentum)
        (weight, bias) = try Self.scaleAndShift(channels, scale: scale, center: center, kind: kind)
        do {
            runningMean = try Tensor.zeros([channels])
            runningVar = try Tensor.ones([channels])
        } catch { throw .tensor(layer: kind, error: error) }
        super.init(kind: kind)
        adoptScaleAndShift(weight, bias)
        adoptBuffer("running_mean", runningMean)
        adoptBuffer("running_var", runningVar)
    }

    public convenience init(config c: Config) throws(ModelError) {
        try self.init(c.channels, epsilon: c.epsilon, momentum: c.momentum, scale: c.scale ?? c.affine, center: c.center ?? c.affine, kind: c.kind)
    }

    public var config: Config {
        let both = weight != nil && bias != nil, neither = weight == nil && bias == nil
        return Config(channels: channels, epsilon: epsilon, momentum: momentum, affine: both,
                      scale: both || neither ? nil : weight != nil, center: both || neither ? nil : bias != nil, kind: kind)
    }

    /// Normalize with the running statistics and never update them, even while γ and β train.
    public var keepsStatistics = false

    /// Whether it would use (and update) batch statistics in a training pass.
    public var trainsStatistics: Bool { !keepsStatistics && (parameters.isEmpty ? !frozenWithoutParameters : isFullyTrainable) }

    /// Frozen: no parameter trains (or, without parameters, frozen by name).
    public var isFrozen: Bool { parameters.isEmpty ? frozenWithoutParameters : !isFullyTrainable }

    public override var flags: [String: Bool] {
        get { ["frozen": frozenWithoutParameters, "keepsStatistics": keepsStatistics] }
        set {
            frozenWithoutParameters = parameters.isEmpty && (newValue["frozen"] ?? false)
            keepsStatistics = newValue["keepsStatistics"] ?? false
        }
    }

    /// Freezing makes it keep its statistics from then on; unfreezing leaves that as it is unless
    /// `batchNormTrains` (`bn=train`) says to update them again.
    public override func setTrainable(_ trainable: Bool, batchNormTrains: Bool) -> Bool {
        var changed = false
        if !trainable, !keepsStatistics { keepsStatistics = true; changed = true }
        if trainable, batchNormTrains, keepsStatistics { keepsStatistics = false; changed = true }
        if parameters.isEmpty, frozenWithoutParameters == trainable { changed = true }
        return super.setTrainable(trainable, batchNormTrains: batchNormTrains) || changed
    }

    public override var isNormalization: Bool { true }

    public func channelAffine(training: Bool) throws(TensorError) -> (scale: [Float], shift: [Float])? {
        guard !(training && trainsStatistics) else { return nil }
        return try Tensor.batchNormInferenceAffine(weight: weight?.value, bias: bias?.value, runningMean: runningMean, runningVar: runningVar, epsilon: epsilon)
    }

    public var affineOperands: [Tensor] { [weight?.value, bias?.value].compactMap { $0 } }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, !shape.isEmpty, shape[0] == channels else {
            throw .shapeMismatch(layer: kind, reason: "expects \(channels) channels first, got \(formatShape(inputs.first ?? []))")
        }
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try normalize(inputs[0], activation: nil, context)
    }

    public func forward(_ input: Tensor, activation: FusedActivation, _ context: ForwardContext) throws(TensorError) -> Tensor {
        try normalize(input, activation: activation, context)
    }

    private func normalize(_ x: Tensor, activation: FusedActivation?, _ context: ForwardContext) throws(TensorError) -> Tensor {
        try x.batchNorm(weight: weight?.value, bias: bias?.value, runningMean: runningMean, runningVar: runningVar,
                        training: context.training && trainsStatistics, momentum: momentum, epsilon: epsilon, activation: activation)
    }

    public override func mode(training: Bool) -> String? { training && trainsStatistics ? "train" : "infer" }
    public override func isDeterministic(training: Bool) -> Bool { !(training && trainsStatistics) }
    public override var details: String { "eps \(epsilon)" }
}

// MARK: Export

extension BatchNorm: ONNXExportable {
    /// `BatchNormalization` on the running statistics; a missing γ or β is written as ones or zeros.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let scale = try weight?.value ?? Tensor.ones([channels]), shift = try bias?.value ?? Tensor.zeros([channels])
        writer.emit("BatchNormalization", [node.inputs[0], writer.initializer(node.key("weight"), scale), writer.initializer(node.key("bias"), shift),
                                           writer.initializer(node.key("running_mean"), runningMean), writer.initializer(node.key("running_var"), runningVar)],
                    output: node.output, [ONNXWriter.attribute("epsilon", float: epsilon)])
    }
}

extension BatchNorm: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        var arguments = ["\(channels)", "eps=\(Py.float(epsilon))", "momentum=\(Py.float(momentum))"]
        if weight == nil { arguments.append("scale=False") }
        if bias == nil { arguments.append("center=False") }
        let name = node.inputShape.count == 3 ? "BatchNorm2d" : "BatchNorm1d"
        return PyTorchModule("\(name)(\(arguments.joined(separator: ", ")))", helpers: [.batchNorm])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let batchNorm = PyTorchHelper("batchNorm", source: #"""
class _GraftNorm:
    """BatchNorm as graft keeps it: no num_batches_tracked counter (the momentum is fixed), and γ or β
    optional (Keras's scale=False, center=False), so state_dict keys are graft's."""

    def __init__(self, channels, eps=1e-5, momentum=0.1, scale=True, center=True):
        super().__init__(channels, eps=eps, momentum=momentum, affine=scale or center)
        self.num_batches_tracked = None
        if self.affine and not scale:
            self.weight = None
        if self.affine and not center:
            self.bias = None

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
        # Version 2 tells _BatchNorm not to add a num_batches_tracked key of its own.
        super()._load_from_state_dict(state_dict, prefix, {**local_metadata, "version": 2}, *args)


class BatchNorm1d(_GraftNorm, nn.BatchNorm1d):
    pass


class BatchNorm2d(_GraftNorm, nn.BatchNorm2d):
    pass
"""#)
}
