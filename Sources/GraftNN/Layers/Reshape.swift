import GraftTensor

/// Reshapes each sample (one dimension may be -1). With `trailing` k, the last k sizes are the
/// input's last k, whatever the input size (a channel shuffle [C, H, W] → [g, C/g, H, W] of an
/// ONNX graph whose height and width are free).
public final class Reshape: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        public var target: [Int]
        public var trailing: Int?
    }
    public static let key = "reshape"
    public let target: [Int]
    public let trailing: Int

    public init(_ target: [Int], trailing: Int = 0) throws(ModelError) {
        guard !target.isEmpty, target.allSatisfy({ $0 > 0 || $0 == -1 }), target.filter({ $0 == -1 }).count <= 1,
              target.count <= 8, (0...target.count).contains(trailing) else {
            throw .invalidArgument(what: "Reshape", reason: "target \(formatShape(target)) needs up to 8 positive sizes and at most one -1")
        }
        self.target = target
        self.trailing = trailing
        super.init(kind: "Reshape")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(config.target, trailing: config.trailing ?? 0) }
    public var config: Config { Config(target: target, trailing: trailing == 0 ? nil : trailing) }

    /// The target for a sample of this shape.
    func resolved(_ shape: [Int]) throws(ModelError) -> [Int] {
        var wanted = target
        if trailing > 0 {
            guard shape.count >= trailing else { throw .shapeMismatch(layer: kind, reason: "input \(formatShape(shape)) has fewer than \(trailing) axes") }
            wanted = Array(target.dropLast(trailing)) + shape.suffix(trailing)
        }
        var count = 1
        for size in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else { throw .shapeMismatch(layer: kind, reason: "input \(formatShape(shape)) is too large") }
            count = product
        }
        var known = 1
        for size in wanted where size > 0 {
            let (product, overflow) = known.multipliedReportingOverflow(by: size)
            guard !overflow else { throw .shapeMismatch(layer: kind, reason: "target \(formatShape(wanted)) is too large") }
            known = product
        }
        guard known > 0, count % known == 0, wanted.contains(-1) || known == count else {
            throw .shapeMismatch(layer: kind, reason: "cannot reshape \(formatShape(shape)) to \(formatShape(wanted))")
        }
        return wanted.map { $0 == -1 ? count / known : $0 }
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] { try resolved(inputs.first ?? []) }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        do { return try x.reshaped([x.shape[0]] + resolved(Array(x.shape.dropFirst()))) } catch {
            throw .invalidArgument(op: kind, reason: "\(error)")
        }
    }

    public override var details: String { formatShape(target) + (trailing > 0 ? " (last \(trailing) from the input)" : "") }
}

// MARK: Export

extension Reshape: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        // The shape for the declared input; ONNX's 0 keeps an input size, which only lines up when the rank does not change.
        var shape = [-1] + node.outputShape
        if trailing > 0 && node.inputShape.count == node.outputShape.count {
            for k in (shape.count - trailing)..<shape.count { shape[k] = 0 }
        }
        writer.emit("Reshape", [node.inputs[0], writer.int64Constant(shape, name: node.key("shape"))], output: node.output)
    }
}

extension Reshape: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Reshape(\(Py.ints(target))\(trailing > 0 ? ", trailing=\(trailing)" : ""))", helpers: [.reshape])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let reshape = PyTorchHelper("reshape", source: #"""
class Reshape(nn.Module):
    """Reshapes each sample to `target` (one size may be -1); the last `trailing` sizes come from the input."""

    def __init__(self, target, trailing=0):
        super().__init__()
        self.target, self.trailing = tuple(target), trailing

    def forward(self, x):
        target = self.target
        if self.trailing:
            target = target[: len(target) - self.trailing] + tuple(x.shape[x.dim() - self.trailing:])
        return x.reshape((x.shape[0],) + target)
"""#)
}
