import GraftTensor
/// Why bytes could not be read: names the place in the file and the reason.
public enum FormatError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The bytes do not follow the format: `where` names the place (an offset, a field, a tensor).
    case malformed(format: String, where: String, reason: String)
    /// The bytes are valid but use something graft does not read.
    case unsupported(format: String, what: String)
    /// The data would exceed a limit (size, element count) before being read.
    case tooLarge(format: String, what: String, limit: String)
    /// The file asks for something graft refuses on principle (code to run).
    case refused(file: String, reason: String)
    /// A file cannot be written there (`cannot save x.safetensors: folder /nonexistent does not exist`).
    case cannotWrite(path: String, reason: String)
    /// Ctrl-C during a read (see ``Cancellation``).
    case interrupted(file: String)

    public var description: String {
        switch self {
        case let .malformed(format, place, reason): return "\(format): \(place): \(reason)"
        case let .unsupported(format, what): return "\(format): unsupported \(what)"
        case let .tooLarge(format, what, limit): return "\(format): \(what) exceeds the limit of \(limit)"
        case let .refused(file, reason): return "refusing to load \(file): \(reason)"
        case let .cannotWrite(path, reason): return "cannot save \(path): \(reason)"
        case let .interrupted(file): return "interrupted while reading \(file) (nothing was loaded)"
        }
    }
}

extension Cancellation {
    /// Throws `interrupted` when Ctrl-C was pressed (a reader checks between tensors).
    public static func check(_ file: String) throws(FormatError) {
        if requested { throw .interrupted(file: file) }
    }
}
