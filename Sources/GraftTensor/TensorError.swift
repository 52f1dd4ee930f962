import Foundation

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
    /// `op` would take `bytes` with `held` already held: past the ``MemoryCeiling`` of `limit`.
    case memoryLimit(op: String, bytes: Int, held: Int, limit: Int)

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
        case let .memoryLimit(op, bytes, held, limit):
            return "\(op): would take \(formatBytes(bytes))\(held >= 1_000_000 ? " with \(formatBytes(held)) held" : ""), more than the memory limit of \(formatBytes(limit)) (set memory=GB changes it)"
        }
    }
}

/// `17.2 GB`, `640 MB`: the spelling of sizes in messages (decimal units, as `set memory=GB`).
public func formatBytes(_ bytes: Int) -> String {
    if bytes == .max { return "more than 9 EB" }
    return bytes >= 1_000_000_000 ? String(format: "%.1f GB", Double(bytes) / 1e9) : String(format: "%.0f MB", Double(bytes) / 1e6)
}

/// `[32,784]`: the spelling of shapes in every message.
public func formatShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ",") + "]"
}
