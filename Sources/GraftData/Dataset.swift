import GraftFormats
import Foundation
import GraftTensor

/// A named, labelled dataset with its fixed splits, class names and input preprocessing.
public struct Dataset: Sendable {
    public var name: String
    public var classNames: [String]
    public var train: Samples
    public var validation: Samples?
    public var test: Samples?
    /// How samples become model inputs (applied when batching).
    public var normalization: Normalization
    /// One line per file that was skipped while loading (`skipped cat/003.jpg: not a JPEG file`).
    public var skipped: [String]
    /// The fraction of the training samples that ``withValidation(fraction:generator:)`` held out
    /// as the validation split (nil: no split, or the source's own `val/` folder).
    public var heldOutFraction: Double? = nil
    /// How an image file became one of its samples (nil: not made from image files).
    public var imageTransform: ImageTransform? = nil

    public init(name: String, classNames: [String], train: Samples, validation: Samples? = nil, test: Samples? = nil,
                normalization: Normalization = .unit, skipped: [String] = []) {
        self.name = name
        self.classNames = classNames
        self.train = train
        self.validation = validation
        self.test = test
        self.normalization = normalization
        self.skipped = skipped
    }

    public var classes: Int { classNames.count }
    public var sampleShape: [Int] { train.sampleShape }

    /// Bytes the samples hold in memory.
    public var memoryBytes: Int { train.memoryBytes + (validation?.memoryBytes ?? 0) + (test?.memoryBytes ?? 0) }

    /// Moves a stratified `fraction` of the training samples into a validation split (drawn from
    /// `generator`). A split already held out with the same fraction is kept as it is (so later runs
    /// validate on the same samples); one with another fraction is drawn again from all of them.
    public func withValidation(fraction: Double, generator: Generator) throws(DataError) -> Dataset {
        if heldOutFraction == fraction, validation != nil { return self }
        var pool = train
        if let validation {
            guard heldOutFraction != nil else {
                throw .invalidArgument(what: "val", reason: "\(name) already has a validation split (\(validation.count) samples from its source); leave out val= to use it")
            }
            pool = train.appending(validation)
        }
        var copy = self
        let (kept, held) = try pool.stratifiedSplit(fraction: fraction, classes: classes, generator: generator)
        copy.train = kept
        copy.validation = held
        copy.heldOutFraction = fraction
        return copy
    }

    /// What `data info` prints: shape, splits with per-class counts, normalization, memory.
    public var summary: String {
        let shown = classNames.map { TextTable.cell($0, limit: 40) }  // names from folders and files, escaped
        var lines = ["dataset \(TextTable.cell(name)): \(train.count + (validation?.count ?? 0) + (test?.count ?? 0)) samples of \(sampleShape.map(String.init).joined(separator: "×")), \(classes) classes, normalization \(normalization)"]
        let width = max(5, shown.map(\.count).max() ?? 5)
        let splits: [(String, Samples)] = [("train", train)] + (validation.map { [("val", $0)] } ?? []) + (test.map { [("test", $0)] } ?? [])
        if let heldOutFraction, validation != nil {
            lines.append(String(format: "  val: %g %% of the training samples, held out by train val=%g (stratified, from the session's seed)", heldOutFraction * 100, heldOutFraction))
        }
        lines.append("  " + "class".padding(toLength: width, withPad: " ", startingAt: 0) + splits.map { "  " + $0.0.leftPadded(to: 6) }.joined())
        let counts = splits.map { $0.1.classCounts(classes: classes) }
        for (c, className) in shown.enumerated() {
            lines.append("  " + className.padding(toLength: width, withPad: " ", startingAt: 0) + counts.map { "  " + String($0[c]).leftPadded(to: 6) }.joined())
        }
        lines.append("  " + "total".padding(toLength: width, withPad: " ", startingAt: 0) + splits.map { "  " + String($0.1.count).leftPadded(to: 6) }.joined())
        lines.append(String(format: "  memory %.1f MB", Double(memoryBytes) / 1_048_576))
        if !skipped.isEmpty { lines.append("  skipped \(skipped.count) unreadable file\(skipped.count == 1 ? "" : "s")") }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
