import GraftTensor

/// Resizes the height and width of [C, H, W] to a fixed size (Keras's `Resizing`) or by a factor
/// (ONNX's `Resize` with scales, `F.interpolate(scale_factor=)`, Keras's `UpSampling2D`): bilinear
/// or nearest, each output position read at a source coordinate as ONNX's
/// `coordinate_transformation_mode` places it — half-pixel (PyTorch's `align_corners=False`,
/// TensorFlow 2's and Keras's resize), align-corners, or asymmetric (PyTorch's `nearest`) — and,
/// for nearest, rounded as its `nearest_mode` says. No antialiasing (Keras's default, PyTorch's).
///
/// Each axis is a linear map, so the layer is two products with [out, in] interpolation matrices
/// made for the input's size (the gradient is the transposed maps).
public final class Resize: Layer, LayerKind {
    public enum Mode: String, Codable, Sendable { case nearest, bilinear }
    public enum Coordinates: String, Codable, Sendable { case halfPixel, alignCorners, asymmetric }
    public enum Rounding: String, Codable, Sendable { case floor, ceil, roundPreferFloor, roundPreferCeil }

    public struct Config: Codable, Sendable, Equatable {
        /// The output height and width, or nil for `scale`.
        public var size: [Int]?
        /// Height and width factors (output = ⌊input × factor⌋), when there is no `size`.
        public var scale: [Float]?
        public var mode: Mode
        public var coordinates: Coordinates
        public var rounding: Rounding
    }
    public static let key = "resize"

    public let size: (Int, Int)?
    public let scale: (Float, Float)
    public let mode: Mode
    public let coordinates: Coordinates
    public let rounding: Rounding

    public init(size: (Int, Int)? = nil, scale: (Float, Float) = (1, 1), mode: Mode = .bilinear, coordinates: Coordinates = .halfPixel,
                rounding: Rounding = .floor) throws(ModelError) {
        if let size {
            guard (1...65536).contains(size.0), (1...65536).contains(size.1) else {
                throw .invalidArgument(what: "Resize", reason: "size \(size.0)×\(size.1) is not within 1…65536")
            }
        } else {
            guard scale.0.isFinite, scale.1.isFinite, scale.0 > 0, scale.1 > 0, scale.0 <= 1024, scale.1 <= 1024 else {
                throw .invalidArgument(what: "Resize", reason: "scale \(scale.0)×\(scale.1) is not a factor in (0, 1024]")
            }
        }
        (self.size, self.scale, self.mode, self.coordinates, self.rounding) = (size, scale, mode, coordinates, rounding)
        super.init(kind: "Resize")
    }

    public convenience init(config c: Config) throws(ModelError) {
        if let size = c.size {
            guard size.count == 2 else { throw .invalidArgument(what: "Resize", reason: "size needs a height and a width") }
            try self.init(size: (size[0], size[1]), mode: c.mode, coordinates: c.coordinates, rounding: c.rounding)
        } else {
            guard let scale = c.scale, scale.count == 2 else { throw .invalidArgument(what: "Resize", reason: "needs a size or a scale of two factors") }
            try self.init(scale: (scale[0], scale[1]), mode: c.mode, coordinates: c.coordinates, rounding: c.rounding)
        }
    }
    public var config: Config {
        Config(size: size.map { [$0.0, $0.1] }, scale: size == nil ? [scale.0, scale.1] : nil, mode: mode, coordinates: coordinates, rounding: rounding)
    }

    /// The output height and width for an input's.
    func outputSize(_ height: Int, _ width: Int) -> (Int, Int) {
        if let size { return size }
        return (Swift.max(1, Int((Float(height) * scale.0).rounded(.down))), Swift.max(1, Int((Float(width) * scale.1).rounded(.down))))
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.count == 3 else {
            throw .shapeMismatch(layer: kind, reason: "expects [C, H, W], got \(formatShape(inputs.first ?? []))")
        }
        let (h, w) = outputSize(shape[1], shape[2])
        let (cells, overflow) = h.multipliedReportingOverflow(by: w)
        guard !overflow, cells <= 1 << 28 else { throw .shapeMismatch(layer: kind, reason: "\(h)×\(w) is too large a map") }
        return [shape[0], h, w]
    }

    /// The [out, in] map of one axis: each output position's source taps and their weights.
    func interpolation(from input: Int, to output: Int, factor: Float?) -> [Float] {
        var matrix = [Float](repeating: 0, count: output * input)
        // ONNX's scale is the given factor when there is one, else out / in.
        let ratio = Double(input) / Double(output)
        let inverse = factor.map { 1 / Double($0) } ?? ratio
        for o in 0..<output {
            let source: Double
            switch coordinates {
            case .halfPixel: source = (Double(o) + 0.5) * inverse - 0.5
            case .alignCorners: source = output > 1 ? Double(o) * Double(input - 1) / Double(output - 1) : 0
            case .asymmetric: source = Double(o) * inverse
            }
            switch mode {
            case .nearest:
                let index: Double
                switch rounding {
                case .floor: index = source.rounded(.down)
                case .ceil: index = source.rounded(.up)
                case .roundPreferFloor: index = source - source.rounded(.down) == 0.5 ? source.rounded(.down) : source.rounded()
                case .roundPreferCeil: index = source - source.rounded(.down) == 0.5 ? source.rounded(.up) : source.rounded()
                }
                matrix[o * input + Swift.min(Swift.max(Int(index), 0), input - 1)] = 1
            case .bilinear:
                let clamped = Swift.min(Swift.max(source, 0), Double(input - 1))
                let low = Int(clamped.rounded(.down)), high = Swift.min(low + 1, input - 1)
                let fraction = Float(clamped - Double(low))
                matrix[o * input + low] += 1 - fraction
                matrix[o * input + high] += fraction
            }
        }
        return matrix
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        let (h, w) = (x.shape[2], x.shape[3])
        let (outH, outW) = outputSize(h, w)
        let rowMap = interpolation(from: h, to: outH, factor: size == nil ? scale.0 : nil)
        let columnMap = interpolation(from: w, to: outW, factor: size == nil ? scale.1 : nil)
        // A map that keeps every position where it is leaves the input as it is.
        func keeps(_ map: [Float], _ n: Int, _ out: Int) -> Bool { out == n && (0..<n).allSatisfy { map[$0 * n + $0] == 1 } }
        if keeps(rowMap, h, outH) && keeps(columnMap, w, outW) { return x }
        let rows = try Tensor(shape: [outH, h], scalars: rowMap)
        let columns = try Tensor(shape: [outW, w], scalars: columnMap).transposed()
        return try rows.matmul(try x.matmul(columns))
    }

    public override var details: String {
        let target = size.map { "to \($0.0)×\($0.1)" } ?? "×\(scale.0)×\(scale.1)"
        return "\(mode.rawValue) \(target)"
    }
}

// MARK: Export

extension Resize: ONNXExportable {
    /// `Resize` (opset 11+: X, roi, scales, sizes) with the mode, the coordinate transformation and
    /// the nearest rounding.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let roi = writer.constant([], shape: [0], name: node.key("roi"))
        var inputs = [node.inputs[0], roi]
        if let size {
            inputs += [writer.constant([], shape: [0], name: node.key("scales")),
                       writer.emit("Concat", [writer.emit("Slice", [writer.emit("Shape", [node.inputs[0]]), writer.int64Constant([0], name: node.key("from")),
                                                                    writer.int64Constant([2], name: node.key("to"))]),
                                              writer.int64Constant([size.0, size.1], name: node.key("size"))], [ONNXWriter.attribute("axis", int: 0)])]
        } else {
            inputs.append(writer.constant([1, 1, scale.0, scale.1], shape: [4], name: node.key("scales")))
        }
        let coordinate = ["halfPixel": "half_pixel", "alignCorners": "align_corners", "asymmetric": "asymmetric"][coordinates.rawValue] ?? "half_pixel"
        let nearest = ["floor": "floor", "ceil": "ceil", "roundPreferFloor": "round_prefer_floor", "roundPreferCeil": "round_prefer_ceil"][rounding.rawValue] ?? "floor"
        writer.emit("Resize", inputs, output: node.output, [ONNXWriter.attribute("mode", string: mode == .bilinear ? "linear" : "nearest"),
                                                             ONNXWriter.attribute("coordinate_transformation_mode", string: coordinate),
                                                             ONNXWriter.attribute("nearest_mode", string: nearest)])
    }
}

extension Resize: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        let target = size.map { "size=(\($0.0), \($0.1))" } ?? "scale=(\(Py.float(scale.0)), \(Py.float(scale.1)))"
        return PyTorchModule("Resize(\(target), mode=\(Py.string(mode.rawValue)), coordinates=\(Py.string(coordinates.rawValue)), rounding=\(Py.string(rounding.rawValue)))",
                             helpers: [.resize])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let resize = PyTorchHelper("resize", source: #"""
class Resize(nn.Module):
    """Resizes [N, C, H, W] to a size or by a factor, bilinear or nearest, with ONNX's coordinate
    modes (half_pixel, align_corners, asymmetric) and nearest roundings, as two products with the
    axes' interpolation matrices (what graft computes)."""

    def __init__(self, size=None, scale=None, mode="bilinear", coordinates="halfPixel", rounding="floor"):
        super().__init__()
        self.size, self.scale, self.mode, self.coordinates, self.rounding = size, scale, mode, coordinates, rounding

    def matrix(self, n, out, factor):
        inverse = 1.0 / factor if factor is not None else n / out
        rows = []
        for o in range(out):
            if self.coordinates == "halfPixel":
                src = (o + 0.5) * inverse - 0.5
            elif self.coordinates == "alignCorners":
                src = o * (n - 1) / (out - 1) if out > 1 else 0.0
            else:
                src = o * inverse
            row = [0.0] * n
            if self.mode == "nearest":
                frac = src - math.floor(src)
                index = {"floor": math.floor(src), "ceil": math.ceil(src),
                         "roundPreferFloor": math.floor(src) if frac == 0.5 else round(src),
                         "roundPreferCeil": math.ceil(src) if frac == 0.5 else round(src)}[self.rounding]
                row[min(max(int(index), 0), n - 1)] = 1.0
            else:
                src = min(max(src, 0.0), n - 1)
                low = int(math.floor(src))
                high = min(low + 1, n - 1)
                row[low] += 1 - (src - low)
                row[high] += src - low
            rows.append(row)
        return torch.tensor(rows)

    def forward(self, x):
        h, w = x.shape[-2:]
        if self.size is not None:
            (oh, ow), fh, fw = self.size, None, None
        else:
            fh, fw = self.scale
            oh, ow = max(1, int(math.floor(h * fh))), max(1, int(math.floor(w * fw)))
        rows = self.matrix(h, oh, fh).to(x.dtype)
        columns = self.matrix(w, ow, fw).to(x.dtype).t()
        return rows @ (x @ columns)
"""#)
}
