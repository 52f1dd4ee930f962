import GraftTensor

/// Batch normalization over the channel axis of [C] or [C, H, W] samples.
///
/// It trains on batch statistics only while the model trains and the layer itself is trainable; a
/// frozen BatchNorm runs in inference mode (running statistics, left unchanged), the Keras rule.
/// One that came from a pretrained file or was frozen before keeps its statistics when unfrozen:
/// its γ and β train, it normalizes with its running statistics and leaves them as they are (the
/// Keras fine-tuning rule), until `unfreeze … bn=train` clears `keepsStatistics`.
/// `momentum` is PyTorch's: running = (1 − momentum)·running + momentum·batch.
public final class BatchNorm: Layer {
    public let channels: Int
    public let epsilon: Float, momentum: Float

    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true, kind: String = "BatchNorm2d") throws(ModelError) {
        guard channels > 0, epsilon >= 0, (0...1).contains(momentum) else {
            throw .invalidArgument(what: kind, reason: "needs channels > 0, epsilon ≥ 0, momentum in 0…1")
        }
        (self.channels, self.epsilon, self.momentum) = (channels, epsilon, momentum)
        super.init(kind: kind)
        do {
            if affine {
                register("weight", try Tensor.ones([channels]))
                register("bias", try Tensor.zeros([channels]))
            }
            registerBuffer("running_mean", try Tensor.zeros([channels]))
            registerBuffer("running_var", try Tensor.ones([channels]))
        } catch { throw .tensor(layer: kind, error: error) }
    }

    /// A BatchNorm without affine parameters is frozen or not through this flag.
    public var frozenWithoutParameters = false

    /// Normalize with the running statistics and never update them, even while γ and β train.
    public var keepsStatistics = false

    /// Whether it would use (and update) batch statistics in a training pass.
    public var trainsStatistics: Bool { !keepsStatistics && (parameters.isEmpty ? !frozenWithoutParameters : isFullyTrainable) }

    public override var flags: [String: Bool] {
        get { ["frozen": frozenWithoutParameters, "keepsStatistics": keepsStatistics] }
        set {
            frozenWithoutParameters = newValue["frozen"] ?? false
            keepsStatistics = newValue["keepsStatistics"] ?? false
        }
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, !shape.isEmpty, shape[0] == channels else {
            throw .shapeMismatch(layer: kind, reason: "expects \(channels) channels first, got \(formatShape(inputs.first ?? []))")
        }
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        guard let mean = buffer("running_mean"), let variance = buffer("running_var") else { return inputs[0] }
        return try inputs[0].batchNorm(weight: parameter("weight"), bias: parameter("bias"), runningMean: mean, runningVar: variance,
                                       training: context.training && trainsStatistics, momentum: momentum, epsilon: epsilon)
    }

    public override func mode(training: Bool) -> String? { training && trainsStatistics ? "train" : "infer" }
    public override func isDeterministic(training: Bool) -> Bool { !(training && trainsStatistics) }
    public override var details: String { "eps \(epsilon)" }
}
