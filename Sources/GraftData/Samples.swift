import GraftTensor

/// Labelled samples of one shape ([C, H, W] images or [F] feature rows), stored compactly:
/// images as bytes (value = byte / 255), arrays and tables as Float.
public struct Samples: Sendable {
    enum Values: Sendable {
        case bytes([UInt8])
        case floats([Float])
    }

    /// The shape of one sample: [C, H, W] or [F].
    public let sampleShape: [Int]
    public let labels: [Int]
    let values: Values
    /// Where each sample came from, when it was an image file: its path relative to the dataset's
    /// folder (`circle/circle_004.png`). Kept through subsets, splits and concatenation.
    public internal(set) var sources: [String]?

    init(sampleShape: [Int], labels: [Int], values: Values, sources: [String]? = nil) {
        self.sampleShape = sampleShape
        self.labels = labels
        self.values = values
        self.sources = sources.flatMap { $0.count == labels.count ? $0 : nil }
    }

    /// The same samples, each named by the file it came from (`sources`, one per sample).
    public func named(_ sources: [String]) -> Samples {
        Samples(sampleShape: sampleShape, labels: labels, values: values, sources: sources)
    }

    /// The file sample `index` came from, if it came from one.
    public func source(_ index: Int) -> String? {
        guard let sources, sources.indices.contains(index) else { return nil }
        return sources[index]
    }

    /// Images quantized to bytes: `pixels` holds `labels.count` samples of `sampleShape`, values in [0, 1].
    public init(sampleShape: [Int], labels: [Int], bytes: [UInt8]) {
        self.init(sampleShape: sampleShape, labels: labels, values: .bytes(bytes))
    }

    public init(sampleShape: [Int], labels: [Int], floats: [Float]) {
        self.init(sampleShape: sampleShape, labels: labels, values: .floats(floats))
    }

    public var count: Int { labels.count }
    /// The stored values when they are bytes (images: value = byte / 255).
    public var storedBytes: [UInt8]? { if case let .bytes(b) = values { return b } else { return nil } }
    /// The stored values when they are floats (arrays, tables).
    public var storedFloats: [Float]? { if case let .floats(f) = values { return f } else { return nil } }
    public var sampleSize: Int { sampleShape.reduce(1, *) }
    public var isImage: Bool { sampleShape.count == 3 }

    /// Bytes held in memory by the values and labels.
    public var memoryBytes: Int {
        switch values {
        case let .bytes(b): return b.count + labels.count * 8
        case let .floats(f): return f.count * 4 + labels.count * 8
        }
    }

    /// Writes sample `index` as Floats (bytes scaled to [0, 1]) into `out`.
    public func write(_ index: Int, into out: UnsafeMutablePointer<Float>) {
        let size = sampleSize, start = index * size
        switch values {
        case let .bytes(b): for i in 0..<size { out[i] = Float(b[start + i]) / 255 }
        case let .floats(f): for i in 0..<size { out[i] = f[start + i] }
        }
    }

    /// Sample `index` as an image (for augmentation).
    public func image(_ index: Int) -> Image {
        var pixels = [Float](repeating: 0, count: sampleSize)
        pixels.withUnsafeMutableBufferPointer { if let base = $0.baseAddress { write(index, into: base) } }
        return Image(channels: sampleShape[0], height: sampleShape[1], width: sampleShape[2], pixels: pixels)
    }

    /// The samples at `indices`, in that order.
    public func subset(_ indices: [Int]) -> Samples {
        let size = sampleSize
        let picked = indices.map { labels[$0] }
        let named = sources.map { all in indices.map { all[$0] } }
        switch values {
        case let .bytes(b):
            var out = [UInt8](); out.reserveCapacity(indices.count * size)
            for i in indices { out.append(contentsOf: b[(i * size)..<((i + 1) * size)]) }
            return Samples(sampleShape: sampleShape, labels: picked, values: .bytes(out), sources: named)
        case let .floats(f):
            var out = [Float](); out.reserveCapacity(indices.count * size)
            for i in indices { out.append(contentsOf: f[(i * size)..<((i + 1) * size)]) }
            return Samples(sampleShape: sampleShape, labels: picked, values: .floats(out), sources: named)
        }
    }

    /// These samples followed by `other`'s (same sample shape; bytes stay bytes when both are).
    public func appending(_ other: Samples) -> Samples {
        let named = sources.flatMap { mine in other.sources.map { mine + $0 } }
        switch (values, other.values) {
        case let (.bytes(a), .bytes(b)): return Samples(sampleShape: sampleShape, labels: labels + other.labels, values: .bytes(a + b), sources: named)
        case let (.floats(a), .floats(b)): return Samples(sampleShape: sampleShape, labels: labels + other.labels, values: .floats(a + b), sources: named)
        default:
            var values = [Float](repeating: 0, count: (count + other.count) * sampleSize)
            values.withUnsafeMutableBufferPointer { out in
                guard let base = out.baseAddress else { return }
                for i in 0..<count { write(i, into: base + i * sampleSize) }
                for i in 0..<other.count { other.write(i, into: base + (count + i) * sampleSize) }
            }
            return Samples(sampleShape: sampleShape, labels: labels + other.labels, values: .floats(values), sources: named)
        }
    }

    /// How many samples carry each label `0..<classes`.
    public func classCounts(classes: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: classes)
        for label in labels where label >= 0 && label < classes { counts[label] += 1 }
        return counts
    }

    /// Indices of each class, in sample order.
    func indicesByClass(classes: Int) -> [[Int]] {
        var groups = [[Int]](repeating: [], count: classes)
        for (i, label) in labels.enumerated() where label >= 0 && label < classes { groups[label].append(i) }
        return groups
    }

    /// A stratified split: from each class, `fraction` of its samples (rounded) go to the second part,
    /// chosen by `generator`; both parts keep sample order.
    public func stratifiedSplit(fraction: Double, classes: Int, generator: Generator) throws(DataError) -> (Samples, Samples) {
        guard fraction > 0, fraction < 1 else {
            throw .invalidArgument(what: "split", reason: "fraction must be between 0 and 1, got \(fraction)")
        }
        var first: [Int] = [], second: [Int] = []
        for var group in indicesByClass(classes: classes) {
            generator.shuffle(&group)
            let held = Int((Double(group.count) * fraction).rounded())
            second += group.prefix(held)
            first += group.dropFirst(held)
        }
        return (subset(first.sorted()), subset(second.sorted()))
    }

    /// At most `perClass` samples of each class, chosen by `generator`, in sample order.
    public func limited(perClass: Int, classes: Int, generator: Generator) throws(DataError) -> Samples {
        guard perClass > 0 else { throw .invalidArgument(what: "per-class", reason: "must be positive, got \(perClass)") }
        var kept: [Int] = []
        for var group in indicesByClass(classes: classes) {
            if group.count > perClass {
                generator.shuffle(&group)
                group = Array(group.prefix(perClass))
            }
            kept += group
        }
        return subset(kept.sorted())
    }

    /// All samples as one tensor [N, sampleShape…] (no normalization).
    public func tensor() throws(TensorError) -> Tensor {
        var values = [Float](repeating: 0, count: count * sampleSize)
        values.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            for i in 0..<count { write(i, into: base + i * sampleSize) }
        }
        return try Tensor(shape: [count] + sampleShape, scalars: values)
    }
}
