import GraftTensor

/// Scales each sample's vectors along one axis (the channels by default) to unit Euclidean length:
/// y = x / max(‖x‖₂, ε), PyTorch's `F.normalize(x, dim=1 + axis, eps=ε)`. Keras's `UnitNormalization`
/// is this with ε = 1e-12 in Keras 3 (x · min(1/√Σx², 10¹²)) and ε = 1e-6 in tf-keras
/// (`tf.math.l2_normalize`: x / √max(Σx², 10⁻¹²)). It has no parameters and computes the same in
/// training and inference.
public final class UnitNorm: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable { public var epsilon: Float, axis: Int }
    public static let key = "unitNorm"

    public let epsilon: Float
    /// The sample axis normalized (0: the channels of [C, …]; the last: a token's width).
    public let axis: Int

    public init(epsilon: Float = 1e-12, axis: Int = 0) throws(ModelError) {
        guard epsilon > 0, epsilon.isFinite, epsilon * epsilon > 0 else {
            throw .invalidArgument(what: "UnitNorm", reason: "needs a finite epsilon above 1e-19 (its square must stay above zero), got \(epsilon)")
        }
        guard (0..<8).contains(axis) else { throw .invalidArgument(what: "UnitNorm", reason: "axis \(axis) is not a sample axis 0…7") }
        (self.epsilon, self.axis) = (epsilon, axis)
        super.init(kind: "UnitNorm")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(epsilon: config.epsilon, axis: config.axis) }
    public var config: Config { Config(epsilon: epsilon, axis: axis) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.count > axis else {
            throw .shapeMismatch(layer: kind, reason: "normalizes sample axis \(axis), got \(formatShape(inputs.first ?? []))")
        }
        return shape
    }

    /// √max(Σx², ε²) equals max(‖x‖, ε), and its gradient stays finite for a zero vector (the
    /// clamp passes none to the square root at zero).
    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        let length = try (x * x).sum(axes: [1 + axis], keepingDims: true).clamp(epsilon * epsilon, .greatestFiniteMagnitude).sqrt()
        return try x / length
    }

    public override var details: String { "\(axis == 0 ? "over channels" : "over axis \(axis)"), eps \(epsilon)" }
}

// MARK: Export

extension UnitNorm: ONNXExportable {
    /// ReduceL2 over the axis, Clip to ε from below, Div: what `torch.onnx.export` writes for
    /// `F.normalize` (without its Expand), so both import the same way.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let length = writer.emit("ReduceL2", [node.inputs[0]], [ONNXWriter.attribute("axes", ints: [1 + axis]), ONNXWriter.attribute("keepdims", int: 1)])
        let floor = writer.emit("Clip", [length, writer.constant([epsilon], name: node.key("epsilon"))])
        writer.emit("Div", [node.inputs[0], floor], output: node.output)
    }
}

extension UnitNorm: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("UnitNorm(\(Py.float(epsilon)), \(1 + axis))", helpers: [.unitNorm])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let unitNorm = PyTorchHelper("unitNorm", source: #"""
class UnitNorm(nn.Module):
    """Each sample scaled to unit length along one axis: x / max(||x||, eps)."""

    def __init__(self, eps, dim=1):
        super().__init__()
        self.eps, self.dim = eps, dim

    def forward(self, x):
        return F.normalize(x, dim=self.dim, eps=self.eps)
"""#)
}
