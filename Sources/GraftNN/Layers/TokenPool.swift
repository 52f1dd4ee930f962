import GraftTensor

/// A transformer's features from its tokens [T, D] → [D]: one token (the class token, index 0;
/// DeiT's distillation token, index 1) or the mean of the tokens after the first `skip` (timm's
/// `global_pool="avg"`, which leaves the class and register tokens out). It is where `head` cuts.
public final class TokenPool: Layer, LayerKind {
    public enum Mode: Codable, Sendable, Equatable {
        /// The token at this index.
        case token(Int)
        /// The mean of the tokens from this index on.
        case mean(skip: Int)
    }

    public struct Config: Codable, Sendable, Equatable { public var mode: Mode }
    public static let key = "tokenPool"

    public let mode: Mode

    public init(_ mode: Mode) throws(ModelError) {
        switch mode {
        case let .token(index) where !(0...4096).contains(index), let .mean(index) where !(0...4096).contains(index):
            throw .invalidArgument(what: "TokenPool", reason: "a token index of 0…4096, got \(index)")
        default: break
        }
        self.mode = mode
        super.init(kind: "TokenPool")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(config.mode) }
    public var config: Config { Config(mode: mode) }
    public override var isHeadBoundary: Bool { true }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.count == 2 else {
            throw .shapeMismatch(layer: kind, reason: "expects tokens [T, D], got \(formatShape(inputs.first ?? []))")
        }
        switch mode {
        case let .token(index) where index >= shape[0], let .mean(index) where index >= shape[0]:
            throw .shapeMismatch(layer: kind, reason: "token \(index) of \(shape[0])")
        default: return [shape[1]]
        }
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        switch mode {
        case let .token(index): return try x.sliced(axis: 1, start: index, end: index + 1).reshaped([x.shape[0], x.shape[2]])
        case let .mean(skip): return try x.sliced(axis: 1, start: skip, end: x.shape[1]).mean(axes: [1], keepingDims: false)
        }
    }

    public override var details: String {
        switch mode {
        case let .token(index): return "token \(index)"
        case let .mean(skip): return "mean" + (skip > 0 ? " after \(skip)" : "")
        }
    }
}

// MARK: Export

extension TokenPool: ONNXExportable {
    /// `Slice` on the token axis, then `Flatten` (one token) or `ReduceMean` over it.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let tokens = node.inputShape.first ?? 0
        let (start, end) = { switch mode { case let .token(i): return (i, i + 1); case let .mean(skip): return (skip, tokens) } }()
        let sliced = writer.emit("Slice", [node.inputs[0], writer.int64Constant([start], name: node.key("start")),
                                           writer.int64Constant([end], name: node.key("end")), writer.int64Constant([1], name: node.key("axis"))])
        if case .token = mode {
            writer.emit("Flatten", [sliced], output: node.output, [ONNXWriter.attribute("axis", int: 1)])
        } else {
            writer.emit("ReduceMean", [sliced], output: node.output, [ONNXWriter.attribute("axes", ints: [1]), ONNXWriter.attribute("keepdims", int: 0)])
        }
    }
}

extension TokenPool: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        switch mode {
        case let .token(index): return PyTorchModule("TokenPool(index=\(index))", helpers: [.tokenPool])
        case let .mean(skip): return PyTorchModule("TokenPool(skip=\(skip))", helpers: [.tokenPool])
        }
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let tokenPool = PyTorchHelper("tokenPool", source: #"""
class TokenPool(nn.Module):
    """Tokens [N, T, D] to features [N, D]: the token at `index`, or the mean of those from `skip` on."""

    def __init__(self, index=None, skip=0):
        super().__init__()
        self.index, self.skip = index, skip

    def forward(self, x):
        return x[:, self.index] if self.index is not None else x[:, self.skip:].mean(1)
"""#)
}
