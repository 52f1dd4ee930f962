import GraftTensor

/// Keras's SeparableConv2D: a depthwise convolution (with a depth multiplier) followed by a 1×1
/// pointwise convolution; keys `depthwise_weight` [in·m, 1, kh, kw], `pointwise_weight` [out, in·m, 1, 1], `bias`.
public final class SeparableConv2d: Layer, LayerKind {
    public struct Config: Codable, Sendable, Equatable {
        public var inChannels: Int, outChannels: Int
        public var kernel: [Int], stride: [Int]
        public var padding: [Int]?
        public var multiplier: Int
        public var bias: Bool
        public var dilation: [Int]?
    }
    public static let key = "separableConv2d"

    public let inChannels: Int, outChannels: Int, depthMultiplier: Int
    public let kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int)
    public let padding: PaddingMode
    public let depthwiseWeight: Parameter, pointwiseWeight: Parameter
    public let bias: Parameter?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: PaddingMode = .valid,
                dilation: (Int, Int) = (1, 1), depthMultiplier: Int = 1, bias: Bool = true, generator: Generator) throws(ModelError) {
        guard featuresFit(inChannels, outChannels, depthMultiplier), inChannels.multipliedReportingOverflow(by: depthMultiplier).partialValue <= featureLimit,
              windowFits([kernel, stride, dilation], padding: padding) else {
            throw .invalidArgument(what: "SeparableConv2d", reason: "channels and multiplier must be positive, kernel, stride and dilation 1…\(windowLimit), padding 0…\(windowLimit)")
        }
        (self.inChannels, self.outChannels, self.depthMultiplier, self.kernel, self.stride, self.padding, self.dilation) =
            (inChannels, outChannels, depthMultiplier, kernel, stride, padding, dilation)
        let mid = inChannels * depthMultiplier
        do {
            depthwiseWeight = Parameter(try Initializer.heNormal([mid, 1, kernel.0, kernel.1], fanOut: Double(kernel.0 * kernel.1) * Double(depthMultiplier), generator: generator))
            pointwiseWeight = Parameter(try Initializer.heNormal([outChannels, mid, 1, 1], fanOut: Double(outChannels), generator: generator))
            self.bias = bias ? Parameter(try Tensor.zeros([outChannels])) : nil
        } catch { throw .tensor(layer: "SeparableConv2d", error: error) }
        super.init(kind: "SeparableConv2d")
        adopt("depthwise_weight", depthwiseWeight)
        adopt("pointwise_weight", pointwiseWeight)
        if let b = self.bias { adopt("bias", b) }
    }

    public convenience init(config c: Config) throws(ModelError) {
        try self.init(c.inChannels, c.outChannels, kernel: try configPair(c.kernel, "kernel", layer: Self.key), stride: try configPair(c.stride, "stride", layer: Self.key),
                      padding: try PaddingMode(configValues: c.padding, layer: Self.key), dilation: try configPair(c.dilation ?? [1, 1], "dilation", layer: Self.key),
                      depthMultiplier: c.multiplier, bias: c.bias, generator: configGenerator())
    }

    public var config: Config {
        Config(inChannels: inChannels, outChannels: outChannels, kernel: [kernel.0, kernel.1], stride: [stride.0, stride.1], padding: padding.configValues,
               multiplier: depthMultiplier, bias: bias != nil, dilation: dilation == (1, 1) ? nil : [dilation.0, dilation.1])
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = try requireImage(inputs, kind)
        guard shape[0] == inChannels else {
            throw .shapeMismatch(layer: kind, reason: "expects \(inChannels) input channels, got \(shape[0])")
        }
        return [outChannels] + (try windowOutput(shape, kernel: kernel, stride: stride, dilation: dilation, padding: padding, layer: kind))
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        let pad = padding.resolve(height: x.shape[2], width: x.shape[3], kernel: kernel, stride: stride, dilation: dilation)
        let mid = try x.conv2d(depthwiseWeight.value, stride: stride, padding: pad, dilation: dilation, groups: inChannels)
        return try mid.conv2d(pointwiseWeight.value, bias: bias?.value)
    }

    public override var details: String {
        "\(kernel.0)×\(kernel.1)" + (stride != (1, 1) ? " s\(stride.0)" : "") + " \(padding)" + (dilation != (1, 1) ? " d\(dilation.0)" : "")
            + (depthMultiplier > 1 ? " ×\(depthMultiplier)" : "")
    }
}

// MARK: Export

extension SeparableConv2d: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        let depthwise = writer.initializer(node.key("depthwise_weight"), depthwiseWeight.value)
        let mid = writer.emit("Conv", [node.inputs[0], depthwise], [
            ONNXWriter.attribute("kernel_shape", ints: [kernel.0, kernel.1]), ONNXWriter.attribute("strides", ints: [stride.0, stride.1]),
            ONNXWriter.attribute("dilations", ints: [dilation.0, dilation.1]), ONNXWriter.attribute("group", int: inChannels),
            ONNXWriter.attribute("pads", ints: node.pads(padding, kernel: kernel, stride: stride, dilation: dilation)),
        ])
        var inputs = [mid, writer.initializer(node.key("pointwise_weight"), pointwiseWeight.value)]
        if let bias { inputs.append(writer.initializer(node.key("bias"), bias.value)) }
        writer.emit("Conv", inputs, output: node.output, [ONNXWriter.attribute("kernel_shape", ints: [1, 1])])
    }
}

extension SeparableConv2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("SeparableConv2d(\(inChannels), \(outChannels), \(Py.ints([kernel.0, kernel.1])), stride=\(Py.ints([stride.0, stride.1])), pad=\(Py.padding(padding)), "
            + "dilation=\(Py.ints([dilation.0, dilation.1])), multiplier=\(depthMultiplier), bias=\(Py.bool(bias != nil)))", helpers: [.separableConv2d])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let separableConv2d = PyTorchHelper("separableConv2d", needs: [.samePadding], source: #"""
class SeparableConv2d(nn.Module):
    """Keras's SeparableConv2D: a depthwise convolution (depth multiplier M), then a 1×1 convolution."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1), multiplier=1, bias=True):
        super().__init__()
        self.in_channels, self.stride, self.pad, self.dilation = in_channels, stride, pad, dilation
        self.kernel_size = kernel_size
        self.depthwise_weight = nn.Parameter(torch.empty(in_channels * multiplier, 1, *kernel_size))
        self.pointwise_weight = nn.Parameter(torch.empty(out_channels, in_channels * multiplier, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.kaiming_normal_(self.depthwise_weight, mode="fan_out")
        nn.init.kaiming_normal_(self.pointwise_weight, mode="fan_out")

    def forward(self, x):
        pad = same_padding(x.shape[-2:], self.kernel_size, self.stride, self.dilation) if self.pad == "same" else self.pad
        x = F.conv2d(F.pad(x, pad), self.depthwise_weight, None, self.stride, 0, self.dilation, self.in_channels)
        return F.conv2d(x, self.pointwise_weight, self.bias)
"""#)
}
