import Foundation
import GraftTensor

/// Learned absolute position embeddings added to tokens [T, D]: one parameter [1, P + h·w, D] (the
/// P prefix tokens it covers, then the patch grid row by row), whose key is the layer's name (timm's
/// `pos_embed`, torchvision's `encoder.pos_embedding`, Hugging Face's `embeddings.position_embeddings`).
///
/// A second input, the patch embedding's feature map [C, H, W], gives the grid of this input: when it
/// differs from the table's, the grid part is resized by bicubic interpolation as the source
/// framework does it — timm's `resample_abs_pos_embed` (antialiased, PIL's a = −0.5 kernel) or
/// Hugging Face's `interpolate_pos_encoding` (a = −0.75, clamped borders); the prefix rows stay.
/// The resize is a fixed linear map of the table, so gradients reach the table at any size.
public final class PositionEmbedding: Layer, LayerKind {
    /// How a table is resized to another grid.
    public enum Resize: String, Codable, Sendable, Equatable {
        /// timm: `F.interpolate(mode="bicubic", antialias=True, align_corners=False)`.
        case antialiased
        /// Hugging Face ViT, DeiT, DINOv2: `F.interpolate(mode="bicubic", align_corners=False)`.
        case bicubic
    }

    public struct Config: Codable, Sendable, Equatable {
        public var prefix: Int
        public var grid: [Int]
        public var width: Int
        public var resize: Resize
    }
    public static let key = "positionEmbedding"

    public let prefix: Int
    public let grid: (height: Int, width: Int)
    public let width: Int
    public let resize: Resize
    public let table: Parameter

    public init(prefix: Int, grid: (Int, Int), width: Int, resize: Resize = .antialiased, generator: Generator) throws(ModelError) {
        guard (0...4096).contains(prefix), (1...1024).contains(grid.0), (1...1024).contains(grid.1), featuresFit(width),
              (prefix + grid.0 * grid.1) * width <= 1 << 28 else {
            throw .invalidArgument(what: "PositionEmbedding", reason: "needs 0…4096 prefix tokens, a grid of 1…1024 per side, a width of 1…\(featureLimit) and at most 2^28 values")
        }
        (self.prefix, self.grid, self.width, self.resize) = (prefix, grid, width, resize)
        let rows = prefix + grid.0 * grid.1
        do { table = Parameter(try Tensor.randomNormal([1, rows, width], generator: generator) * 0.02) } catch { throw .tensor(layer: "PositionEmbedding", error: error) }
        super.init(kind: "PositionEmbedding")
        adopt("", table)
    }

    public convenience init(config c: Config) throws(ModelError) {
        guard c.grid.count == 2 else { throw .invalidArgument(what: "PositionEmbedding", reason: "grid needs [height, width]") }
        try self.init(prefix: c.prefix, grid: (c.grid[0], c.grid[1]), width: c.width, resize: c.resize, generator: configGenerator())
    }
    public var config: Config { Config(prefix: prefix, grid: [grid.height, grid.width], width: width, resize: resize) }
    /// The tokens, and optionally the feature map whose grid they are.
    public override var arity: Int? { nil }

    /// The grid of this input: the feature map's (second input) or the table's own.
    func inputGrid(_ shapes: [[Int]]) -> (Int, Int) {
        if shapes.count > 1, shapes[1].count == 3 { return (shapes[1][1], shapes[1][2]) }
        return grid
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let (h, w) = inputGrid(inputs)
        guard let shape = inputs.first, shape == [prefix + h * w, width], inputs.count == 1 || inputs.count == 2 && inputs[1].count == 3 else {
            throw .shapeMismatch(layer: kind, reason: "expects tokens [\(prefix) + \(h)×\(w), \(width)], got \(formatShape(inputs.first ?? []))")
        }
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let (h, w) = inputGrid(inputs.map { Array($0.shape.dropFirst()) })
        return try inputs[0] + (try resized(to: (h, w)))
    }

    /// The table for a grid of h × w: itself, or its grid part resized.
    func resized(to size: (Int, Int)) throws(TensorError) -> Tensor {
        if size == grid { return table.value }
        let rows = grid.height * grid.width
        let body = try table.value.sliced(axis: 1, start: prefix, end: prefix + rows).reshaped([rows, width])
        let map = try Tensor(shape: [size.0 * size.1, rows], scalars: Self.resizeMatrix(from: grid, to: size, resize))
        let moved = try map.matmul(body).reshaped([1, size.0 * size.1, width])
        guard prefix > 0 else { return moved }
        return try Tensor.concatenate([try table.value.sliced(axis: 1, start: 0, end: prefix), moved], axis: 1)
    }

    /// The [h'·w', h·w] matrix of a separable bicubic resize of a row-major grid.
    static func resizeMatrix(from: (Int, Int), to: (Int, Int), _ resize: Resize) -> [Float] {
        let rows = weights(from: from.0, to: to.0, resize), columns = weights(from: from.1, to: to.1, resize)
        let inner = from.0 * from.1
        var matrix = [Float](repeating: 0, count: to.0 * to.1 * inner)
        for (r, rowWeights) in rows.enumerated() {
            for (c, columnWeights) in columns.enumerated() {
                let out = (r * to.1 + c) * inner
                for (i, a) in rowWeights { for (j, b) in columnWeights { matrix[out + i * from.1 + j] += Float(a * b) } }
            }
        }
        return matrix
    }

    /// One axis's interpolation: for each output position, its (input index, weight) taps —
    /// PyTorch's `upsample_bicubic2d` (a = −0.75, taps clamped to the edge) or its antialiased
    /// variant (PIL's a = −0.5, widened when shrinking, weights renormalized).
    public static func weights(from n: Int, to m: Int, _ resize: Resize) -> [[(Int, Double)]] {
        let scale = Double(n) / Double(m)
        return (0..<m).map { o in
            switch resize {
            case .bicubic:
                func cubic(_ x: Double) -> Double {
                    let a = -0.75, x = Swift.abs(x)
                    if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                    if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
                    return 0
                }
                let source = scale * (Double(o) + 0.5) - 0.5
                let base = Int(Foundation.floor(source)), t = source - Double(base)
                let taps = [cubic(t + 1), cubic(t), cubic(1 - t), cubic(2 - t)]
                return taps.enumerated().map { k, weight in (Swift.min(Swift.max(base - 1 + k, 0), n - 1), weight) }
            case .antialiased:
                func cubic(_ x: Double) -> Double {
                    let a = -0.5, x = Swift.abs(x)
                    if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
                    if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
                    return 0
                }
                let support = scale >= 1 ? 2 * scale : 2, inverse = scale >= 1 ? 1 / scale : 1
                let center = scale * (Double(o) + 0.5)
                let low = Swift.max(Int(center - support + 0.5), 0), high = Swift.min(Int(center + support + 0.5), n)
                let taps = (low..<Swift.max(low, high)).map { j in (j, cubic((Double(j) - center + 0.5) * inverse)) }
                let total = taps.reduce(0) { $0 + $1.1 }
                return taps.map { ($0.0, total == 0 ? 0 : $0.1 / total) }
            }
        }
    }

    public override var details: String { "\(prefix) + \(grid.height)×\(grid.width)" + (resize == .bicubic ? ", bicubic" : "") }
}

// MARK: Export

extension PositionEmbedding: ONNXExportable {
    /// `Add` of the table at this input's grid (the graph's sizes are fixed once exported).
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let rows = node.inputShape.first ?? 0
        let size = rows - prefix == grid.height * grid.width ? grid : Self.squareGrid(rows - prefix) ?? grid
        writer.emit("Add", [node.inputs[0], writer.initializer(node.name, try resized(to: size))], output: node.output)
    }

    /// The side of a square grid of `count` cells.
    static func squareGrid(_ count: Int) -> (Int, Int)? {
        let side = Int(Double(count).squareRoot().rounded())
        return side * side == count ? (side, side) : nil
    }
}

extension PositionEmbedding: PyTorchExportable {
    /// A bare `nn.Parameter` at the layer's name, added by `add_position` (which resizes it as graft
    /// does when the feature map's grid differs).
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        let call = "(lambda table, x, *grid_map: add_position(table, x, grid_map, \(prefix), \(Py.ints([grid.height, grid.width])), \(Py.bool(resize == .antialiased))))"
        return PyTorchModule("nn.Parameter(torch.zeros(1, \(prefix + grid.height * grid.width), \(width)))", function: call, helpers: [.addPosition])
    }
}

// The Python function this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let addPosition = PyTorchHelper("addPosition", source: #"""
def add_position(table, x, grid_map, prefix, grid, antialias):
    """Adds position embeddings [1, prefix + h*w, D] to tokens [N, T, D]; when the feature map in
    grid_map has another grid, the table's grid part is resized bicubically first (timm's
    resample_abs_pos_embed when antialias, else Hugging Face's interpolate_pos_encoding)."""
    if grid_map:
        h, w = grid_map[0].shape[-2:]
        if (h, w) != tuple(grid):
            head, body = table[:, :prefix], table[:, prefix:]
            body = body.reshape(1, grid[0], grid[1], -1).permute(0, 3, 1, 2)
            body = F.interpolate(body, size=(h, w), mode="bicubic", align_corners=False, antialias=antialias)
            table = torch.cat([head, body.permute(0, 2, 3, 1).reshape(1, h * w, -1)], 1)
    return x + table
"""#)
}
