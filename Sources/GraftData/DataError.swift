import GraftFormats

/// Why data could not be loaded: names the file (and line) and the reason.
public enum DataError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A file that could not be read or decoded.
    case unreadable(path: String, reason: String)
    /// A folder or dataset with nothing usable in it.
    case empty(path: String, reason: String)
    /// A malformed row of a text file.
    case badLine(path: String, line: Int, reason: String)
    /// An argument (digits, ratio, size) out of range.
    case invalidArgument(what: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case let .empty(path, reason): return "\(path): \(reason)"
        case let .badLine(path, line, reason): return "\(path):\(line): \(reason)"
        case let .invalidArgument(what, reason): return "\(what): \(reason)"
        }
    }
}
