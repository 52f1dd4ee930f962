import Foundation
import GraftTensor

/// Swin's (shifted) window attention on a channels-last map [H, W, C] (Liu et al.): the map, padded
/// at the bottom and right to whole windows and, in a shifted block, rolled up and left by `shift`,
/// is cut into windows of `window`×`window` tokens; each window attends within itself, with a
/// learned bias per head for every relative position (a table of (2·window − 1)² rows, one column
/// per head) and, when shifted, a mask of −100 between tokens that the roll brought together from
/// different regions; then the windows go back in place, the roll is undone and the padding cut.
///
/// torchvision and Hugging Face pad before they roll, timm rolls before it pads (`rollFirst`): the
/// same at the sizes the models are made for, where the maps are whole windows. On an axis whose
/// padded size is one window the shift is 0 (torchvision's rule; timm and Hugging Face set it so
/// for the stages where the map is one window).
///
/// Its weights carry the names of the framework the model came from: timm's and torchvision's
/// `qkv`, `proj` and `relative_position_bias_table`, or Hugging Face's `self.query`, `self.key`,
/// `self.value`, `self.relative_position_bias_table` and `output.dense`.
///
/// Swin V2 (`cosine`, torchvision's `swin_v2_*`): the scores are the cosines of q and k times a
/// learned scale per head (`logit_scale`, e^min(s, ln 100)), the bias is 16·sigmoid of a small MLP
/// (`cpb_mlp`: 2 → 512, ReLU, → heads) of each relative position's log-spaced coordinates, and k
/// has no bias (torchvision zeroes that third of `qkv.bias` in every pass).
public final class WindowAttention: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        public var width: Int
        public var heads: Int
        public var window: Int
        public var shift: Int
        /// Whether q, k and v have biases (the output projection always has one).
        public var bias: Bool
        public var naming: SelfAttention.Naming
        public var rollFirst: Bool
        /// Swin V2's cosine attention and continuous position bias.
        public var cosine: Bool
    }
    public static let key = "windowAttention"

    public let width: Int, heads: Int, window: Int, shift: Int
    public let naming: SelfAttention.Naming
    public let rollFirst: Bool
    public let cosine: Bool
    /// q, k, v weights: one [3C, C] (timm, torchvision) or three [C, C] (Hugging Face).
    public let projections: [Parameter]
    public let projectionBiases: [Parameter]
    public let output: Parameter
    public let outputBias: Parameter
    /// V1: the bias of every relative position [(2·window − 1)², heads].
    public let table: Parameter?
    /// V2: the scale per head [heads, 1, 1] (its logarithm), and the position bias MLP's weights
    /// [512, 2], bias [512] and output weights [heads, 512].
    public let logitScale: Parameter?
    public let positionMLP: [Parameter]

    public init(width: Int, heads: Int, window: Int, shift: Int = 0, bias: Bool = true, naming: SelfAttention.Naming = .timm,
                rollFirst: Bool = false, cosine: Bool = false, generator: Generator) throws(ModelError) {
        guard featuresFit(width), (1...width).contains(heads), width % heads == 0, (1...64).contains(window), (0..<window).contains(shift) else {
            throw .invalidArgument(what: "WindowAttention", reason: "needs a width divisible by its 1…width heads, a window of 1…64 and a shift below it (got width \(width), \(heads) heads, window \(window), shift \(shift))")
        }
        guard !cosine || naming == .torchvision else {
            throw .invalidArgument(what: "WindowAttention", reason: "Swin V2's cosine attention is built with torchvision's names only")
        }
        (self.width, self.heads, self.window, self.shift, self.naming, self.rollFirst, self.cosine) = (width, heads, window, shift, naming, rollFirst, cosine)
        let positions = (2 * window - 1) * (2 * window - 1)
        do {
            // The projections as ViT's attention draws them; the table from N(0, 0.02²) as the sources draw it.
            (projections, projectionBiases, output, outputBias) = try SelfAttention.drawProjections(width: width, naming: naming, bias: bias, generator: generator)
            if cosine {
                table = nil
                logitScale = Parameter(try Tensor(shape: [heads, 1, 1], scalars: [Float](repeating: Foundation.log(10), count: heads)))
                let (hidden, inner) = (Float(1 / 2.0.squareRoot()), Float(1 / 512.0.squareRoot()))
                positionMLP = [Parameter(try Tensor.randomUniform([512, 2], low: -hidden, high: hidden, generator: generator)),
                               Parameter(try Tensor.randomUniform([512], low: -hidden, high: hidden, generator: generator)),
                               Parameter(try Tensor.randomUniform([heads, 512], low: -inner, high: inner, generator: generator))]
            } else {
                table = Parameter(try Tensor.randomNormal([positions, heads], generator: generator) * 0.02)
                (logitScale, positionMLP) = (nil, [])
            }
        } catch { throw .tensor(layer: "WindowAttention", error: error) }
        super.init(kind: "WindowAttention")
        let names = Self.names(naming)
        for (index, parameter) in projections.enumerated() { adopt(names.weights[index], parameter) }
        for (index, parameter) in projectionBiases.enumerated() { adopt(names.biases[index], parameter) }
        adopt(names.output, output)
        adopt(names.outputBias, outputBias)
        if let table { adopt(names.table, table) }
        if let logitScale { adopt("logit_scale", logitScale) }
        for (key, parameter) in zip(["cpb_mlp.0.weight", "cpb_mlp.0.bias", "cpb_mlp.2.weight"], positionMLP) { adopt(key, parameter) }
    }

    /// The parameters' names under each naming.
    static func names(_ naming: SelfAttention.Naming) -> (weights: [String], biases: [String], output: String, outputBias: String, table: String) {
        switch naming {
        case .timm, .torchvision: return (["qkv.weight"], ["qkv.bias"], "proj.weight", "proj.bias", "relative_position_bias_table")
        case .huggingface:
            let parts = ["query", "key", "value"]
            return (parts.map { "self.\($0).weight" }, parts.map { "self.\($0).bias" }, "output.dense.weight", "output.dense.bias", "self.relative_position_bias_table")
        }
    }

    public convenience init(config c: Config) throws(ModelError) {
        try self.init(width: c.width, heads: c.heads, window: c.window, shift: c.shift, bias: c.bias, naming: c.naming, rollFirst: c.rollFirst,
                      cosine: c.cosine, generator: configGenerator())
    }
    public var config: Config {
        Config(width: width, heads: heads, window: window, shift: shift, bias: !projectionBiases.isEmpty, naming: naming, rollFirst: rollFirst, cosine: cosine)
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.count == 3, shape[2] == width else {
            throw .shapeMismatch(layer: kind, reason: "expects a channels-last map [H, W, \(width)], got \(formatShape(inputs.first ?? []))")
        }
        return shape
    }

    /// The fused q, k, v weight [3C, C] and bias [3C] (V2: k's third zero, with no gradient).
    func fused() throws(TensorError) -> (weight: Tensor, bias: Tensor?) {
        let (weight, bias) = try SelfAttention.fuse(projections, projectionBiases)
        guard cosine, let bias else { return (weight, bias) }
        let keep = try Tensor(shape: [3 * width], scalars: (0..<(3 * width)).map { $0 / width == 1 ? 0 : 1 })
        return (weight, try bias * keep)
    }

    /// V2's log-spaced coordinates of every relative position [(2w − 1)², 2] (Δy, Δx): each in
    /// units of w − 1, times 8, then sign · log2(1 + |x|) / 3 (torchvision's `relative_coords_table`).
    var relativeCoordinates: [Float] {
        let side = 2 * window - 1
        func spaced(_ delta: Int) -> Float {
            let x = window > 1 ? Float(delta) / Float(window - 1) * 8 : 0
            return (x > 0 ? 1 : x < 0 ? -1 : 0) * Foundation.log2(Swift.abs(x) + 1) / 3
        }
        return (0..<(side * side)).flatMap { row in [spaced(row / side - (window - 1)), spaced(row % side - (window - 1))] }
    }

    /// V2: q and k as unit vectors per head, q times its head's scale: [B, T, 3C] again.
    func cosineProjections(_ qkv: Tensor) throws(TensorError) -> Tensor {
        guard let logitScale else { return qkv }
        let (b, t, d) = (qkv.shape[0], qkv.shape[1], width / heads)
        let parts = try qkv.reshaped([b, t, 3, heads, d])
        func unit(_ x: Tensor) throws(TensorError) -> Tensor {
            try x / Tensor.maximum(try (x * x).sum(axes: [-1], keepingDims: true).sqrt(), Tensor(1e-12))
        }
        let scale = try logitScale.value.clamp(-.infinity, Foundation.log(100)).exp().reshaped([1, 1, 1, heads, 1])
        let q = try unit(try parts.sliced(axis: 2, start: 0, end: 1)) * scale
        let k = try unit(try parts.sliced(axis: 2, start: 1, end: 2))
        return try Tensor.concatenate([q, k, try parts.sliced(axis: 2, start: 2, end: 3)], axis: 2).reshaped([b, t, 3 * width])
    }

    /// The table's bias per head [heads, T, T], T = window²: entry (i, j) is the row of the relative
    /// position of token i to token j, (Δy + w − 1)·(2w − 1) + Δx + w − 1.
    func positionBias() throws(TensorError) -> Tensor {
        let t = window * window
        var index = [Int](repeating: 0, count: t * t)
        for i in 0..<t {
            for j in 0..<t {
                index[i * t + j] = (i / window - j / window + window - 1) * (2 * window - 1) + (i % window - j % window + window - 1)
            }
        }
        guard cosine else {
            guard let table else { throw .invalidArgument(op: "WindowAttention", reason: "no relative position table") }
            return try table.value.gather(index, axis: 0).transposed(0, 1).reshaped([heads, t, t])
        }
        let rows = (2 * window - 1) * (2 * window - 1)
        let coordinates = try Tensor(shape: [rows, 2], scalars: relativeCoordinates)
        let perPosition = try coordinates.linear(positionMLP[0].value, bias: positionMLP[1].value).relu().linear(positionMLP[2].value)
        return try perPosition.gather(index, axis: 0).transposed(0, 1).reshaped([heads, t, t]).sigmoid() * 16
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        let (n, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let plan = WindowPlan(height: h, width: w, window: window, shift: shift, rollFirst: rollFirst)
        var windows = x
        if plan.paddedHeight != h || plan.paddedWidth != w {
            windows = try windows.padded([(0, 0), (0, plan.paddedHeight - h), (0, plan.paddedWidth - w), (0, 0)])
        }
        let tokens = window * window
        windows = try windows.reshaped([n, plan.paddedHeight * plan.paddedWidth, width]).gather(plan.partition, axis: 1)
            .reshaped([n * plan.windows, tokens, width])
        let (weight, bias) = try fused()
        let mask = try plan.mask().map { values throws(TensorError) in try Tensor(shape: [plan.windows, tokens, tokens], scalars: values) }
        let qkv = try cosineProjections(try windows.linear(weight, bias: bias))
        let attended = try qkv.selfAttention(heads: heads, scale: cosine ? 1 : nil, bias: try positionBias(), mask: mask)
        var y = try attended.linear(output.value, bias: outputBias.value)
            .reshaped([n, plan.paddedHeight * plan.paddedWidth, width]).gather(plan.restore, axis: 1)
            .reshaped([n, plan.paddedHeight, plan.paddedWidth, width])
        if plan.paddedHeight != h { y = try y.sliced(axis: 1, start: 0, end: h) }
        if plan.paddedWidth != w { y = try y.sliced(axis: 2, start: 0, end: w) }
        return y
    }

    public override var details: String { "\(heads) heads, window \(window)\(shift > 0 ? ", shifted \(shift)" : "")\(cosine ? ", cosine" : "")" }
}

/// Where each token of a map goes in Swin's windows, for one map size.
struct WindowPlan {
    let height: Int, width: Int, window: Int
    let paddedHeight: Int, paddedWidth: Int
    /// The shift on each axis (0 where the padded axis is one window).
    let shiftY: Int, shiftX: Int
    let windows: Int
    /// For each token of the windows in order (window by window, row by row within one), its
    /// position in the padded map [paddedHeight · paddedWidth]; `restore` is the inverse.
    let partition: [Int]
    let restore: [Int]

    init(height: Int, width: Int, window: Int, shift: Int, rollFirst: Bool) {
        (self.height, self.width, self.window) = (height, width, window)
        paddedHeight = (height + window - 1) / window * window
        paddedWidth = (width + window - 1) / window * window
        shiftY = window >= paddedHeight ? 0 : shift
        shiftX = window >= paddedWidth ? 0 : shift
        windows = (paddedHeight / window) * (paddedWidth / window)
        let (across, area) = (paddedWidth / window, window * window)
        var partition = [Int](repeating: 0, count: paddedHeight * paddedWidth)
        for y in 0..<paddedHeight {
            for x in 0..<paddedWidth {
                // Token (y, x) of the rolled map reads the padded map at…
                let source: Int
                if !rollFirst {
                    source = ((y + shiftY) % paddedHeight) * paddedWidth + (x + shiftX) % paddedWidth
                } else if y < height && x < width {
                    source = ((y + shiftY) % height) * paddedWidth + (x + shiftX) % width
                } else {
                    source = y * paddedWidth + x
                }
                partition[((y / window) * across + x / window) * area + (y % window) * window + x % window] = source
            }
        }
        var restore = [Int](repeating: 0, count: partition.count)
        for (slot, source) in partition.enumerated() { restore[source] = slot }
        (self.partition, self.restore) = (partition, restore)
    }

    /// The shifted windows' mask [windows, T, T] (nil without a shift): the padded map's regions
    /// (three bands on each shifted axis: before the last window, the last window before the shift,
    /// the shift) numbered as the sources number them; −100 between tokens of different regions.
    func mask() -> [Float]? {
        guard shiftY > 0 || shiftX > 0 else { return nil }
        func band(_ position: Int, _ size: Int, _ shift: Int) -> Int {
            shift == 0 ? 2 : position < size - window ? 0 : position < size - shift ? 1 : 2
        }
        let (across, area) = (paddedWidth / window, window * window)
        var region = [Int](repeating: 0, count: windows * area)
        for y in 0..<paddedHeight {
            for x in 0..<paddedWidth {
                region[((y / window) * across + x / window) * area + (y % window) * window + x % window] = band(y, paddedHeight, shiftY) * 3 + band(x, paddedWidth, shiftX)
            }
        }
        var mask = [Float](repeating: 0, count: windows * area * area)
        for w in 0..<windows {
            for i in 0..<area {
                for j in 0..<area where region[w * area + i] != region[w * area + j] { mask[(w * area + i) * area + j] = -100 }
            }
        }
        return mask
    }
}

// MARK: Export

extension WindowAttention: ONNXExportable {
    /// Standard operators at the size the model is exported at (whole windows): the roll as `Slice`s
    /// and `Concat`s, the windows by `Reshape` and `Transpose` to [N, windows, T, C] (the batch
    /// stays first), q, k and v as in ``SelfAttention``'s export per window, the table's bias and
    /// the mask added as one constant [windows, heads, T, T], and everything back in place.
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let (h, w) = (node.inputShape[0], node.inputShape[1])
        guard h % window == 0, w % window == 0 else {
            throw ModelError.invalidArgument(what: "ONNX export of '\(node.name)'", reason: "its \(h)×\(w) map is not whole \(window)×\(window) windows; export the model at such a size")
        }
        let plan = WindowPlan(height: h, width: w, window: window, shift: shift, rollFirst: rollFirst)
        let (t, d, across, down) = (window * window, width / heads, w / window, h / window)
        func int64(_ values: [Int], _ name: String) -> String { writer.int64Constant(values, name: node.key(name)) }
        func roll(_ value: String, axis: Int, by amount: Int, size: Int, _ name: String) -> String {
            let shifted = (amount % size + size) % size
            guard shifted > 0 else { return value }
            let axes = int64([axis], "\(name)_axis")
            let tail = writer.emit("Slice", [value, int64([shifted], "\(name)_from"), int64([size], "\(name)_size"), axes])
            let head = writer.emit("Slice", [value, int64([0], "\(name)_zero"), int64([shifted], "\(name)_to"), axes])
            return writer.emit("Concat", [tail, head], [ONNXWriter.attribute("axis", int: axis)])
        }
        var x = roll(roll(node.inputs[0], axis: 1, by: plan.shiftY, size: h, "roll_y"), axis: 2, by: plan.shiftX, size: w, "roll_x")
        x = writer.emit("Reshape", [x, int64([0, down, window, across, window, width], "split_windows")])
        x = writer.emit("Transpose", [x], [ONNXWriter.attribute("perm", ints: [0, 1, 3, 2, 4, 5])])
        x = writer.emit("Reshape", [x, int64([0, plan.windows, t, width], "windows")])
        let (weight, bias) = try fused()
        var qkv = writer.emit("MatMul", [x, writer.initializer(node.key("qkv_t"), try weight.transposed())])
        if let bias { qkv = writer.emit("Add", [qkv, writer.initializer(node.key("qkv_bias"), bias)]) }
        let split = int64([0, plan.windows, t, heads, d], "split_heads")
        let axis = int64([3], "axis")
        // V2: q and k divided by their norms per head (at least 1e-12), q times its head's scale.
        let headScales = try logitScale.map { try $0.value.clamp(-.infinity, Foundation.log(100)).exp().reshaped([heads, 1]) }
        func part(_ index: Int, order: [Int]) throws -> String {
            let sliced = writer.emit("Slice", [qkv, int64([index * width], "start\(index)"), int64([(index + 1) * width], "end\(index)"), axis])
            var value = writer.emit("Reshape", [sliced, split])
            if let headScales, index < 2 {
                let squares = writer.emit("ReduceSum", [writer.emit("Mul", [value, value]), int64([-1], "norm_axis\(index)")], [ONNXWriter.attribute("keepdims", int: 1)])
                let norm = writer.emit("Clip", [writer.emit("Sqrt", [squares]), writer.constant([1e-12], name: node.key("norm_floor\(index)"))])
                value = writer.emit("Div", [value, norm])
                if index == 0 { value = writer.emit("Mul", [value, writer.initializer(node.key("head_scale"), headScales)]) }
            }
            return writer.emit("Transpose", [value], [ONNXWriter.attribute("perm", ints: order)])
        }
        let (q, k, v) = (try part(0, order: [0, 1, 3, 2, 4]), try part(1, order: [0, 1, 3, 4, 2]), try part(2, order: [0, 1, 3, 2, 4]))
        // The additive term: the table's bias for every window, plus the mask.
        let positionBias = try self.positionBias()
        let mask = plan.mask()
        let biasValues = positionBias.scalars
        var additive = [Float](repeating: 0, count: plan.windows * heads * t * t)
        for window in 0..<plan.windows {
            for head in 0..<heads {
                for i in 0..<(t * t) {
                    let masked: Float = mask?[window * t * t + i] ?? 0
                    additive[(window * heads + head) * t * t + i] = biasValues[head * t * t + i] + masked
                }
            }
        }
        var scores = writer.emit("MatMul", [q, k])
        if !cosine { scores = writer.emit("Mul", [scores, writer.constant([1 / Float(d).squareRoot()], name: node.key("scale"))]) }
        scores = writer.emit("Add", [scores, writer.constant(additive, shape: [plan.windows, heads, t, t], name: node.key("position_bias"))])
        let weights = writer.emit("Softmax", [scores], [ONNXWriter.attribute("axis", int: -1)])
        var y = writer.emit("Transpose", [writer.emit("MatMul", [weights, v])], [ONNXWriter.attribute("perm", ints: [0, 1, 3, 2, 4])])
        y = writer.emit("Reshape", [y, int64([0, plan.windows, t, width], "merge_heads")])
        y = writer.emit("MatMul", [y, writer.initializer(node.key("proj_t"), try output.value.transposed())])
        y = writer.emit("Add", [y, writer.initializer(node.key("proj_bias"), outputBias.value)])
        y = writer.emit("Reshape", [y, int64([0, down, across, window, window, width], "unsplit_windows")])
        y = writer.emit("Transpose", [y], [ONNXWriter.attribute("perm", ints: [0, 1, 3, 2, 4, 5])])
        y = writer.emit("Reshape", [y, int64([0, h, w, width], "map")])
        y = roll(roll(y, axis: 1, by: -plan.shiftY, size: h, "unroll_y"), axis: 2, by: -plan.shiftX, size: w, "unroll_x")
        writer.emit("Identity", [y], output: node.output)
    }
}

extension WindowAttention: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("WindowAttention(\(width), \(heads), \(window), \(shift), bias=\(Py.bool(!projectionBiases.isEmpty)), naming=\(Py.string(naming.rawValue)), roll_first=\(Py.bool(rollFirst))\(cosine ? ", cosine=True" : ""))",
                      helpers: [.windowAttention])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let windowAttention = PyTorchHelper("windowAttention", source: #"""
class WindowAttention(nn.Module):
    """Swin's (shifted) window attention on a channels-last map [N, H, W, C]: padded to whole
    windows and rolled by -shift (timm rolls first, torchvision and Hugging Face pad first), the
    windows attend within themselves with a relative position bias per head and, when shifted, a
    mask of -100 between regions; then back in place. Weights under timm's and torchvision's names
    (qkv, proj, relative_position_bias_table) or Hugging Face's (self.query/key/value, output.dense).
    cosine: Swin V2's cosine attention with a scale per head (logit_scale) and the bias from an MLP
    of log-spaced relative coordinates (cpb_mlp), k without bias (torchvision's swin_v2_*)."""

    def __init__(self, width, heads, window, shift, bias=True, naming="timm", roll_first=False, cosine=False):
        super().__init__()
        self.width, self.heads, self.window, self.shift, self.naming, self.roll_first = width, heads, window, shift, naming, roll_first
        self.cosine = cosine
        rows = (2 * window - 1) ** 2
        if cosine:
            self.qkv = nn.Linear(width, 3 * width, bias=bias)
            self.proj = nn.Linear(width, width)
            self.logit_scale = nn.Parameter(torch.zeros(heads, 1, 1))
            self.cpb_mlp = nn.Sequential(nn.Linear(2, 512), nn.ReLU(), nn.Linear(512, heads, bias=False))
            delta = torch.arange(-(window - 1), window, dtype=torch.float32) / max(window - 1, 1) * 8
            delta = torch.sign(delta) * torch.log2(delta.abs() + 1.0) / 3.0
            dy, dx = torch.meshgrid(delta, delta, indexing="ij")
            self.register_buffer("relative_coords_table", torch.stack([dy, dx], -1).reshape(-1, 2), persistent=False)
        elif naming == "huggingface":
            self.self = nn.Module()
            self.self.query = nn.Linear(width, width, bias=bias)
            self.self.key = nn.Linear(width, width, bias=bias)
            self.self.value = nn.Linear(width, width, bias=bias)
            self.self.relative_position_bias_table = nn.Parameter(torch.zeros(rows, heads))
            self.output = nn.Module()
            self.output.dense = nn.Linear(width, width)
        else:
            self.qkv = nn.Linear(width, 3 * width, bias=bias)
            self.proj = nn.Linear(width, width)
            self.relative_position_bias_table = nn.Parameter(torch.zeros(rows, heads))
        y, x = torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
        y, x = y.flatten(), x.flatten()
        index = (y[:, None] - y[None, :] + window - 1) * (2 * window - 1) + (x[:, None] - x[None, :] + window - 1)
        self.register_buffer("relative_position_index", index, persistent=False)

    def forward(self, x):
        n, h, w, c = x.shape
        s, size = self.window, self.window * self.window
        hp, wp = -(-h // s) * s, -(-w // s) * s
        sy, sx = (0 if s >= hp else self.shift), (0 if s >= wp else self.shift)
        if self.roll_first:
            x = torch.roll(x, (-sy, -sx), (1, 2))
            x = F.pad(x, (0, 0, 0, wp - w, 0, hp - h))
        else:
            x = torch.roll(F.pad(x, (0, 0, 0, wp - w, 0, hp - h)), (-sy, -sx), (1, 2))
        windows = x.reshape(n, hp // s, s, wp // s, s, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, size, c)
        if self.naming == "huggingface":
            qkv = torch.cat([self.self.query(windows), self.self.key(windows), self.self.value(windows)], -1)
            table, project = self.self.relative_position_bias_table, self.output.dense
        elif self.cosine:
            keep = torch.ones(3 * c, dtype=x.dtype, device=x.device)
            keep[c:2 * c] = 0
            qkv, project = F.linear(windows, self.qkv.weight, None if self.qkv.bias is None else self.qkv.bias * keep), self.proj
            table = 16 * torch.sigmoid(self.cpb_mlp(self.relative_coords_table))
        else:
            qkv, table, project = self.qkv(windows), self.relative_position_bias_table, self.proj
        q, k, v = (part.reshape(-1, size, self.heads, c // self.heads).transpose(1, 2) for part in qkv.split(c, -1))
        scale = None
        if self.cosine:
            q = F.normalize(q, dim=-1) * torch.clamp(self.logit_scale, max=math.log(100.0)).exp()
            k, scale = F.normalize(k, dim=-1), 1.0
        bias = table[self.relative_position_index].permute(2, 0, 1).unsqueeze(0)
        if sy or sx:
            region = torch.zeros(hp, wp)
            count = 0
            for ys in ((0, -s), (-s, -sy), (-sy, None)):
                for xs in ((0, -s), (-s, -sx), (-sx, None)):
                    region[ys[0]:ys[1], xs[0]:xs[1]] = count
                    count += 1
            region = region.reshape(hp // s, s, wp // s, s).permute(0, 2, 1, 3).reshape(-1, size)
            mask = (region[:, None, :] != region[:, :, None]).float() * -100.0
            bias = (bias + mask[:, None]).repeat(n, 1, 1, 1)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype), scale=scale)
        out = project(out.transpose(1, 2).reshape(-1, size, c))
        out = out.reshape(n, hp // s, wp // s, s, s, c).permute(0, 1, 3, 2, 4, 5).reshape(n, hp, wp, c)
        if self.roll_first:
            return torch.roll(out[:, :h, :w], (sy, sx), (1, 2))
        return torch.roll(out, (sy, sx), (1, 2))[:, :h, :w]
"""#)
}
