import GraftTensor

/// Reorders the sample axes: `order[i]` is the input axis that becomes axis i (Keras's `Permute`,
/// and how a channels-last flatten is reproduced: [C, H, W] → [H, W, C] with order [1, 2, 0]).
public final class Permute: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable { public var order: [Int] }
    public static let key = "permute"
    public let order: [Int]

    public init(_ order: [Int]) throws(ModelError) {
        guard !order.isEmpty, order.sorted() == Array(0..<order.count) else {
            throw .invalidArgument(what: "Permute", reason: "\(order) is not a permutation")
        }
        self.order = order
        super.init(kind: "Permute")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(config.order) }
    public var config: Config { Config(order: order) }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.count == order.count else {
            throw .shapeMismatch(layer: kind, reason: "order \(order) needs a rank-\(order.count) sample, got \(formatShape(inputs.first ?? []))")
        }
        return order.map { shape[$0] }
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].permuted([0] + order.map { $0 + 1 })
    }

    public override var details: String { order.map(String.init).joined(separator: ",") }
}

extension Permute: RelaysLayout {
    /// [C, H, W] → [H, W, C] of a map held channels-last is that map; [H, W, C] → [C, H, W] is its input, held channels-last.
    public func relay(_ input: Tensor, channelsLast: Bool) -> (output: Tensor, channelsLast: Bool)? {
        guard input.rank == 4 else { return nil }
        if channelsLast && order == [1, 2, 0] { return (input, false) }
        if !channelsLast && order == [2, 0, 1] { return (input, true) }
        return nil
    }

    public var relaysChannelsLast: Bool { order == [1, 2, 0] }
}

// MARK: Export

extension Permute: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        writer.emit("Transpose", node.inputs, output: node.output, [ONNXWriter.attribute("perm", ints: [0] + order.map { $0 + 1 })])
    }
}

extension Permute: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("Permute(\(Py.ints(order)))", helpers: [.permute]) }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let permute = PyTorchHelper("permute", source: #"""
class Permute(nn.Module):
    """Reorders the sample axes (Keras's Permute; the batch axis stays first)."""

    def __init__(self, order):
        super().__init__()
        self.order = tuple(order)

    def forward(self, x):
        return x.permute((0,) + tuple(a + 1 for a in self.order))
"""#)
}
