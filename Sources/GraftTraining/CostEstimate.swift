import Foundation
import GraftData
import GraftNN
import GraftTensor

/// What a training run will cost, measured on a batch or two and extrapolated (`train … dry-run`).
public struct CostEstimate: Sendable {
    public let samples: Int
    public let batchesPerEpoch: Int
    public let epochs: Int
    /// Whether the run will cache the frozen prefix's features (see ``FeatureCache``).
    public let cached: Bool
    /// Nodes before the first one that trains (0 when the first layer trains).
    public let frozenPrefix: Int
    /// Seconds per sample: the frozen prefix's forward pass, and the trainable rest's forward,
    /// backward and optimizer step (measured on whole batches).
    public let frozenForwardPerSample: Double
    public let trainablePerSample: Double
    /// Seconds to evaluate the validation split once (0 without one).
    public let validationSeconds: Double
    public let weightBytes: Int, gradientBytes: Int, optimizerBytes: Int, activationBytes: Int, cacheBytes: Int, dataBytes: Int

    /// The one-off pass of the frozen prefix over every sample, when caching.
    public var cacheSeconds: Double { cached ? frozenForwardPerSample * Double(samples) : 0 }
    /// One epoch: the frozen forward (unless cached), the trainable part, the validation pass.
    public var epochSeconds: Double { Double(samples) * (trainablePerSample + (cached ? 0 : frozenForwardPerSample)) + validationSeconds }
    public var totalSeconds: Double { cacheSeconds + Double(epochs) * epochSeconds }
    /// The same run without caching.
    public var uncachedSeconds: Double { Double(epochs) * (Double(samples) * (trainablePerSample + frozenForwardPerSample) + validationSeconds) }
    public var peakBytes: Int { weightBytes + gradientBytes + optimizerBytes + activationBytes + cacheBytes + dataBytes }
}

extension Trainer {
    /// Measures `fit(data, options)` on up to two batches — the frozen prefix's forward pass, and
    /// the trainable rest's forward, backward and step on a throwaway optimizer — and extrapolates.
    /// Every parameter, buffer, gradient, the generator and the trainer's optimizer are as before.
    public func estimate(_ data: Dataset, options: TrainingOptions, generator: Generator) throws(ModelError) -> CostEstimate {
        let options = try options.validated()
        try checkCompatible(data, classes: options.classMatching)
        try checkSplits(data)
        let trainable = model.trainableParameters.map(\.parameter)
        guard !trainable.isEmpty else {
            throw .invalidArgument(what: "train", reason: "no trainable parameters; unfreeze some layers first (unfreeze last=1)")
        }
        let normalization = options.normalization ?? model.normalization ?? data.normalization
        let plan = FeatureCache.plan(for: model)
        let cached = options.cache != .off && options.augmentation.isNone && plan != nil
        let saved = stateSnapshot(), generatorState = generator.state
        defer {
            restore(saved)
            generator.state = generatorState
            for parameter in trainable { parameter.zeroGrad() }
        }
        var batches: Batches
        do { batches = try Batches(data.train, batchSize: options.batchSize, normalization: normalization, shuffle: generator) } catch { throw .data(error) }
        let optimizer = Optimizer(options.optimizer, parameters: trainable, weightDecay: options.weightDecay)
        var frozen: [Double] = [], rest: [Double] = [], sizes: [Int] = []
        for _ in 0..<2 {
            guard let batch = batches.next() else { break }
            let start = Date()
            var values = [Tensor?](repeating: nil, count: model.nodes.count)
            values[0] = batch.inputs
            if let plan {
                try withoutGradients { () throws(ModelError) in
                    try model.run(&values, from: 1, through: plan.firstTrained - 1, ForwardContext(training: false), keeping: Set(plan.boundary))
                }
            }
            let middle = Date()
            let context = ForwardContext(training: true, generator: generator)
            try model.run(&values, from: plan?.firstTrained ?? 1, through: model.logitsNode, context)
            guard let logits = values[model.logitsNode] else { throw .invalidArgument(what: "train", reason: "no output") }
            do {
                try logits.crossEntropy(labels: batch.labels, labelSmoothing: options.labelSmoothing).backward()
            } catch { throw .tensor(layer: "backward", error: error) }
            optimizer.step(rate: options.learningRate)
            optimizer.zeroGrad()
            let end = Date()
            frozen.append(plan == nil ? 0 : middle.timeIntervalSince(start))
            rest.append(end.timeIntervalSince(middle))
            sizes.append(batch.labels.count)
        }
        // Per sample, from the second batch when there are two (the first pays for warming caches up).
        let take = { (times: [Double], sizes: [Int]) -> Double in
            let i = times.count > 1 ? 1 : 0
            return times.isEmpty ? 0 : times[i] / Double(Swift.max(sizes[i], 1))
        }
        let batchesPerEpoch = (data.train.count + options.batchSize - 1) / options.batchSize
        let frozenPerSample = take(frozen, sizes), restPerSample = take(rest, sizes)
        var validationSeconds = 0.0
        if let validation = data.validation, validation.count > 0 {
            // Inference of the whole model: about the frozen forward plus a third of the rest.
            validationSeconds = (frozenPerSample + restPerSample / 3) * Double(validation.count)
        }
        let shapes = try model.nodeShapes(forInput: data.sampleShape)
        let bytes = { (shape: [Int]) in shape.reduce(1, *) * 4 }
        let trainedNodes = (plan?.firstTrained ?? 1)...model.logitsNode
        let prefixPeak = plan.map { p in (1..<p.firstTrained).map { bytes(shapes[$0]) }.max() ?? 0 } ?? 0
        // A batch holds at most the training split (batch=8192 on 100 images is a batch of 100).
        let activations = min(options.batchSize, max(1, data.train.count)) * (trainedNodes.reduce(0) { $0 + 2 * bytes(shapes[$1]) } + 2 * prefixPeak)
        let moments: Int
        switch options.optimizer {
        case .adam, .adamW: moments = 2
        case let .sgd(momentum, _): moments = momentum > 0 ? 1 : 0
        case let .rmsprop(_, _, momentum): moments = momentum > 0 ? 2 : 1
        }
        let trainableBytes = trainable.reduce(0) { $0 + $1.count * 4 }
        return CostEstimate(samples: data.train.count, batchesPerEpoch: batchesPerEpoch, epochs: options.epochs, cached: cached,
                            frozenPrefix: (plan?.firstTrained ?? 1) - 1,
                            frozenForwardPerSample: frozenPerSample, trainablePerSample: restPerSample, validationSeconds: validationSeconds,
                            weightBytes: model.parameterCount * 4 + model.buffers.reduce(0) { $0 + $1.tensor.count * 4 },
                            gradientBytes: trainableBytes, optimizerBytes: moments * trainableBytes, activationBytes: activations,
                            cacheBytes: cached ? (plan?.boundary.reduce(0) { $0 + bytes(shapes[$1]) } ?? 0) * data.train.count : 0,
                            dataBytes: data.memoryBytes)
    }
}
