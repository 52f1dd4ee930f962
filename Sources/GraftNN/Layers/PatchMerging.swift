import GraftTensor

/// Swin's patch merging, the rearrangement part: each 2×2 block of a channels-last map [H, W, C]
/// becomes one position of 4C values, the block's (top-left, bottom-left, top-right, bottom-right)
/// channels side by side, as torchvision, timm and Hugging Face concatenate them; an odd height or
/// width is padded with zeros first. The LayerNorm and the linear reduction that follow are layers
/// of their own (in the order the model has them: Swin V1 normalizes first, V2 after).
public final class PatchMerging: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {}
    public static let key = "patchMerging"

    public init() { super.init(kind: "PatchMerging") }
    public convenience init(config: Config) throws(ModelError) { self.init() }
    public var config: Config { Config() }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.count == 3, shape[2] > 0 else {
            throw .shapeMismatch(layer: kind, reason: "expects a channels-last map [H, W, C], got \(formatShape(inputs.first ?? []))")
        }
        let (channels, overflow) = shape[2].multipliedReportingOverflow(by: 4)
        guard !overflow else { throw .shapeMismatch(layer: kind, reason: "\(shape[2]) channels are too many to merge") }
        return [(shape[0] + 1) / 2, (shape[1] + 1) / 2, channels]
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        var x = inputs[0]
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        if h % 2 != 0 || w % 2 != 0 { x = try x.padded([(0, 0), (0, h % 2), (0, w % 2), (0, 0)]) }
        let (down, across) = ((h + 1) / 2, (w + 1) / 2)
        return try x.reshaped([n, down, 2, across, 2, c]).permuted([0, 1, 3, 4, 2, 5]).reshaped([n, down, across, 4 * c])
    }
}

// MARK: Export

extension PatchMerging: ONNXExportable {
    /// `Reshape` to [N, H/2, 2, W/2, 2, C], `Transpose` and `Reshape` to [N, H/2, W/2, 4C] (after a
    /// `Pad` of the bottom row or right column when the exported size is odd).
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let (h, w, c) = (node.inputShape[0], node.inputShape[1], node.inputShape[2])
        var x = node.inputs[0]
        if h % 2 != 0 || w % 2 != 0 {
            x = writer.emit("Pad", [x, writer.int64Constant([0, 0, 0, 0, 0, h % 2, w % 2, 0], name: node.key("pads"))])
        }
        let (down, across) = ((h + 1) / 2, (w + 1) / 2)
        x = writer.emit("Reshape", [x, writer.int64Constant([0, down, 2, across, 2, c], name: node.key("blocks"))])
        x = writer.emit("Transpose", [x], [ONNXWriter.attribute("perm", ints: [0, 1, 3, 4, 2, 5])])
        writer.emit("Reshape", [x, writer.int64Constant([0, down, across, 4 * c], name: node.key("merged"))], output: node.output)
    }
}

extension PatchMerging: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("PatchMerging()", helpers: [.patchMerging]) }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let patchMerging = PyTorchHelper("patchMerging", source: #"""
class PatchMerging(nn.Module):
    """Swin's patch merging without its norm and reduction: each 2x2 block of a channels-last map
    [N, H, W, C] (odd sizes padded) becomes 4C channels, (0, 0), (1, 0), (0, 1), (1, 1) in order."""

    def forward(self, x):
        n, h, w, c = x.shape
        x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        return x.reshape(n, (h + 1) // 2, 2, (w + 1) // 2, 2, c).permute(0, 1, 3, 4, 2, 5).reshape(n, (h + 1) // 2, (w + 1) // 2, 4 * c)
"""#)
}
