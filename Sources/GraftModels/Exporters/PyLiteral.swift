import GraftNN
/// A Python value written as source: what `train.py`'s recipe is made of.
indirect enum PyLiteral {
    case none
    case bool(Bool)
    case int(Int)
    case float(Float)
    case string(String)
    case list([PyLiteral])
    case dict([(String, PyLiteral)])

    /// Source text; lists of numbers stay on one line, dictionaries put one key a line.
    func rendered(indent: Int = 0) -> String {
        let pad = String(repeating: " ", count: indent + 4), close = String(repeating: " ", count: indent)
        switch self {
        case .none: return "None"
        case let .bool(value): return value ? "True" : "False"
        case let .int(value): return String(value)
        case let .float(value): return Py.float(value)
        case let .string(value): return Py.string(value)
        case let .list(items):
            let flat = items.map { $0.rendered(indent: indent + 4) }
            let oneLine = "[" + flat.joined(separator: ", ") + "]"
            if !oneLine.contains("\n") && (oneLine.count <= 100 || items.allSatisfy(\.isScalar)) { return oneLine }
            return "[\n" + flat.map { pad + $0 + ",\n" }.joined() + close + "]"
        case let .dict(entries):
            if entries.isEmpty { return "{}" }
            return "{\n" + entries.map { pad + Py.string($0.0) + ": " + $0.1.rendered(indent: indent + 4) + ",\n" }.joined() + close + "}"
        }
    }

    var isScalar: Bool {
        switch self {
        case .list, .dict: return false
        default: return true
        }
    }
}
