import GraftNN
import GraftTensor
/// What one run of ``Trainer/fit`` did, in the terms another framework needs to do it again: its
/// options, which parameters trained, which layers ran in training mode, the sample order of every
/// epoch and the loss of every step (what `export pytorch` writes and its check compares).
public struct TrainingPhase: Sendable {
    public var options: TrainingOptions
    /// Keys of the parameters the optimizer updated (`head.fc.weight`).
    public var trainable: [String]
    /// Layers in training mode while it ran (BatchNorm on batch statistics, active dropout).
    public var trainMode: [String]
    /// Layers graft added as the head (they take `lr`, the rest `backbone-lr`).
    public var head: [String]
    /// The training split's sample indices, in the order each epoch visited them.
    public var orders: [[Int]]
    /// The loss of every optimizer step, in order.
    public var stepLosses: [Float]
    public var epochs: [EpochRecord]
    /// Steps per epoch (a last batch of one sample is dropped when BatchNorm trains).
    public var batchesPerEpoch: Int
    /// The loss's class weights as resolved on the training split (nil: unweighted).
    public var classWeights: [Float]? = nil
    /// The precision of its products (`set precision=`) when it ran.
    public var precision: Precision = Precision.current

    public init(options: TrainingOptions, trainable: [String], trainMode: [String], head: [String], orders: [[Int]] = [],
                stepLosses: [Float] = [], epochs: [EpochRecord] = [], batchesPerEpoch: Int = 0) {
        (self.options, self.trainable, self.trainMode, self.head) = (options, trainable, trainMode, head)
        (self.orders, self.stepLosses, self.epochs, self.batchesPerEpoch) = (orders, stepLosses, epochs, batchesPerEpoch)
    }
}

extension TrainingPhase {
    /// A phase about to run on `model` as it stands: its trainable parameters, the layers in training
    /// mode and its head; orders, losses and epochs are filled in as it runs.
    public init(options: TrainingOptions, model: Model) {
        self.init(options: options, trainable: model.trainableParameters.map(\.key),
                  trainMode: model.nodes.filter { $0.layer.mode(training: true) == "train" }.map(\.name),
                  head: model.nodes.filter(\.isHead).map(\.name))
    }
}

/// A model's last training command: one phase (`train`), or two (`fine-tune`), on one dataset.
public struct TrainingRecipe {
    public var command: String
    public var dataset: String
    public var phases: [TrainingPhase]
    /// The model as the command found it (after its input was set to the data's): the weights the
    /// recorded training started from. nil when the run resumed from a checkpoint.
    public var start: ModelState?

    public init(command: String, dataset: String, phases: [TrainingPhase], start: ModelState? = nil) {
        (self.command, self.dataset, self.phases, self.start) = (command, dataset, phases, start)
    }
}
