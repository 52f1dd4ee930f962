import Foundation
import GraftData
import GraftNN
import GraftTensor

/// When to train the trainable rest of a model on features computed once (see ``FeatureCache``).
public enum CacheMode: String, Sendable { case auto, on, off }

/// What `train` does: Keras's `fit` and fastai's `fine_tune` knobs.
public struct TrainingOptions: Sendable {
    public var epochs = 5
    /// How the dataset's classes must agree with the model's outputs (`classes=`).
    public var classMatching = ClassMatching.names
    public var learningRate: Float = 0.01
    public var batchSize = 32
    public var optimizer = OptimizerKind.sgd(momentum: 0.9, nesterov: false)
    public var weightDecay: Float = 0
    public var schedule = Schedule.constant
    public var warmupEpochs = 0
    /// A lower rate for layers outside the head (discriminative learning rates); nil: the same rate.
    public var backboneLearningRate: Float? = nil
    /// Layer-wise rate decay (BEiT, MAE, timm's `layer_decay`): block i of B gets
    /// lr · decay^(B − i), the embeddings before them lr · decay^(B + 1), what follows and the head lr.
    public var layerDecay: Float? = nil
    /// Clip the global gradient norm to this value.
    public var clipNorm: Float? = nil
    public var labelSmoothing: Float = 0
    /// Weights of the classes in the loss (`class-weights=`), as PyTorch's `CrossEntropyLoss(weight=)`
    /// and Keras's `class_weight`; nil: every sample counts the same.
    public var classWeights: ClassWeights? = nil
    /// `balanced`: each epoch draws as many samples as the split holds, with replacement, each with
    /// probability ∝ 1 / (its class's count) (PyTorch's `WeightedRandomSampler`); `shuffle`: a permutation.
    public var sampler = Sampler.shuffle
    /// Hold out this stratified fraction of the training split for validation.
    public var validationFraction: Double? = nil
    /// Stop after this many epochs without a better validation loss (needs validation).
    public var patience: Int? = nil
    /// With early stopping, put back the weights of the best epoch.
    public var restoreBest = true
    public var augmentation = Augmentation.none
    public var cache = CacheMode.auto
    /// Overrides the dataset's and the model's normalization.
    public var normalization: Normalization? = nil
    /// Stop right after this many optimizer steps (how an interrupted run is recorded and replayed:
    /// everything else, the schedule included, is as for the full run).
    public var stepLimit: Int? = nil

    public init() {}

    func validated() throws(ModelError) -> TrainingOptions {
        guard (1...100_000).contains(epochs) else { throw .invalidArgument(what: "epochs", reason: "must be 1–100000, got \(epochs)") }
        guard (1...65_536).contains(batchSize) else { throw .invalidArgument(what: "batch", reason: "must be 1–65536, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw .invalidArgument(what: "lr", reason: "must be positive, got \(learningRate)") }
        if let b = backboneLearningRate, !(b >= 0 && b.isFinite) { throw .invalidArgument(what: "backbone-lr", reason: "must be ≥ 0, got \(b)") }
        if let d = layerDecay {
            guard d > 0, d <= 1 else { throw .invalidArgument(what: "layer-decay", reason: "must be in (0, 1], got \(d)") }
            guard backboneLearningRate == nil else { throw .invalidArgument(what: "layer-decay", reason: "and backbone-lr both set the backbone's rates; give one") }
        }
        guard weightDecay >= 0 else { throw .invalidArgument(what: "wd", reason: "must be ≥ 0, got \(weightDecay)") }
        if let c = clipNorm, !(c > 0) { throw .invalidArgument(what: "clip", reason: "must be positive, got \(c)") }
        guard (0..<1).contains(labelSmoothing) else { throw .invalidArgument(what: "smoothing", reason: "must be in [0, 1), got \(labelSmoothing)") }
        if let v = validationFraction, !(v > 0 && v < 1) { throw .invalidArgument(what: "val", reason: "must be between 0 and 1, got \(v)") }
        if let p = patience, p < 1 { throw .invalidArgument(what: "patience", reason: "must be at least 1, got \(p)") }
        if let s = stepLimit, s < 1 { throw .invalidArgument(what: "steps", reason: "must be at least 1, got \(s)") }
        guard warmupEpochs >= 0, warmupEpochs < epochs || warmupEpochs == 0 else {
            throw .invalidArgument(what: "warmup", reason: "must be fewer than the \(epochs) epochs")
        }
        _ = try augmentation.mapError()
        return self
    }
}

extension Augmentation {
    func mapError() throws(ModelError) -> Augmentation {
        do { return try validated() } catch { throw .data(error) }
    }
}

/// How a training run ended.
public struct TrainingResult: Sendable {
    public let epochs: [EpochRecord]
    /// Why it stopped before the last epoch, if it did (`interrupted`, `early stopping`, `loss became NaN`).
    public let stoppedEarly: String?
    public let seconds: Double
    /// Training samples seen (every epoch) over the whole run's seconds, caching included.
    public let imagesPerSecond: Double
    public let usedCache: Bool
    /// Seconds spent computing cached features (included in `seconds`).
    public var cacheSeconds: Double = 0
    /// Optimizer steps taken.
    public var steps: Int = 0
    /// Set when the run stopped after a step before its end (Ctrl-C, or `stepLimit` replaying one).
    public var stoppedAtStep: Int? = nil
    /// Each epoch's last batch of one sample was dropped (BatchNorm on batch statistics needs two).
    public var droppedSingleSample = false
    /// The run as a recipe phase: what trained, in which modes, in which order, with which losses.
    public var phase: TrainingPhase? = nil
}

extension TrainingResult {
    /// A phase that ran before a checkpoint, as a result (a resumed `fine-tune` shows and records it).
    public static func finished(_ phase: TrainingPhase) -> TrainingResult {
        TrainingResult(epochs: phase.epochs, stoppedEarly: nil, seconds: 0, imagesPerSecond: 0, usedCache: false,
                       steps: phase.stepLosses.count, phase: phase)
    }
}

/// The trainer's state that a failed command must put back (the optimizer and its moments).
public struct TrainerState {
    let optimizer: Optimizer?
    let key: (OptimizerKind, Float)?
}

/// Trains a model's trainable parameters on a dataset. One per model: it keeps the optimizer (and
/// its state) between runs while the trainable set stays the same.
public final class Trainer {
    public let model: Model
    public private(set) var optimizer: Optimizer?
    private var optimizerKey: (OptimizerKind, Float)?

    public init(model: Model) { self.model = model }

    /// A copy of the optimizer state, to roll back to.
    public func saveState() -> TrainerState { TrainerState(optimizer: optimizer?.copy(), key: optimizerKey) }

    public func restore(_ state: TrainerState) {
        optimizer = state.optimizer?.copy()
        optimizerKey = state.key
    }

    /// Takes a saved optimizer (its moments put back) as this trainer's: the next run with the same
    /// optimizer settings over the same trainable set continues with it.
    public func adopt(_ optimizer: Optimizer, from source: String? = nil) {
        self.optimizer = optimizer
        optimizerKey = (optimizer.kind, optimizer.weightDecay)
        adoptedFrom = source
    }

    /// Where the optimizer came from when it was read from a file, until the next run says what became of it.
    private var adoptedFrom: String?

    /// An epoch of `WeightedRandomSampler(1 / count[label], n, replacement=True)` draws from the session's generator.
    static func balancedDraws(_ labels: [Int], _ generator: Generator) -> [Int] {
        var counts: [Int: Int] = [:]
        for label in labels { counts[label, default: 0] += 1 }
        var cumulative: [Double] = []
        cumulative.reserveCapacity(labels.count)
        var total = 0.0
        for label in labels {
            total += 1 / Double(counts[label] ?? 1)
            cumulative.append(total)
        }
        return (0..<labels.count).map { _ in
            let u = generator.nextDouble() * total
            // The first index whose cumulative weight exceeds u.
            var (low, high) = (0, cumulative.count - 1)
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle] > u { high = middle } else { low = middle + 1 }
            }
            return low
        }
    }

    /// The loss's per-class weights for `data`'s training split (nil: unweighted).
    public func resolvedClassWeights(_ rule: ClassWeights?, _ data: Dataset) throws(ModelError) -> [Float]? {
        guard let rule else { return nil }
        let counts = data.train.classCounts(classes: data.classes)
        let weights = rule.weights(counts: counts)
        if let weights, weights.count != data.classes {
            throw .invalidArgument(what: "class-weights", reason: "\(data.name) has \(data.classes) classes, \(weights.count) weights given")
        }
        if let weights, !zip(weights, counts).contains(where: { $0 > 0 && $1 > 0 }) {
            throw .invalidArgument(what: "class-weights", reason: "every class present in \(data.name)'s training split weighs 0")
        }
        return weights
    }

    /// Trains for `options.epochs` epochs on `data.train` (minus a validation split if asked).
    /// `shouldStop` (Ctrl-C) is polled between batches and between the layers of a batch's forward
    /// and backward passes; a batch stopped part-way is undone (see ``fit``'s loop), so the model
    /// stands at a batch boundary whenever it returns. Stopped before the first step, nothing changed
    /// and `interrupted` is thrown.
    ///
    /// `checkpoint` writes the run's state as it goes (see ``CheckpointPolicy``); `resume` continues
    /// from such a state (the model's tensors and the optimizer already put back by the caller, the
    /// generator put back here), so the run ends where one that never stopped ends, bit for bit.
    public func fit(_ data: Dataset, options: TrainingOptions, generator: Generator, log: TrainingLog,
                    shouldStop: @escaping () -> Bool = { false }, resume: TrainingProgress? = nil,
                    checkpoint: CheckpointPolicy? = nil) throws(ModelError) -> TrainingResult {
        let options = try options.validated()
        if let resume { generator.state = resume.generator }
        if options.patience != nil && options.validationFraction == nil && data.validation == nil {
            throw .invalidArgument(what: "patience", reason: "early stopping needs a validation split (val=F)")
        }
        try checkCompatible(data, classes: options.classMatching)
        let trainable = model.trainableParameters.map(\.parameter)
        guard !trainable.isEmpty else {
            throw .invalidArgument(what: "train", reason: "no trainable parameters; unfreeze some layers first (unfreeze last=1)")
        }
        let normalization = options.normalization ?? model.normalization ?? data.normalization
        var data = data
        if let fraction = options.validationFraction {
            do { data = try data.withValidation(fraction: fraction, generator: generator) } catch { throw .data(error) }
        }
        try checkSplits(data)
        let headParameters = try backboneGroups(options)
        if let decay = options.layerDecay { _ = try layerDecayScales(decay) }
        // BatchNorm on batch statistics cannot normalize a single sample: drop such a last batch.
        let batchNormTrains = model.trainsSomeStatistics
        let dropSingle = batchNormTrains && data.train.count % options.batchSize == 1
        if dropSingle && data.train.count == 1 {
            throw .invalidArgument(what: "train", reason: "\(data.name) has 1 training sample, and BatchNorm in training mode needs at least 2")
        }
        let classWeights = try resolvedClassWeights(options.classWeights, data)
        if let classWeights, let rule = options.classWeights {
            let shown = zip(data.classNames.count == classWeights.count ? data.classNames : classWeights.indices.map(String.init), classWeights)
                .map { "\($0) \(String(format: "%.4g", Double($1)))" }.joined(separator: ", ")
            log.record(.message("class weights (\(rule.description)): \(shown)"))
        } else if options.classWeights == .auto {
            log.record(.message("class weights (auto): none, the classes are balanced within 1.5×"))
        }
        prepareOptimizer(trainable, options: options, log: log)
        var phase = TrainingPhase(options: options, model: model)
        phase.classWeights = classWeights
        let frozenBefore = frozenDigests()
        let trainableBefore = headParameters == nil ? [:] : trainableDigests()

        // Feature caching: train the trainable rest on boundary activations computed once.
        var cache: FeatureCache? = nil
        var cacheSeconds = 0.0
        let start = Date()
        let plan = FeatureCache.plan(for: model)
        switch options.cache {
        case .off: break
        case .on, .auto:
            if !options.augmentation.isNone {
                if options.cache == .on { throw .invalidArgument(what: "cache", reason: "augmentation changes the inputs every epoch, so features cannot be cached") }
            } else if let plan {
                let cacheStart = Date()
                cache = try FeatureCache.build(plan, model: model, samples: data.train, normalization: normalization, log: log,
                                               shouldStop: shouldStop)
                cacheSeconds = Date().timeIntervalSince(cacheStart)
            } else if options.cache == .on {
                throw .invalidArgument(what: "cache", reason: "the first layer is trainable or random, so there is nothing frozen to cache")
            }
        }

        let batchesPerEpoch = dropSingle ? data.train.count / options.batchSize : (data.train.count + options.batchSize - 1) / options.batchSize
        if dropSingle {
            log.record(.message("dropping the last batch of each epoch: \(data.train.count) samples in batches of \(options.batchSize) leave 1, and BatchNorm in training mode needs more than one"))
        }
        let totalSteps = batchesPerEpoch * options.epochs
        phase.batchesPerEpoch = batchesPerEpoch
        let warmupSteps = options.warmupEpochs * batchesPerEpoch
        var records: [EpochRecord] = []
        var stopped: String? = nil
        var stoppedAtStep: Int? = nil
        var best: (loss: Float, snapshot: [Tensor])? = nil
        var epochsWithoutImprovement = 0
        var step = 0
        var imagesSeen = 0
        var firstEpoch = 1
        if let resume {
            guard resume.batchesPerEpoch == batchesPerEpoch, resume.epochs == options.epochs, !resume.finished,
                  resume.epoch <= options.epochs, resume.orders.count == resume.epoch - (resume.order.isEmpty ? 1 : 0) else {
                throw .invalidArgument(what: "resume", reason: "the checkpoint (\(resume.position), \(resume.batchesPerEpoch) batches an epoch) does not fit this run (\(options.epochs) epochs of \(batchesPerEpoch) batches)")
            }
            let samples = 0..<data.train.count
            guard (resume.orders + [resume.order]).allSatisfy({ $0.allSatisfy(samples.contains) }) else {
                throw .invalidArgument(what: "resume", reason: "the checkpoint's sample order names samples outside the \(data.train.count) of \(data.name)'s training split")
            }
            let current = stateSnapshot()
            if resume.bestLoss != nil, resume.bestSnapshot.count != current.count || zip(resume.bestSnapshot, current).contains(where: { $0.shape != $1.shape }) {
                throw .invalidArgument(what: "resume", reason: "the checkpoint's best weights (\(resume.bestSnapshot.count) tensors) are not this model's (\(current.count))")
            }
            (step, records, imagesSeen, epochsWithoutImprovement) = (resume.step, resume.records, resume.imagesSeen, resume.epochsWithoutImprovement)
            (phase.orders, phase.stepLosses) = (resume.orders, resume.stepLosses)
            if let loss = resume.bestLoss { best = (loss, resume.bestSnapshot) }
            firstEpoch = resume.epoch
            log.record(.message("resuming at \(resume.position)"))
        }
        /// The run's state now, standing at a batch boundary of `epoch` (`batch` of its batches done).
        func progress(epoch: Int, batch: Int, order: [Int] = [], sums: EpochSums = EpochSums(), finished: Bool = false) -> TrainingProgress {
            var p = TrainingProgress(epoch: epoch, batch: batch, batchesPerEpoch: batchesPerEpoch, epochs: options.epochs, step: step, generator: generator.state)
            (p.order, p.sums) = (order, sums)
            (p.imagesSeen, p.records, p.orders, p.stepLosses) = (imagesSeen, records, phase.orders, phase.stepLosses)
            (p.bestLoss, p.bestSnapshot, p.epochsWithoutImprovement) = (best?.loss, best?.snapshot ?? [], epochsWithoutImprovement)
            p.finished = finished
            return p
        }
        func write(_ p: TrainingProgress) throws(ModelError) {
            guard let checkpoint else { return }
            do { try checkpoint.write(p) } catch let error as ModelError { throw error } catch {
                throw .invalidArgument(what: "checkpoint", reason: "\(error)")
            }
        }
        var stoppedAt: TrainingProgress? = nil
        var diverged = false
        training: for epoch in firstEpoch...options.epochs {
            let epochStart = Date()
            let snapshot = stateSnapshot()
            var batches: Batches
            // Resumed part-way through this epoch: its order and sums as they stood.
            let partial = resume.flatMap { $0.epoch == epoch && !$0.order.isEmpty ? $0 : nil }
            do {
                if let partial {
                    batches = try Batches(data.train, batchSize: options.batchSize, normalization: normalization, shuffle: generator,
                                          augmentation: options.augmentation, order: partial.order)
                    batches.skip(partial.batch)
                } else {
                    batches = try Batches(data.train, batchSize: options.batchSize, normalization: normalization, shuffle: generator,
                                          augmentation: options.augmentation,
                                          order: options.sampler == .balanced ? Self.balancedDraws(data.train.labels, generator) : nil)
                    phase.orders.append(Array(batches.order.prefix(batchesPerEpoch * options.batchSize)))
                }
            } catch { throw .data(error) }
            var sums = partial?.sums ?? EpochSums()
            var rate = options.learningRate
            var batchIndex = partial?.batch ?? 0
            while batchIndex < batchesPerEpoch {
                // Before the batch's augmentation draws: a batch stopped part-way is undone to here.
                let drawn = generator.state
                guard let batch = batches.next() else { break }
                batchIndex += 1
                rate = options.schedule.rate(base: options.learningRate, step: step, total: totalSteps,
                                             stepsPerEpoch: batchesPerEpoch, warmup: warmupSteps)
                // Ctrl-C inside the batch: what the batch touched so far — BatchNorm statistics,
                // dropout draws from the session's generator, partial gradients — is put back.
                let boundary = (generator: drawn, buffers: model.buffers.map { $0.tensor.copied() })
                func stopInsideBatch() throws(ModelError) {
                    Self.copyValues(boundary.buffers, into: model.buffers.map(\.tensor))
                    generator.state = boundary.generator
                    for parameter in trainable { parameter.zeroGrad() }
                    guard step > (resume?.step ?? 0) else { throw .interrupted(what: "training", done: 0, total: totalSteps) }
                    stopped = "interrupted at epoch \(epoch), inside batch \(batchIndex)/\(batchesPerEpoch) (step \(step)); the weights are those after step \(step)"
                    stoppedAtStep = step
                    stoppedAt = progress(epoch: epoch, batch: batchIndex - 1, order: batches.order, sums: sums)
                }
                let logits: Tensor
                let context = ForwardContext(training: true, generator: generator, shouldStop: shouldStop)
                do {
                    logits = try trainingLogits(batch, cache: cache, context)
                } catch ModelError.interrupted {
                    try stopInsideBatch()
                    break training
                }
                let loss: Tensor
                do { loss = try logits.crossEntropy(labels: batch.labels, labelSmoothing: options.labelSmoothing, classWeights: classWeights) } catch {
                    throw .tensor(layer: model.nodes[model.nodes.count - 1].name, error: error)
                }
                let lossValue = (try? loss.item()) ?? .nan
                guard lossValue.isFinite else {
                    restore(snapshot)
                    optimizer = nil
                    diverged = true
                    let cause = Self.firstNonFinite(batch).map { "the input holds \($0)" } ?? "try a lower lr"
                    stopped = "loss became \(lossValue) at epoch \(epoch), batch \(batchIndex); restored the weights from the start of epoch \(epoch) (\(cause))"
                    break training
                }
                do { try loss.backward(shouldStop: shouldStop) } catch TensorError.interrupted {
                    try stopInsideBatch()
                    break training
                } catch { throw .tensor(layer: "backward", error: error) }
                if let clip = options.clipNorm { clipGradients(trainable, to: clip) }
                optimizer?.step(rate: rate)
                optimizer?.zeroGrad()
                step += 1
                phase.stepLosses.append(lossValue)
                sums.add(loss: lossValue, samples: batch.labels.count, correct: Evaluation.correct(logits, batch.labels, topK: 1))
                imagesSeen += batch.labels.count
                let elapsed = Date().timeIntervalSince(epochStart)
                log.record(.batch(epoch: epoch, epochs: options.epochs, batch: batchIndex, batches: batchesPerEpoch,
                                  loss: Float(sums.lossSum / Double(sums.seen)), accuracy: Float(sums.correct) / Float(sums.seen),
                                  imagesPerSecond: Double(sums.seen) / Swift.max(elapsed, 1e-9),
                                  secondsLeft: elapsed / Double(batchIndex) * Double(batchesPerEpoch - batchIndex)))
                if let limit = options.stepLimit, step >= limit {
                    stopped = "stopped after step \(step) (steps=\(limit)), at epoch \(epoch), batch \(batchIndex)/\(batchesPerEpoch)"
                    stoppedAtStep = step
                    stoppedAt = progress(epoch: epoch, batch: batchIndex, order: batches.order, sums: sums)
                    break training
                }
                if shouldStop() {
                    stopped = "interrupted at epoch \(epoch), batch \(batchIndex)/\(batchesPerEpoch) (step \(step)); the weights are those after that batch"
                    stoppedAtStep = step
                    stoppedAt = progress(epoch: epoch, batch: batchIndex, order: batches.order, sums: sums)
                    break training
                }
            }
            var validationLoss: Float? = nil, validationAccuracy: Float? = nil
            var validationSamples = 0, validationLossStandardError = 0.0
            if let validation = data.validation {
                let result = try Evaluation.evaluate(model, validation, normalization: normalization, classNames: data.classNames,
                                                     batchSize: Swift.max(options.batchSize, 64))
                validationLoss = result.loss
                validationAccuracy = result.accuracy
                (validationSamples, validationLossStandardError) = (result.count, result.lossStandardError)
            }
            let seconds = Date().timeIntervalSince(epochStart)
            var record = EpochRecord(epoch: epoch, loss: Float(sums.lossSum / Double(Swift.max(sums.seen, 1))),
                                     accuracy: Float(sums.correct) / Float(Swift.max(sums.seen, 1)), validationLoss: validationLoss,
                                     validationAccuracy: validationAccuracy, learningRate: rate,
                                     backboneLearningRate: options.backboneLearningRate.map { rate * $0 / options.learningRate }, seconds: seconds,
                                     imagesPerSecond: Double(sums.seen) / Swift.max(seconds, 1e-9))
            record.samples = sums.seen
            record.lossStandardError = Evaluation.standardError(sum: sums.batchLossSum, squares: sums.batchLossSquares, count: sums.lossBatches)
            (record.validationSamples, record.validationLossStandardError) = (validationSamples, validationLossStandardError)
            records.append(record)
            log.record(.epoch(record, epochs: options.epochs))
            if let patience = options.patience, let current = validationLoss {
                if let previous = best, current >= previous.loss {
                    epochsWithoutImprovement += 1
                    if epochsWithoutImprovement >= patience {
                        stopped = "early stopping: val_loss did not improve for \(patience) epoch\(patience == 1 ? "" : "s")"
                        break training
                    }
                } else {
                    best = (current, stateSnapshot())
                    epochsWithoutImprovement = 0
                }
            }
            if let checkpoint, epoch < options.epochs, epoch % checkpoint.every == 0 {
                try write(progress(epoch: epoch + 1, batch: 0))
            }
        }
        // Stopped part-way: the checkpoint holds the weights reached, before any best epoch is put back.
        if let stoppedAt { try write(stoppedAt) }
        if let best, options.restoreBest, options.patience != nil {
            restore(best.snapshot)
            log.record(.message(String(format: "restored the weights of the best epoch (val_loss %.4f)", best.loss)))
        }
        if let stopped { log.record(.message("stopped: \(stopped)")) }
        // Stopped part-way: where it stood; ended (every epoch, or early stopping): the end. A loss
        // that became NaN writes nothing (the weights went back to the start of its epoch).
        if stoppedAt == nil && !diverged {
            try write(progress(epoch: records.count + 1, batch: 0, finished: true))
        }
        let seconds = Date().timeIntervalSince(start)
        let changed = frozenDigests().filter { frozenBefore[$0.key] != $0.value }.map(\.key).sorted()
        if let headParameters {
            let after = trainableDigests()
            let moved = trainableBefore.filter { after[$0.key] != $0.value }.map(\.key)
            let head = trainableBefore.keys.filter { headParameters.contains($0) }.count, movedHead = moved.filter { headParameters.contains($0) }.count
            let backbone = trainableBefore.count - head, movedBackbone = moved.count - movedHead
            log.record(.message("moved: head \(movedHead) of \(head) tensor\(head == 1 ? "" : "s") (lr \(String(format: "%g", options.learningRate))), backbone \(movedBackbone) of \(backbone) (backbone-lr \(String(format: "%g", options.backboneLearningRate ?? 0)))"))
        }
        if frozenBefore.isEmpty {
            log.record(.message(headParameters == nil ? "frozen: none (every parameter trained)" : "frozen: none (every parameter trainable)"))
        } else if changed.isEmpty {
            log.record(.message("frozen: \(frozenBefore.count) tensor\(frozenBefore.count == 1 ? "" : "s") unchanged"))
        } else {
            log.record(.message("frozen: \(changed.count) of \(frozenBefore.count) frozen tensors CHANGED: \(changed.prefix(5).joined(separator: ", "))"))
        }
        phase.epochs = records
        return TrainingResult(epochs: records, stoppedEarly: stopped, seconds: seconds,
                              imagesPerSecond: Double(imagesSeen) / Swift.max(seconds, 1e-9), usedCache: cache != nil,
                              cacheSeconds: cacheSeconds, steps: step, stoppedAtStep: stoppedAtStep, droppedSingleSample: dropSingle, phase: phase)
    }

    /// A training batch's logits: through the whole model, or from its cached features.
    func trainingLogits(_ batch: Batch, cache: FeatureCache?, _ context: ForwardContext) throws(ModelError) -> Tensor {
        if let cache { return try cache.forward(batch.indices, model: model, context) }
        return try model.forward(batch.inputs, context, through: model.logitsNode)
    }

    /// Neither split may be empty.
    func checkSplits(_ data: Dataset) throws(ModelError) {
        let held = data.validation?.count ?? 0
        guard data.train.count > 0 else {
            throw .invalidArgument(what: "train", reason: "dataset \(data.name) has no training samples left (train 0" + (data.validation == nil ? ")" : ", val \(held)); hold out a smaller val= or add samples"))
        }
        if let validation = data.validation, validation.count == 0 {
            throw .invalidArgument(what: "train", reason: "dataset \(data.name) has an empty validation split (train \(data.train.count), val 0); use a larger val= or more samples")
        }
    }

    /// With discriminative rates: the keys of the head's parameters (the backbone is every other
    /// trainable parameter); nil without them. A model without a head has no backbone to tell apart.
    func backboneGroups(_ options: TrainingOptions) throws(ModelError) -> Set<String>? {
        guard options.backboneLearningRate != nil else { return nil }
        let head = model.nodes.filter(\.isHead)
        guard !head.isEmpty else {
            throw .invalidArgument(what: "backbone-lr", reason: "\(model.name) has no head, so there is no backbone to give a lower rate (graft one with 'head classes=N': the backbone is every layer outside it)")
        }
        return Set(head.flatMap { node in node.layer.parameters.map { Model.key(node.name, $0.key) } })
    }

    /// The first NaN or infinity in a batch's inputs, as `NaN at sample 12, index [0, 3, 4]`.
    static func firstNonFinite(_ batch: Batch) -> String? {
        let shape = Array(batch.inputs.shape.dropFirst())
        let size = Swift.max(shape.reduce(1, *), 1)
        return batch.inputs.withUnsafeBufferPointer { values -> String? in
            guard let offset = values.firstIndex(where: { !$0.isFinite }) else { return nil }
            let index = Tensor.position(of: offset % size, in: shape)
            let row = offset / size
            let sample = row < batch.indices.count ? batch.indices[row] : row
            return "\(values[offset].isNaN ? "NaN" : "an infinity") at sample \(sample), index [\(index.map(String.init).joined(separator: ", "))]"
        }
    }

    /// The dataset's samples must have the model's input shape and no more classes than its outputs.
    public func checkCompatible(_ data: Dataset, classes matching: ClassMatching = .names) throws(ModelError) {
        guard model.accepts(data.sampleShape) else {
            let hint = data.sampleShape.count == 3 && model.inputShape.count == 3
                ? " (load the data with size=\(model.inputShape[1]) and \(model.inputShape[0]) channel\(model.inputShape[0] == 1 ? "" : "s"), or build the model with input=\(data.sampleShape.map(String.init).joined(separator: "x")))"
                : ""
            throw .shapeMismatch(layer: model.name, reason: "dataset \(data.name) has samples \(data.sampleShape.map(String.init).joined(separator: "×")), the model expects \(model.inputShape.map(String.init).joined(separator: "×"))" + hint)
        }
        if matching == .any { return }
        let outputs = model.outputShape.last ?? 0
        let fix = "graft a new head for them (head classes=\(data.classes)), or say classes=index to train and score label i as output i"
        guard model.outputShape.count == 1, matching == .index ? data.classes <= outputs : data.classes == outputs else {
            throw .shapeMismatch(layer: model.name, reason: "dataset \(data.name) has \(data.classes) classes (\(listedNames(data.classNames))), the model outputs \(outputs)"
                                 + (model.classNames.count == outputs && outputs > 0 ? " (\(listedNames(model.classNames)))" : "") + ": " + (matching == .index ? "graft a new head for them (head classes=\(data.classes))" : fix))
        }
        if matching == .names, ClassMatching.named(data.classNames), ClassMatching.named(model.classNames), data.classNames != model.classNames {
            throw .shapeMismatch(layer: model.name, reason: "dataset \(data.name) has the classes \(listedNames(data.classNames)), the model's are \(listedNames(model.classNames)): " + fix)
        }
    }

    private func listedNames(_ names: [String]) -> String {
        names.count <= 6 ? names.joined(separator: ", ") : names.prefix(6).joined(separator: ", ") + " and \(names.count - 6) more"
    }

    /// Keeps the optimizer when it covers exactly the trainable set with the same settings; otherwise builds a new one and says so.
    private func prepareOptimizer(_ trainable: [Parameter], options: TrainingOptions, log: TrainingLog) {
        let sameSettings = optimizerKey.map { $0.0 == options.optimizer && $0.1 == options.weightDecay } ?? false
        defer { adoptedFrom = nil }
        if let optimizer, optimizer.covers(trainable), sameSettings {
            applyRateScales(optimizer, options: options)
            if let adoptedFrom { log.record(.message("optimizer: \(options.optimizer) continues with the state saved in \(adoptedFrom) (after \(optimizer.steps) steps)")) }
            return
        }
        if let adoptedFrom, let optimizer {
            let why = !optimizer.covers(trainable) ? "it is for another trainable set" : "it is \(optimizer.kind) with wd \(optimizer.weightDecay), this run \(options.optimizer) with wd \(options.weightDecay)"
            log.record(.message("optimizer: the state saved in \(adoptedFrom) is not used: \(why)"))
        }
        let previous = optimizer?.parameters.count
        let fresh = Optimizer(options.optimizer, parameters: trainable, weightDecay: options.weightDecay)
        applyRateScales(fresh, options: options)
        optimizer = fresh
        optimizerKey = (options.optimizer, options.weightDecay)
        let tensors = "\(trainable.count) trainable tensor\(trainable.count == 1 ? "" : "s")"
        if let previous {
            log.record(.message("optimizer: \(options.optimizer) state rebuilt for \(tensors) (was \(previous))"))
        } else {
            log.record(.message("optimizer: \(options.optimizer) for \(tensors)"))
        }
    }

    /// Head layers get the full rate; every other layer `backboneLearningRate / learningRate` of it,
    /// or, with layer decay, its block's share (``layerDecayScales(_:)``).
    private func applyRateScales(_ optimizer: Optimizer, options: TrainingOptions) {
        if let decay = options.layerDecay, let scales = try? layerDecayScales(decay) {
            optimizer.rateScales = optimizer.parameters.map { scales[ObjectIdentifier($0)] ?? 1 }
            return
        }
        guard let backbone = options.backboneLearningRate else {
            optimizer.rateScales = [Float](repeating: 1, count: optimizer.parameters.count)
            return
        }
        let head = Set(model.nodes.filter(\.isHead).flatMap { $0.layer.parameters.map { ObjectIdentifier($0.parameter) } })
        optimizer.rateScales = optimizer.parameters.map { head.contains(ObjectIdentifier($0)) ? 1 : backbone / options.learningRate }
    }

    /// Each parameter's share of the rate under layer decay `decay` (``Model/layerDecayScales(_:)``).
    public func layerDecayScales(_ decay: Float) throws(ModelError) -> [ObjectIdentifier: Float] {
        guard let scales = model.layerDecayScales(decay) else {
            throw .invalidArgument(what: "layer-decay", reason: "\(model.name) has no numbered blocks (blocks.N, encoder.layer.N, encoder_layer_N) to give rates by depth")
        }
        return Dictionary(scales.map { (ObjectIdentifier($0.parameter), $0.scale) }, uniquingKeysWith: { first, _ in first })
    }

    private func clipGradients(_ parameters: [Parameter], to maximum: Float) {
        var total = 0.0
        for p in parameters { if let g = p.grad { total += g.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } } }
        let norm = Float(total.squareRoot())
        guard norm > maximum, norm.isFinite else { return }
        let scale = maximum / norm
        for p in parameters {
            guard let g = p.grad else { continue }
            g.withUnsafeMutableBufferPointer { buffer in for i in buffer.indices { buffer[i] *= scale } }
        }
    }

    /// Copies of every trainable parameter and every buffer, to roll back to.
    func stateSnapshot() -> [Tensor] {
        model.trainableParameters.map { $0.parameter.value.copied() } + model.buffers.map { $0.tensor.copied() }
    }

    func restore(_ snapshot: [Tensor]) {
        Self.copyValues(snapshot, into: model.trainableParameters.map { $0.parameter.value } + model.buffers.map(\.tensor))
    }

    /// Puts saved values back, tensor by tensor, in place.
    private static func copyValues(_ snapshot: [Tensor], into targets: [Tensor]) {
        for (target, saved) in zip(targets, snapshot) where target.count == saved.count {
            saved.withUnsafeBufferPointer { source in
                target.withUnsafeMutableBufferPointer { destination in
                    for i in destination.indices { destination[i] = source[i] }
                }
            }
        }
    }

    /// A digest of every trainable parameter, by key.
    private func trainableDigests() -> [String: UInt64] {
        Dictionary(model.trainableParameters.map { ($0.key, Digest.of($0.parameter.value)) }, uniquingKeysWith: { first, _ in first })
    }

    /// A digest of every frozen parameter and of the buffers of every frozen BatchNorm.
    private func frozenDigests() -> [String: UInt64] {
        var digests: [String: UInt64] = [:]
        for node in model.nodes {
            for (key, parameter) in node.layer.parameters where !parameter.trainable {
                digests[Model.key(node.name, key)] = Digest.of(parameter.value)
            }
            if let norm = node.layer as? any RunningStatistics, !norm.trainsStatistics {
                for (key, tensor) in norm.buffers { digests[Model.key(node.name, key)] = Digest.of(tensor) }
            }
        }
        return digests
    }
}

/// FNV-1a over a tensor's bytes: compares weights bit for bit, and names a model state in sessions.
public enum Digest {
    public static func of(_ tensor: Tensor) -> UInt64 {
        tensor.withUnsafeBufferPointer { buffer in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for value in buffer {
                var bits = value.bitPattern
                for _ in 0..<4 {
                    hash = (hash ^ UInt64(bits & 0xFF)) &* 0x0000_0100_0000_01B3
                    bits >>= 8
                }
            }
            return hash
        }
    }

    /// One digest over every parameter and buffer of a model, in order (`weights 3f9a…`).
    public static func of(_ model: Model) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for tensor in model.parameters.map({ $0.parameter.value }) + model.buffers.map(\.tensor) {
            hash = (hash ^ of(tensor)) &* 0x0000_0100_0000_01B3
        }
        return String(hash, radix: 16).leftPadded(to: 16, with: "0")
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character) -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

/// How a dataset's labels must agree with a model's outputs before it trains or is scored on them.
public enum ClassMatching: String, Sendable, CaseIterable {
    /// As many classes, and the same names where both have names (the default).
    case names
    /// Label i is output i; the dataset may have fewer classes (`classes=index`).
    case index
    /// Only the sample shape must fit (showing activations, predicting one sample).
    case any

    /// True unless the names are the placeholders `0, 1, …` that a model or dataset without names carries.
    public static func named(_ names: [String]) -> Bool {
        !names.isEmpty && names != (0..<names.count).map(String.init)
    }
}
