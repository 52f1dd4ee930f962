import GraftTensor

/// The matrix product of two computed values over their last two axes, the axes before them
/// broadcast: [..., m, k] × [..., k, n] → [..., m, n] (ONNX `MatMul` between two tensors of the
/// graph, as attention's q·kᵀ and weights·v are written).
public final class MatMul: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {}
    public static let key = "matMul"
    public init() { super.init(kind: "MatMul") }

    public convenience init(config: Config) throws(ModelError) { self.init() }
    public var config: Config { Config() }
    public override var arity: Int? { 2 }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard inputs.count == 2, inputs[0].count >= 2, inputs[1].count >= 2, inputs[0].last == inputs[1][inputs[1].count - 2] else {
            throw .shapeMismatch(layer: kind, reason: "expects [..., m, k] and [..., k, n], got \(inputs.map(formatShape).joined(separator: " and "))")
        }
        let (a, b) = (inputs[0], inputs[1])
        let batchA = Array(a.dropLast(2)), batchB = Array(b.dropLast(2))
        let rank = Swift.max(batchA.count, batchB.count)
        let padA = [Int](repeating: 1, count: rank - batchA.count) + batchA, padB = [Int](repeating: 1, count: rank - batchB.count) + batchB
        var batch: [Int] = []
        for (x, y) in zip(padA, padB) {
            guard x == y || x == 1 || y == 1 else { throw .shapeMismatch(layer: kind, reason: "batch axes \(formatShape(batchA)) and \(formatShape(batchB)) do not broadcast") }
            batch.append(Swift.max(x, y))
        }
        return batch + [a[a.count - 2], b[b.count - 1]]
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].matmul(inputs[1])
    }
}

// MARK: Export

extension MatMul: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("MatMul", node.inputs, output: node.output)
    }
}

extension MatMul: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("MatMul()", helpers: [.matMul]) }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let matMul = PyTorchHelper("matMul", source: #"""
class MatMul(nn.Module):
    """The matrix product of two values over their last two axes (the axes before broadcast)."""

    def forward(self, a, b):
        return a @ b
"""#)
}
