import GraftTensor

/// Max or average pooling over [C, H, W].
public final class Pool2d: Layer, LayerKind {
    public enum Kind: Sendable { case max, average }
    public struct Config: Codable, Sendable, Equatable {
        public var max: Bool
        public var kernel: [Int], stride: [Int]
        public var padding: [Int]?
        public var countPadding: Bool
        /// PyTorch's `ceil_mode`: windows that run past the bottom or right edge still count.
        public var ceil: Bool?
    }
    public static let key = "pool2d"

    public let function: Kind
    public let kernel: (Int, Int), stride: (Int, Int)
    public let padding: PaddingMode
    /// Average pooling: divide by the full window (PyTorch's default) or by the pixels inside the image (Keras "same").
    public let countPadding: Bool
    /// Output sizes rounded up (PyTorch's `ceil_mode`): the last window may run past the edge, as long
    /// as it starts inside the image or its leading padding; the overhang never wins and is never counted.
    public let ceilMode: Bool

    public init(_ function: Kind, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: PaddingMode = .valid, countPadding: Bool = true,
                ceilMode: Bool = false) throws(ModelError) {
        let stride = stride ?? kernel
        guard windowFits([kernel, stride], padding: padding) else {
            throw .invalidArgument(what: function == .max ? "MaxPool2d" : "AvgPool2d", reason: "kernel and stride must be 1…\(windowLimit), padding 0…\(windowLimit)")
        }
        // As PyTorch and ONNX Runtime require: a window never lies wholly in the padding.
        if case let .explicit(p) = padding, max(p.top, p.bottom) > kernel.0 / 2 || max(p.left, p.right) > kernel.1 / 2 {
            throw .invalidArgument(what: function == .max ? "MaxPool2d" : "AvgPool2d",
                                   reason: "padding \(p.top),\(p.bottom),\(p.left),\(p.right) is more than half the kernel \(kernel.0)×\(kernel.1)")
        }
        (self.function, self.kernel, self.stride, self.padding, self.countPadding, self.ceilMode) = (function, kernel, stride, padding, countPadding, ceilMode)
        super.init(kind: function == .max ? "MaxPool2d" : "AvgPool2d")
    }

    public convenience init(config c: Config) throws(ModelError) {
        try self.init(c.max ? .max : .average, kernel: try configPair(c.kernel, "kernel", layer: Self.key), stride: try configPair(c.stride, "stride", layer: Self.key),
                      padding: try PaddingMode(configValues: c.padding, layer: Self.key), countPadding: c.countPadding, ceilMode: c.ceil ?? false)
    }

    public var config: Config {
        Config(max: function == .max, kernel: [kernel.0, kernel.1], stride: [stride.0, stride.1], padding: padding.configValues, countPadding: countPadding,
               ceil: ceilMode ? true : nil)
    }

    /// The padding for an input of `height × width`, with the ceil-mode overhang added at the bottom and right.
    public func resolvedPadding(height: Int, width: Int) throws(ModelError) -> Padding2D {
        var pad = padding.resolve(height: height, width: width, kernel: kernel, stride: stride)
        guard ceilMode else { return pad }
        func overhang(_ size: Int, _ before: Int, _ after: Int, _ k: Int, _ s: Int) -> Int {
            let span = size + before + after - k
            guard span >= 0 else { return 0 }
            var count = (span + s - 1) / s + 1
            if (count - 1) * s >= size + before { count -= 1 }           // the last window must start inside
            return Swift.max(0, (count - 1) * s + k - (size + before + after))
        }
        let extraH = overhang(height, pad.top, pad.bottom, kernel.0, stride.0), extraW = overhang(width, pad.left, pad.right, kernel.1, stride.1)
        if function == .average, countPadding, padding != .valid, extraH > 0 || extraW > 0 {
            throw .shapeMismatch(layer: kind, reason: "average pooling in ceil mode that counts padding is not supported at \(height)×\(width)")
        }
        pad.bottom += extraH
        pad.right += extraW
        return pad
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = try requireImage(inputs, kind)
        let pad = try resolvedPadding(height: shape[1], width: shape[2])
        return [shape[0]] + (try windowOutput(shape, kernel: kernel, stride: stride, padding: .explicit(pad), layer: kind))
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        let pad: Padding2D
        do { pad = try resolvedPadding(height: x.shape[2], width: x.shape[3]) } catch {
            throw .invalidArgument(op: kind, reason: "\(error)")
        }
        switch function {
        case .max: return try x.maxPool2d(kernel: kernel, stride: stride, padding: pad)
        case .average:
            // With an overhang and no padding of its own, a ceil-mode average divides by the pixels inside.
            let overhang = ceilMode && pad != padding.resolve(height: x.shape[2], width: x.shape[3], kernel: kernel, stride: stride)
            return try x.avgPool2d(kernel: kernel, stride: stride, padding: pad, countPadding: countPadding && padding != .same && !overhang)
        }
    }

    public override var details: String {
        "\(kernel.0)×\(kernel.1)" + (stride != kernel ? " s\(stride.0)" : "") + (padding == .valid ? "" : " \(padding)") + (ceilMode ? " ceil" : "")
    }
}

// MARK: Export

extension Pool2d: ONNXExportable {
    public func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws {
        // Ceil mode is written as the extra bottom and right padding it amounts to (never chosen, never counted).
        let p = try resolvedPadding(height: node.inputShape[1], width: node.inputShape[2])
        let overhang = p != padding.resolve(height: node.inputShape[1], width: node.inputShape[2], kernel: kernel, stride: stride)
        var attributes = [ONNXWriter.attribute("kernel_shape", ints: [kernel.0, kernel.1]), ONNXWriter.attribute("strides", ints: [stride.0, stride.1]),
                          ONNXWriter.attribute("pads", ints: [p.top, p.left, p.bottom, p.right])]
        if function == .average { attributes.append(ONNXWriter.attribute("count_include_pad", int: countPadding && padding != .same && !overhang ? 1 : 0)) }
        writer.emit(function == .max ? "MaxPool" : "AveragePool", [node.inputs[0]], output: node.output, attributes)
    }
}

extension Pool2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        // nn.MaxPool2d and nn.AvgPool2d where they mean the same (even padding of at most half the window).
        if let (h, w) = Py.symmetric(padding), h <= kernel.0 / 2, w <= kernel.1 / 2 {
            var arguments = [Py.pair(kernel)]
            if stride != kernel { arguments.append("stride=\(Py.pair(stride))") }
            if (h, w) != (0, 0) { arguments.append("padding=\(Py.pair((h, w)))") }
            if ceilMode { arguments.append("ceil_mode=True") }
            if function == .average, !countPadding, (h, w) != (0, 0) { arguments.append("count_include_pad=False") }
            return PyTorchModule("nn.\(function == .max ? "MaxPool2d" : "AvgPool2d")(\(arguments.joined(separator: ", ")))")
        }
        return PyTorchModule("Pool2d(\(Py.string(function == .max ? "max" : "avg")), \(Py.ints([kernel.0, kernel.1])), \(Py.ints([stride.0, stride.1])), "
            + "\(Py.padding(padding)), ceil_mode=\(Py.bool(ceilMode)), count_pad=\(Py.bool(countPadding)))", helpers: [.pool2d])
    }
}

// The Python class this kind's module needs in model.py's prelude.
extension PyTorchHelper {
    static let pool2d = PyTorchHelper("pool2d", needs: [.samePadding], source: #"""
class Pool2d(nn.Module):
    """Max or average pooling with padding nn.MaxPool2d and nn.AvgPool2d cannot express: TensorFlow's
    "same" or uneven amounts (left, right, top, bottom), ceil mode over them. An average divides by
    the pixels inside the input unless count_pad (and there is no ceil-mode overhang)."""

    def __init__(self, kind, kernel_size, stride, pad, ceil_mode=False, count_pad=False):
        super().__init__()
        self.kind, self.kernel_size, self.stride, self.pad, self.ceil_mode, self.count_pad = kind, kernel_size, stride, pad, ceil_mode, count_pad

    def forward(self, x):
        h, w = x.shape[-2:]
        left, right, top, bottom = same_padding((h, w), self.kernel_size, self.stride) if self.pad == "same" else self.pad
        extra_h = ceil_overhang(h, top, bottom, self.kernel_size[0], self.stride[0]) if self.ceil_mode else 0
        extra_w = ceil_overhang(w, left, right, self.kernel_size[1], self.stride[1]) if self.ceil_mode else 0
        pad = (left, right + extra_w, top, bottom + extra_h)
        if self.kind == "max":
            return F.max_pool2d(F.pad(x, pad, value=-math.inf), self.kernel_size, self.stride)
        total = F.avg_pool2d(F.pad(x, pad), self.kernel_size, self.stride)
        if self.count_pad and self.pad != "same" and extra_h == 0 and extra_w == 0:
            return total
        inside = F.avg_pool2d(F.pad(torch.ones_like(x[:1, :1]), pad), self.kernel_size, self.stride)
        return total / inside
"""#)
}
