import GraftTensor

/// One mini-batch: model inputs [B, sampleShape…] (normalized, augmented if asked) and labels.
public struct Batch: Sendable {
    public let inputs: Tensor
    public let labels: [Int]
    /// Positions of these samples in their split.
    public let indices: [Int]
}

/// The mini-batches of one pass over `samples`: shuffled by `generator` when given (one
/// permutation per pass), the last partial batch kept, augmentation drawn in batch order.
public struct Batches: Sequence, IteratorProtocol {
    public let samples: Samples
    public let batchSize: Int
    public let order: [Int]
    let normalization: Normalization
    let augmentation: Augmentation
    let generator: Generator?
    private var position = 0

    /// `order` (indices into `samples`, repeats allowed) replaces the shuffled pass: a sampler's draws.
    public init(_ samples: Samples, batchSize: Int, normalization: Normalization = .unit, shuffle generator: Generator? = nil,
                augmentation: Augmentation = .none, order drawn: [Int]? = nil) throws(DataError) {
        guard batchSize > 0 else { throw .invalidArgument(what: "batch", reason: "batch size must be positive, got \(batchSize)") }
        guard augmentation.isNone || samples.isImage else {
            throw .invalidArgument(what: "augmentation", reason: "only image samples can be augmented")
        }
        if !augmentation.isNone && generator == nil {
            throw .invalidArgument(what: "augmentation", reason: "augmentation needs the session's generator")
        }
        self.samples = samples
        self.batchSize = batchSize
        self.normalization = try normalization.validated(channels: samples.isImage ? samples.sampleShape[0] : 1)
        self.augmentation = augmentation
        self.generator = generator
        if let drawn {
            guard drawn.allSatisfy({ (0..<samples.count).contains($0) }) else {
                throw .invalidArgument(what: "order", reason: "an index is outside the \(samples.count) samples")
            }
            self.order = drawn
        } else {
            var order = Array(0..<samples.count)
            generator?.shuffle(&order)
            self.order = order
        }
    }

    /// Moves past the first `batches` batches without reading them or drawing anything (a run
    /// resumed part-way through an epoch).
    public mutating func skip(_ batches: Int) {
        position = Swift.min(order.count, position + Swift.max(0, batches) * batchSize)
    }

    /// Number of batches in the pass.
    public var batchCount: Int { (order.count + batchSize - 1) / batchSize }

    public mutating func next() -> Batch? {
        guard position < order.count else { return nil }
        let indices = Array(order[position..<Swift.min(position + batchSize, order.count)])
        position += indices.count
        let size = samples.sampleSize
        let channels = samples.isImage ? samples.sampleShape[0] : 1
        var values = [Float](repeating: 0, count: indices.count * size)
        values.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            for (row, index) in indices.enumerated() {
                let target = base + row * size
                if let generator, !augmentation.isNone {
                    let image = augmentation.apply(to: samples.image(index), generator: generator)
                    for i in 0..<size { target[i] = image.pixels[i] }
                } else {
                    samples.write(index, into: target)
                }
                normalization.apply(target, channels: channels, plane: size / channels)
            }
        }
        let inputs = (try? Tensor(shape: [indices.count] + samples.sampleShape, scalars: values)) ?? Tensor(0)
        return Batch(inputs: inputs, labels: indices.map { samples.labels[$0] }, indices: indices)
    }
}
