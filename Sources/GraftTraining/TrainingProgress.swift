import GraftNN
import GraftTensor

/// Where a run of ``Trainer/fit`` stands at a batch boundary: everything continuing it needs
/// besides the model's tensors and the optimizer's state (which are saved beside it). A run resumed
/// from it takes the same steps, with the same draws, as the run that never stopped.
public struct TrainingProgress {
    /// The epoch in progress (1-based): the next to start when `batch` is 0.
    public var epoch: Int
    /// Batches of `epoch` done (0: it has not started).
    public var batch: Int
    /// Steps per epoch, and the epochs of the run: a resumed run must have the same.
    public var batchesPerEpoch: Int
    public var epochs: Int
    /// Optimizer steps taken so far.
    public var step: Int
    /// The running epoch's sample order, once drawn (empty: the epoch has not started).
    public var order: [Int] = []
    /// The running epoch's sums so far.
    public var sums = EpochSums()
    public var imagesSeen = 0
    /// The epochs finished, and what the recipe keeps: each epoch's order and every step's loss.
    public var records: [EpochRecord] = []
    public var orders: [[Int]] = []
    public var stepLosses: [Float] = []
    /// Early stopping: the best validation loss and the weights it had (trainable parameters, then buffers).
    public var bestLoss: Float? = nil
    public var bestSnapshot: [Tensor] = []
    public var epochsWithoutImprovement = 0
    /// The session generator's state at this boundary.
    public var generator: Generator.State
    /// The run ended here (its last epoch, or early stopping): nothing is left to continue.
    public var finished = false

    public init(epoch: Int, batch: Int, batchesPerEpoch: Int, epochs: Int, step: Int, generator: Generator.State) {
        (self.epoch, self.batch, self.batchesPerEpoch, self.epochs, self.step, self.generator) = (epoch, batch, batchesPerEpoch, epochs, step, generator)
    }

    /// What a message calls it: `epoch 2 of 5 done`, `epoch 3 of 5, batch 4 of 10`.
    public var position: String {
        if finished { return "its end (\(records.count) epoch\(records.count == 1 ? "" : "s"), step \(step))" }
        if order.isEmpty { return "epoch \(epoch - 1) of \(epochs) done (step \(step))" }
        return "epoch \(epoch) of \(epochs), batch \(batch) of \(batchesPerEpoch) (step \(step))"
    }
}

/// What an epoch's figures are summed from as its batches go by.
public struct EpochSums: Sendable, Equatable {
    /// Loss × samples, correct predictions, samples.
    public var lossSum = 0.0, correct = 0, seen = 0
    /// Each batch's loss and its square, and the batches (for the loss's standard error).
    public var batchLossSum = 0.0, batchLossSquares = 0.0, lossBatches = 0

    public init() {}

    mutating func add(loss: Float, samples: Int, correct right: Int) {
        let value = Double(loss)
        lossSum += value * Double(samples)
        (batchLossSum, batchLossSquares, lossBatches) = (batchLossSum + value, batchLossSquares + value * value, lossBatches + 1)
        correct += right
        seen += samples
    }
}

/// When and how ``Trainer/fit`` writes checkpoints: after every `every` epochs, when the run stops
/// part-way (`steps=`, Ctrl-C) and when it ends. `write` is handed the progress with the model and
/// the optimizer standing at it; an error it throws fails the run.
public struct CheckpointPolicy {
    public var every: Int
    public var write: (TrainingProgress) throws -> Void

    public init(every: Int, write: @escaping (TrainingProgress) throws -> Void) {
        self.every = every
        self.write = write
    }
}
