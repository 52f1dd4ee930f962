import Foundation
import GraftData
import GraftNN
import GraftTensor

/// The learning-rate range test (Smith 2015; fastai's `lr_find`): train with a rate rising
/// exponentially from `start` to `end`, one step per batch, record the loss smoothed the way
/// fastai smooths it, stop once it diverges, then put everything back.
public struct LRFinderOptions: Sendable {
    public var start: Float = 1e-7
    public var classMatching = ClassMatching.names
    public var end: Float = 10
    /// Steps to take (nil: one pass over the training split, at least 20 and at most 100; past the
    /// end of a pass the data is reshuffled and the next pass goes on).
    public var steps: Int? = nil
    public var batchSize = 32
    public var optimizer = OptimizerKind.adamDefaults
    public var weightDecay: Float = 0
    public var cache = CacheMode.auto
    /// Stop once the smoothed loss exceeds this multiple of its minimum (fastai: 4).
    public var divergence: Float = 4
    public init() {}
}

public struct LRFinderResult: Sendable {
    /// The rate of each step taken.
    public let rates: [Float]
    /// The loss of each step, and the same smoothed (an exponential moving average, β = 0.98, debiased).
    public let losses: [Float]
    public let smoothed: [Float]
    /// Steps planned; `rates.count` were taken.
    public let planned: Int
    /// Why it stopped before `planned`, if it did.
    public let stoppedEarly: String?
    /// Where the smoothed loss falls fastest against log(rate) (fastai's `steep`).
    public let steepest: Float?
    /// A tenth of the rate at the lowest smoothed loss (fastai's `minimum`).
    public let minimumTenth: Float?
    /// The indices the suggestions were chosen among (fastai skips the first tenth and the last five).
    public let considered: Range<Int>
    public let usedCache: Bool
    public let seconds: Double
}

extension Trainer {
    /// Runs the range test on `data.train`. The trainable parameters, buffers (BatchNorm
    /// statistics), the generator and the trainer's optimizer are as before when it returns or throws.
    public func findLearningRate(_ data: Dataset, options: LRFinderOptions, generator: Generator, log: TrainingLog,
                                 shouldStop: @escaping () -> Bool = { false }) throws(ModelError) -> LRFinderResult {
        guard options.start > 0, options.end > options.start, options.end.isFinite else {
            throw .invalidArgument(what: "lr-find", reason: "needs 0 < start < end, got start \(options.start), end \(options.end)")
        }
        guard (1...65_536).contains(options.batchSize) else { throw .invalidArgument(what: "batch", reason: "must be 1–65536, got \(options.batchSize)") }
        try checkCompatible(data, classes: options.classMatching)
        try checkSplits(data)
        let trainable = model.trainableParameters.map(\.parameter)
        guard !trainable.isEmpty else {
            throw .invalidArgument(what: "lr-find", reason: "no trainable parameters; unfreeze some layers first (unfreeze last=1)")
        }
        let normalization = model.normalization ?? data.normalization
        let batchNormTrains = model.trainsSomeStatistics
        let perPass = batchNormTrains && data.train.count % options.batchSize == 1
            ? data.train.count / options.batchSize : (data.train.count + options.batchSize - 1) / options.batchSize
        guard perPass > 0 else { throw .invalidArgument(what: "lr-find", reason: "\(data.name) has too few samples for BatchNorm in training mode") }
        let planned = options.steps ?? Swift.min(Swift.max(perPass, 20), 100)
        guard planned >= 2 else { throw .invalidArgument(what: "steps", reason: "the range test needs at least 2 steps") }

        let saved = stateSnapshot(), generatorState = generator.state
        defer {
            restore(saved)
            generator.state = generatorState
            for parameter in trainable { parameter.zeroGrad() }
        }
        let start = Date()
        var cache: FeatureCache? = nil
        if options.cache != .off, let plan = FeatureCache.plan(for: model) {
            cache = try FeatureCache.build(plan, model: model, samples: data.train, normalization: normalization, log: log, shouldStop: shouldStop)
        } else if options.cache == .on {
            throw .invalidArgument(what: "cache", reason: "the first layer is trainable or random, so there is nothing frozen to cache")
        }
        let optimizer = Optimizer(options.optimizer, parameters: trainable, weightDecay: options.weightDecay)
        let ratio = Double(options.end) / Double(options.start)
        var rates: [Float] = [], losses: [Float] = [], smoothed: [Float] = []
        var average = 0.0, best = Float.infinity
        var stopped: String? = nil
        var batches: Batches? = nil
        var inPass = 0
        steps: while rates.count < planned {
            if batches == nil || inPass == perPass {
                do { batches = try Batches(data.train, batchSize: options.batchSize, normalization: normalization, shuffle: generator) } catch { throw .data(error) }
                inPass = 0
            }
            guard let batch = batches?.next() else { inPass = perPass; continue }
            inPass += 1
            let step = rates.count
            let rate = Float(Double(options.start) * Foundation.pow(ratio, Double(step) / Double(planned - 1)))
            let context = ForwardContext(training: true, generator: generator, shouldStop: shouldStop)
            let logits: Tensor
            do {
                logits = try trainingLogits(batch, cache: cache, context)
            } catch ModelError.interrupted {
                throw .interrupted(what: "lr-find", done: step, total: planned)
            }
            let loss: Tensor
            do { loss = try logits.crossEntropy(labels: batch.labels) } catch { throw .tensor(layer: model.nodes[model.nodes.count - 1].name, error: error) }
            let value = (try? loss.item()) ?? .nan
            guard value.isFinite else {
                stopped = "the loss became \(value) at step \(step + 1) (lr \(String(format: "%.3g", rate)))"
                break steps
            }
            do { try loss.backward(shouldStop: shouldStop) } catch TensorError.interrupted {
                throw .interrupted(what: "lr-find", done: step, total: planned)
            } catch { throw .tensor(layer: "backward", error: error) }
            optimizer.step(rate: rate)
            optimizer.zeroGrad()
            average = 0.98 * average + 0.02 * Double(value)
            let smooth = Float(average / (1 - Foundation.pow(0.98, Double(step + 1))))
            rates.append(rate)
            losses.append(value)
            smoothed.append(smooth)
            best = Swift.min(best, smooth)
            log.record(.progress(task: "lr-find", done: step + 1, total: planned,
                                 secondsLeft: Date().timeIntervalSince(start) / Double(step + 1) * Double(planned - step - 1)))
            if smooth > options.divergence * best {
                stopped = String(format: "the smoothed loss passed %g× its minimum at step %d (lr %.3g)", Double(options.divergence), step + 1, Double(rate))
                break steps
            }
            if shouldStop() { throw .interrupted(what: "lr-find", done: step + 1, total: planned) }
        }
        let (considered, steepest, minimumTenth) = Self.suggestions(rates: rates, smoothed: smoothed, planned: planned)
        return LRFinderResult(rates: rates, losses: losses, smoothed: smoothed, planned: planned, stoppedEarly: stopped,
                              steepest: steepest, minimumTenth: minimumTenth, considered: considered, usedCache: cache != nil,
                              seconds: Date().timeIntervalSince(start))
    }

    /// fastai's rules, among the points after the first tenth of the planned steps and before the
    /// last five taken: `steep` is the rate where the loss's slope against log(rate) is most
    /// negative; `minimum` a tenth of the rate at the lowest loss.
    static func suggestions(rates: [Float], smoothed: [Float], planned: Int) -> (Range<Int>, Float?, Float?) {
        let low = Swift.min(planned / 10, rates.count), high = Swift.max(low, rates.count - 5)
        let range = low..<high
        guard range.count >= 2 else { return (range, nil, nil) }
        var steepest: (slope: Float, index: Int)? = nil
        for i in range.dropLast() {
            let slope = (smoothed[i + 1] - smoothed[i]) / (Foundation.log(rates[i + 1]) - Foundation.log(rates[i]))
            if steepest.map({ slope < $0.slope }) ?? true { steepest = (slope, i) }
        }
        let lowest = range.min { smoothed[$0] < smoothed[$1] } ?? range.lowerBound
        return (range, steepest.map { rates[$0.index] }, rates[lowest] / 10)
    }
}
