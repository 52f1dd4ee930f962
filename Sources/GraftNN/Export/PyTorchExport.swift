import GraftTensor

/// A layer kind that writes itself as a `torch.nn` module of `model.py` (GraftModels'
/// `PyTorchExporter` writes the file): a constructor call whose parameters and buffers carry the
/// layer's checkpoint keys, so the exported `state_dict` matches graft's names and loads with
/// `strict=True`. Each kind's conformance, and any Python class it needs, sits in its own file
/// under `Layers/`.
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

    public init(name: String, inputShapes: [[Int]], outputShape: [Int]) {
        (self.name, self.inputShapes, self.outputShape) = (name, inputShapes, outputShape)
    }
}

/// One module of `model.py`: the constructor expression and the helper classes of the prelude it uses.
/// With `function`, the constructor makes a bare `nn.Parameter` (a layer whose one tensor's key is
/// its name, as timm's `cls_token`), registered at the layer's name and passed with the inputs to
/// that function of the prelude.
public struct PyTorchModule {
    public let constructor: String
    public let function: String?
    public let helpers: [PyTorchHelper]

    public init(_ constructor: String, function: String? = nil, helpers: [PyTorchHelper] = []) {
        self.constructor = constructor
        self.function = function
        self.helpers = helpers
    }
}

/// Python literals for generated code (`model.py`, `train.py`).
public enum Py {
    public static func float(_ value: Float) -> String {
        if value.isNaN { return "math.nan" }
        if value.isInfinite { return value > 0 ? "math.inf" : "-math.inf" }
        return "\(value)"
    }

    public static func floats(_ values: [Float]) -> String { "[" + values.map(float).joined(separator: ", ") + "]" }
    public static func ints(_ values: [Int]) -> String { "(" + values.map(String.init).joined(separator: ", ") + (values.count == 1 ? ",)" : ")") }
    public static func bool(_ value: Bool) -> String { value ? "True" : "False" }

    /// The one escaping function for generated Python: any text as a string literal (double quotes).
    /// Quotes (both kinds) and backslashes are escaped; every control (C0, DEL, C1), line or paragraph separator,
    /// bidirectional override or other format character is written as an escape, so the literal is
    /// one line of printable text that reads back as exactly `text` (and safe inside a comment).
    public static func string(_ text: String) -> String {
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
    public static func plain(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }))
    }

    /// A pair as PyTorch takes it: one number when both are equal.
    public static func pair(_ pair: (Int, Int)) -> String { pair.0 == pair.1 ? "\(pair.0)" : "(\(pair.0), \(pair.1))" }

    /// Padding as `F.pad` takes it for the last two axes: (left, right, top, bottom), or "same".
    public static func padding(_ mode: PaddingMode) -> String {
        switch mode {
        case .same: return "\"same\""
        case let .explicit(p): return "(\(p.left), \(p.right), \(p.top), \(p.bottom))"
        }
    }

    /// The symmetric padding nn.Conv2d and the pooling modules take, when the mode is one.
    public static func symmetric(_ mode: PaddingMode) -> (Int, Int)? {
        guard case let .explicit(p) = mode, p.top == p.bottom, p.left == p.right else { return nil }
        return (p.top, p.left)
    }
}

/// A class or function `model.py` defines where `torch.nn` has no module with graft's exact meaning
/// (TensorFlow's "same" padding, Keras's separable convolution, graft's parameter names). Each is
/// declared in the file of the layer kind that uses it (`Layers/Conv2d.swift` holds `PaddedConv2d`);
/// the exporter writes those a model's modules name, each once, after the ones they need, in order
/// of name.
public struct PyTorchHelper: Hashable, Sendable {
    /// Its name (the order of the prelude).
    public let name: String
    /// Helpers its code calls.
    public let needs: [PyTorchHelper]
    /// Its Python source.
    public let source: String

    public init(_ name: String, needs: [PyTorchHelper] = [], source: String) {
        (self.name, self.needs, self.source) = (name, needs, source)
    }

    public static func == (a: PyTorchHelper, b: PyTorchHelper) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

// Shared by the kinds that take TensorFlow's "same" padding (convolutions, separable convolutions, pooling).
extension PyTorchHelper {
    static let samePadding = PyTorchHelper("samePadding", source: #"""
def same_padding(size, kernel, stride, dilation=(1, 1)):
    """TensorFlow's "same" padding for an input of size (height, width): the output is
    ceil(input / stride), the odd pixel goes to the bottom and right. As F.pad's (left, right, top, bottom)."""
    amounts = []
    for n, k, s, d in zip(size, kernel, stride, dilation):
        total = max(((n + s - 1) // s - 1) * s + (k - 1) * d + 1 - n, 0)
        amounts.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = amounts
    return (left, right, top, bottom)


def ceil_overhang(size, before, after, kernel, stride):
    """Extra bottom/right padding that ceil mode amounts to (the last window must start inside)."""
    span = size + before + after - kernel
    if span < 0:
        return 0
    count = (span + stride - 1) // stride + 1
    if (count - 1) * stride >= size + before:
        count -= 1
    return max(0, (count - 1) * stride + kernel - (size + before + after))
"""#)
}
