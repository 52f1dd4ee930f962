import GraftFormats
import GraftNN

/// A layer kind that writes itself as a `torch.nn` module of `model.py` (see ``PyTorchExporter``):
/// a constructor call whose parameters and buffers carry the layer's checkpoint keys, so the
/// exported `state_dict` matches graft's names and loads with `strict=True`.
public protocol PyTorchExportable {
    /// The module for this layer, or an error naming what PyTorch has no equivalent for.
    func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule
}

/// The layer being exported: its graft name and the shapes around it (no batch axis).
public struct PyTorchNode {
    public let name: String
    public let inputShapes: [[Int]]
    public let outputShape: [Int]
    public var inputShape: [Int] { inputShapes.first ?? [] }
}

/// One module of `model.py`: the constructor expression and the helper classes of the prelude it uses.
public struct PyTorchModule {
    public let constructor: String
    public let helpers: [PyTorchHelper]

    public init(_ constructor: String, helpers: [PyTorchHelper] = []) {
        self.constructor = constructor
        self.helpers = helpers
    }
}

/// Python literals for generated code.
enum Py {
    static func float(_ value: Float) -> String {
        if value.isNaN { return "math.nan" }
        if value.isInfinite { return value > 0 ? "math.inf" : "-math.inf" }
        return "\(value)"
    }

    static func floats(_ values: [Float]) -> String { "[" + values.map(float).joined(separator: ", ") + "]" }
    static func ints(_ values: [Int]) -> String { "(" + values.map(String.init).joined(separator: ", ") + (values.count == 1 ? ",)" : ")") }
    static func bool(_ value: Bool) -> String { value ? "True" : "False" }

    /// The one escaping function for generated Python: any text as a string literal (double quotes).
    /// Quotes (both kinds) and backslashes are escaped; every control (C0, DEL, C1), line or paragraph separator,
    /// bidirectional override or other format character is written as an escape, so the literal is
    /// one line of printable text that reads back as exactly `text` (and safe inside a comment).
    static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "'": out += "\\'"
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                // \x1b, \u202e: Python reads these escapes as the characters themselves.
                if let escape = scalar.escaped { out += escape } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    /// graft's own text for a docstring or comment, reduced to printable ASCII (it holds nothing from a file).
    static func plain(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }))
    }

    /// A pair as PyTorch takes it: one number when both are equal.
    static func pair(_ pair: (Int, Int)) -> String { pair.0 == pair.1 ? "\(pair.0)" : "(\(pair.0), \(pair.1))" }

    /// Padding as `F.pad` takes it for the last two axes: (left, right, top, bottom), or "same".
    static func padding(_ mode: PaddingMode) -> String {
        switch mode {
        case .same: return "\"same\""
        case let .explicit(p): return "(\(p.left), \(p.right), \(p.top), \(p.bottom))"
        }
    }

    /// The symmetric padding nn.Conv2d and the pooling modules take, when the mode is one.
    static func symmetric(_ mode: PaddingMode) -> (Int, Int)? {
        guard case let .explicit(p) = mode, p.top == p.bottom, p.left == p.right else { return nil }
        return (p.top, p.left)
    }
}
