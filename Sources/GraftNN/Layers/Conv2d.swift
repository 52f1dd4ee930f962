import GraftTensor

/// How a window layer pads: fixed amounts, or TensorFlow/Keras "same" (output = ⌈input / stride⌉,
/// padding split with the odd pixel at the bottom and right), computed from the input size.
public enum PaddingMode: Sendable, Equatable, CustomStringConvertible {
    case explicit(Padding2D)
    case same

    public static let valid = PaddingMode.explicit(.zero)

    /// The padding for an input of `height × width`.
    public func resolve(height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int) = (1, 1)) -> Padding2D {
        switch self {
        case let .explicit(padding): return padding
        case .same:
            func split(_ size: Int, _ k: Int, _ s: Int, _ d: Int) -> (Int, Int) {
                let total = Swift.max(((size + s - 1) / s - 1) * s + (k - 1) * d + 1 - size, 0)
                return (total / 2, total - total / 2)
            }
            let (top, bottom) = split(height, kernel.0, stride.0, dilation.0)
            let (left, right) = split(width, kernel.1, stride.1, dilation.1)
            return Padding2D(top: top, bottom: bottom, left: left, right: right)
        }
    }

    public var description: String {
        switch self {
        case .same: return "same"
        case let .explicit(p):
            if p == .zero { return "valid" }
            return p.top == p.bottom && p.left == p.right && p.top == p.left ? "pad \(p.top)" : "pad \(p)"
        }
    }
}

/// 2-D convolution with weight [out, in/groups, kh, kw] (PyTorch's layout); depthwise when groups = in.
public final class Conv2d: Layer, LayerKind, FusesEpilogue, RunsChannelsLast {
    public struct Config: Codable, Sendable, Equatable {
        public var inChannels: Int, outChannels: Int
        public var kernel: [Int], stride: [Int]
        /// [top, bottom, left, right], or nil for "same".
        public var padding: [Int]?
        public var dilation: [Int]
        public var groups: Int
        public var bias: Bool
        public var kind: String
    }
    public static let key = "conv2d"

    public let inChannels: Int, outChannels: Int
    public let kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int)
    public let padding: PaddingMode
    public let groups: Int
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: PaddingMode = .valid,
                dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true, generator: Generator, kind: String = "Conv2d") throws(ModelError) {
        guard featuresFit(inChannels, outChannels, groups), inChannels % groups == 0, outChannels % groups == 0 else {
            throw .invalidArgument(what: kind, reason: "channels \(inChannels) → \(outChannels) must be 1…\(featureLimit) and divisible by groups \(groups)")
        }
        guard windowFits([kernel, stride, dilation], padding: padding) else {
            throw .invalidArgument(what: kind, reason: "kernel, stride and dilation must be 1…\(windowLimit), padding 0…\(windowLimit)")
        }
        (self.inChannels, self.outChannels, self.kernel, self.stride, self.padding, self.dilation, self.groups) =
            (inChannels, outChannels, kernel, stride, padding, dilation, groups)
        do {
            // He normal with fan_out = out/groups·kh·kw, as torchvision initializes ResNet and MobileNet.
            weight = Parameter(try Initializer.heNormal([outChannels, inChannels / groups, kernel.0, kernel.1],
                                                        fanOut: Double(outChannels / groups) * Double(kernel.0 * kernel.1), generator: generator))
            self.bias = bias ? Parameter(try Tensor.zeros([outChannels])) : nil
        } catch { throw .tensor(layer: kind, error: error) }
        super.init(kind: kind)
        adopt("weight", weight)
        if let b = self.bias { adopt("bias", b) }
    }

    public convenience init(config c: Config) throws(ModelError) {
        try self.init(c.inChannels, c.outChannels, kernel: try configPair(c.kernel, "kernel", layer: c.kind), stride: try configPair(c.stride, "stride", layer: c.kind),
                      padding: try PaddingMode(configValues: c.padding, layer: c.kind), dilation: try configPair(c.dilation, "dilation", layer: c.kind),
                      groups: c.groups, bias: c.bias, generator: configGenerator(), kind: c.kind)
    }

    public var config: Config {
        Config(inChannels: inChannels, outChannels: outChannels, kernel: [kernel.0, kernel.1], stride: [stride.0, stride.1], padding: padding.configValues,
               dilation: [dilation.0, dilation.1], groups: groups, bias: bias != nil, kind: kind)
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = try requireImage(inputs, kind)
        guard shape[0] == inChannels else {
            throw .shapeMismatch(layer: kind, reason: "expects \(inChannels) input channels, got \(shape[0]) (input \(formatShape(shape)))")
        }
        return [outChannels] + (try windowOutput(shape, kernel: kernel, stride: stride, dilation: dilation, padding: padding, layer: kind))
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        let pad = padding.resolve(height: x.shape[2], width: x.shape[3], kernel: kernel, stride: stride, dilation: dilation)
        return try x.conv2d(weight.value, bias: bias?.value, stride: stride, padding: pad, dilation: dilation, groups: groups)
    }

    public func forward(_ x: Tensor, epilogue: ConvEpilogue) throws(TensorError) -> Tensor {
        let pad = padding.resolve(height: x.shape[2], width: x.shape[3], kernel: kernel, stride: stride, dilation: dilation)
        return try x.conv2dInference(weight.value, bias: bias?.value, stride: stride, padding: pad, dilation: dilation, groups: groups, epilogue: epilogue)
    }

    public var fusionOperands: [Tensor] { [weight.value, bias?.value].compactMap { $0 } }
    public override var mixesFeatures: Bool { true }

    /// Depthwise and pointwise convolutions run channels-last; a depthwise one starts a chain.
    public func runsChannelsLast(_ inputs: [[Int]], _ context: ForwardContext) -> Bool {
        guard let shape = inputs.first, shape.count == 4 else { return false }
        let pad = padding.resolve(height: shape[2], width: shape[3], kernel: kernel, stride: stride, dilation: dilation)
        return Tensor.runsChannelsLast(inChannels: shape[1], weight: weight.value.shape, stride: stride, padding: pad, dilation: dilation, groups: groups)
    }

    public func startsChannelsLast(_ inputs: [[Int]]) -> Bool { groups > 1 }

    public func forwardChannelsLast(_ inputs: [Tensor], epilogue: ConvEpilogue, _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]  // [N, H, W, C]
        let pad = padding.resolve(height: x.shape[1], width: x.shape[2], kernel: kernel, stride: stride, dilation: dilation)
        return try x.conv2dChannelsLast(weight.value, bias: bias?.value, stride: stride, padding: pad, dilation: dilation, groups: groups, epilogue: epilogue)
    }

    public func channelsLastConvolution(_ shape: [Int], epilogue: ConvEpilogue) -> ChannelsLastConvolution? {
        guard shape.count == 4 else { return nil }
        let pad = padding.resolve(height: shape[2], width: shape[3], kernel: kernel, stride: stride, dilation: dilation)
        guard Tensor.runsChannelsLast(inChannels: shape[1], weight: weight.value.shape, stride: stride, padding: pad, dilation: dilation, groups: groups)
        else { return nil }
        return ChannelsLastConvolution(weight: weight.value, bias: bias?.value, stride: stride, padding: pad, dilation: dilation, groups: groups,
                                       epilogue: epilogue)
    }

    public override var filterBank: FilterBank? {
        FilterBank(weights: weight.value, outChannels: outChannels, inChannelsPerGroup: inChannels / groups, kernel: kernel)
    }

    public override var details: String {
        var parts = ["\(kernel.0)×\(kernel.1)"]
        if stride != (1, 1) { parts.append(stride.0 == stride.1 ? "s\(stride.0)" : "s\(stride.0)×\(stride.1)") }
        parts.append(padding.description)
        if dilation != (1, 1) { parts.append("d\(dilation.0)") }
        if groups > 1 { parts.append(groups == inChannels && groups == outChannels ? "depthwise" : "groups \(groups)") }
        return parts.joined(separator: " ")
    }
}

/// The output height and width of a sliding window over [C, H, W], or why the window does not fit.
func windowOutput(_ shape: [Int], kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int) = (1, 1), padding: PaddingMode,
                  ceil: Bool = false, layer: String) throws(ModelError) -> [Int] {
    let pad = padding.resolve(height: shape[1], width: shape[2], kernel: kernel, stride: stride, dilation: dilation)
    let spanH = dilation.0 * (kernel.0 - 1) + 1, spanW = dilation.1 * (kernel.1 - 1) + 1
    let h = shape[1] + pad.top + pad.bottom - spanH, w = shape[2] + pad.left + pad.right - spanW
    guard h >= 0, w >= 0 else {
        throw .shapeMismatch(layer: layer, reason: "window \(kernel.0)×\(kernel.1) does not fit the input \(shape[1])×\(shape[2])")
    }
    return [h / stride.0 + 1, w / stride.1 + 1]
}

// MARK: Export

extension Conv2d: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        var inputs = [node.inputs[0], writer.initializer(node.key("weight"), weight.value)]
        if let bias { inputs.append(writer.initializer(node.key("bias"), bias.value)) }
        writer.emit("Conv", inputs, output: node.output, [
            ONNXWriter.attribute("kernel_shape", ints: [kernel.0, kernel.1]), ONNXWriter.attribute("strides", ints: [stride.0, stride.1]),
            ONNXWriter.attribute("dilations", ints: [dilation.0, dilation.1]), ONNXWriter.attribute("group", int: groups),
            ONNXWriter.attribute("pads", ints: node.pads(padding, kernel: kernel, stride: stride, dilation: dilation)),
        ])
    }
}

extension Conv2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        var arguments = ["\(inChannels)", "\(outChannels)", Py.pair(kernel)]
        if stride != (1, 1) { arguments.append("stride=\(Py.pair(stride))") }
        let symmetric = Py.symmetric(padding)
        if let symmetric, symmetric != (0, 0) { arguments.append("padding=\(Py.pair(symmetric))") }
        if dilation != (1, 1) { arguments.append("dilation=\(Py.pair(dilation))") }
        if groups != 1 { arguments.append("groups=\(groups)") }
        if bias == nil { arguments.append("bias=False") }
        guard symmetric == nil else { return PyTorchModule("nn.Conv2d(\(arguments.joined(separator: ", ")))") }
        return PyTorchModule("PaddedConv2d(\(arguments.joined(separator: ", ")), pad=\(Py.padding(padding)))", helpers: [.paddedConv2d])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let paddedConv2d = PyTorchHelper("paddedConv2d", needs: [.samePadding], source: #"""
class PaddedConv2d(nn.Conv2d):
    """nn.Conv2d with padding it cannot express: TensorFlow's "same" (computed from each input's
    size) or uneven amounts (left, right, top, bottom), applied with F.pad before the convolution."""

    def __init__(self, *args, pad, **kwargs):
        super().__init__(*args, **kwargs)
        self.pad = pad

    def forward(self, x):
        pad = same_padding(x.shape[-2:], self.kernel_size, self.stride, self.dilation) if self.pad == "same" else self.pad
        return super().forward(F.pad(x, pad))
"""#)
}
