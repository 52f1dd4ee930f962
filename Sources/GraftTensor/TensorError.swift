/// Everything a caller can get wrong when calling the engine: shapes, axes, arguments.
///
/// Messages name the op first, then the shapes involved, then the reason:
/// `matmul: [32,784] × [128,10]: inner dimensions 784 ≠ 128`.
public enum TensorError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The shapes given to `op` do not fit together.
    case shapeMismatch(op: String, shapes: [[Int]], reason: String)
    /// `axis` does not exist in a tensor of `shape`.
    case invalidAxis(op: String, axis: Int, shape: [Int])
    /// A non-shape argument of `op` is out of range or inconsistent.
    case invalidArgument(op: String, reason: String)
    /// `op` stopped part-way because its caller asked it to (Ctrl-C): its results are incomplete.
    case interrupted(op: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, shapes, reason):
            let listed = shapes.map(formatShape).joined(separator: " × ")
            return "\(op): \(listed): \(reason)"
        case let .invalidAxis(op, axis, shape):
            return "\(op): axis \(axis) out of range for a rank-\(shape.count) tensor \(formatShape(shape))"
        case let .invalidArgument(op, reason):
            return "\(op): \(reason)"
        case let .interrupted(op):
            return "\(op): interrupted"
        }
    }
}

/// `[32,784]`: the spelling of shapes in every message.
public func formatShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ",") + "]"
}
