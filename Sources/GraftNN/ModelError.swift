import GraftTensor

/// Everything a user can get wrong with a model: names, shapes, selectors, settings.
/// Messages name the layer (or selector) first, then expected and found, then a hint.
public enum ModelError: Error, Equatable, CustomStringConvertible, Sendable {
    /// No layer has this name; `suggestion` is the nearest one.
    case unknownLayer(name: String, suggestion: String?)
    /// A layer's inputs do not fit it (at build time or for a given input).
    case shapeMismatch(layer: String, reason: String)
    /// A layer or argument setting out of range.
    case invalidArgument(what: String, reason: String)
    /// A selector that selects nothing or cannot be parsed.
    case badSelector(selector: String, reason: String)
    /// An op failed inside a layer.
    case tensor(layer: String, error: TensorError)
    /// The data given to a model could not be batched or read (GraftTraining wraps data errors so).
    case input(reason: String)
    /// Stopped by the user (Ctrl-C) before the work was done; nothing changed.
    case interrupted(what: String, done: Int, total: Int)

    public var description: String {
        switch self {
        case let .unknownLayer(name, suggestion):
            return "no layer named '\(name)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
        case let .shapeMismatch(layer, reason): return "\(layer): \(reason)"
        case let .invalidArgument(what, reason): return "\(what): \(reason)"
        case let .badSelector(selector, reason): return "selector '\(selector)': \(reason)"
        case let .tensor(layer, error): return "\(layer): \(error)"
        case let .input(reason): return reason
        case let .interrupted(what, done, total):
            return "interrupted while \(what) (\(done) \(total > 0 ? "of \(total)" : "layers built")); nothing changed"
        }
    }
}

/// The closest of `candidates` to `word` by edit distance, if it is close enough to be a likely typo.
public func nearest(_ word: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1] + [Int](repeating: 0, count: b.count)
            for (j, cb) in b.enumerated() {
                current[j + 1] = Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
    let target = Array(word.lowercased())
    let scored = candidates.map { ($0, distance(target, Array($0.lowercased()))) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    return best.1 <= Swift.max(2, target.count / 3) ? best.0 : nil
}
