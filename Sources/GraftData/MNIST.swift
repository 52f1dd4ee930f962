import Foundation
import GraftFormats
import GraftTensor

/// The bundled MNIST subset (`Examples/mnist/mnist_5k.csv.gz`: 5,000 digits, 500 per class).
///
/// The train/test split is fixed: within each digit, a permutation drawn from a constant seed puts
/// 80 % in train and 20 % in test, so every session sees the same test set whatever its own seed.
/// The session's generator only draws the per-class subset of the training split.
public enum MNIST {
    public static let relativePath = "mnist/mnist_5k.csv.gz"
    /// The seed of the fixed split (not the session's).
    static let splitSeed: UInt64 = 0x4D4E_4953_54  // "MNIST"
    public static let testFraction = 0.2

    /// The bundled file's digits once read (4 MB): `data mnist` again in a session, or in each of
    /// a fuzzer's inputs, does not inflate and parse 16 MB of text again.
    private static let bundled = Locked<(pixels: [UInt8], labels: [Int])?>(nil)

    /// All 5,000 digits in file order, as bytes [5000 × 784] and labels.
    public static func readAll(path: String? = nil) throws(DataError) -> (pixels: [UInt8], labels: [Int]) {
        if let path { return try parse(path) }
        if let cached = bundled.withLock({ $0 }) { return cached }
        let read = try parse(try ExampleFiles.locate(relativePath))
        bundled.withLock { $0 = read }
        return read
    }

    static func parse(_ file: String) throws(DataError) -> (pixels: [UInt8], labels: [Int]) {
        let compressed: Data
        do { compressed = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw .unreadable(path: file, reason: "cannot read the file")
        }
        let text: Data
        do { text = try Inflate.decompress(compressed, wrapping: .gzip, limit: 64 << 20, what: file) } catch {
            throw .unreadable(path: file, reason: error.description)
        }
        var pixels = [UInt8](), labels = [Int]()
        pixels.reserveCapacity(5000 * 784)
        var line = 1, field = 0, value = 0, digits = 0
        var row = [UInt8](repeating: 0, count: 784)
        for byte in text {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                guard value <= 255 else { throw .badLine(path: file, line: line, reason: "value above 255 in field \(field + 1)") }
            case UInt8(ascii: ","), UInt8(ascii: "\n"):
                guard digits > 0 else { throw .badLine(path: file, line: line, reason: "empty field \(field + 1)") }
                if field < 784 { row[field] = UInt8(value) } else if field == 784 {
                    guard value <= 9 else { throw .badLine(path: file, line: line, reason: "label \(value) is not a digit") }
                    labels.append(value)
                }
                field += 1
                value = 0; digits = 0
                if byte == UInt8(ascii: "\n") {
                    guard field == 785 else { throw .badLine(path: file, line: line, reason: "\(field) fields, expected 785") }
                    pixels += row
                    field = 0
                    line += 1
                }
            case UInt8(ascii: "\r"): continue
            default: throw .badLine(path: file, line: line, reason: "unexpected character in field \(field + 1)")
            }
        }
        guard field == 0 else { throw .badLine(path: file, line: line, reason: "last line is incomplete") }
        guard !labels.isEmpty else { throw .empty(path: file, reason: "no digits in the file") }
        return (pixels, labels)
    }

    /// Digits `digits` (labels become their positions in that list, class names the digits),
    /// with the fixed split and, if `perClass` is given, that many training images per class
    /// drawn with `generator`.
    public static func load(digits: [Int] = Array(0...9), perClass: Int? = nil, generator: Generator? = nil,
                            path: String? = nil, name: String = "mnist") throws(DataError) -> Dataset {
        guard !digits.isEmpty, digits.allSatisfy({ (0...9).contains($0) }), Set(digits).count == digits.count else {
            throw .invalidArgument(what: "digits", reason: "need distinct digits 0–9, got \(digits)")
        }
        let (pixels, labels) = try readAll(path: path)
        let all = Samples(sampleShape: [1, 28, 28], labels: labels, bytes: pixels)
        // The fixed split, per digit.
        let fixed = Generator(seed: splitSeed)
        var trainIndices: [Int] = [], testIndices: [Int] = []
        for var group in all.indicesByClass(classes: 10) {
            fixed.shuffle(&group)
            let held = Int((Double(group.count) * testFraction).rounded())
            testIndices += group.prefix(held)
            trainIndices += group.dropFirst(held)
        }
        let position = Dictionary(uniqueKeysWithValues: digits.enumerated().map { ($1, $0) })
        func pick(_ indices: [Int]) -> Samples {
            let kept = indices.sorted().filter { position[labels[$0]] != nil }
            let subset = all.subset(kept)
            return Samples(sampleShape: subset.sampleShape, labels: subset.labels.map { position[$0] ?? 0 }, values: subset.values)
        }
        var train = pick(trainIndices)
        if let perClass {
            guard let generator else { throw .invalidArgument(what: "per-class", reason: "drawing a subset needs the session's generator") }
            train = try train.limited(perClass: perClass, classes: digits.count, generator: generator)
        }
        var data = Dataset(name: name, classNames: digits.map(String.init), train: train, test: pick(testIndices))
        data.imageTransform = ImageTransform(channels: 1, height: 28, width: 28, resize: nil, eightBit: true)
        return data
    }

    /// Parses a digit selection: `0-4`, `5-9`, `1,3,5`, `7`.
    public static func parseDigits(_ text: String) throws(DataError) -> [Int] {
        var digits: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            if bounds.count == 2, let low = Int(bounds[0]), let high = Int(bounds[1]), (0...9).contains(low), (0...9).contains(high), low <= high {
                digits += Array(low...high)
            } else if bounds.count == 1, let digit = Int(bounds[0]), (0...9).contains(digit) {
                digits.append(digit)
            } else {
                throw .invalidArgument(what: "digits", reason: "'\(part)' is not a digit or a range like 0-4")
            }
        }
        guard !digits.isEmpty, Set(digits).count == digits.count else {
            throw .invalidArgument(what: "digits", reason: "'\(text)' must name distinct digits")
        }
        return digits
    }
}
