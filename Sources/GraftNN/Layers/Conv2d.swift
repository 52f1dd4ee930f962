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
public final class Conv2d: Layer {
    public let inChannels: Int, outChannels: Int
    public let kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int)
    public let padding: PaddingMode
    public let groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: PaddingMode = .valid,
                dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true, generator: Generator, kind: String = "Conv2d") throws(ModelError) {
        guard inChannels > 0, outChannels > 0, groups > 0, inChannels % groups == 0, outChannels % groups == 0 else {
            throw .invalidArgument(what: kind, reason: "channels \(inChannels) → \(outChannels) must be positive and divisible by groups \(groups)")
        }
        guard kernel.0 > 0, kernel.1 > 0, stride.0 > 0, stride.1 > 0, dilation.0 > 0, dilation.1 > 0 else {
            throw .invalidArgument(what: kind, reason: "kernel, stride and dilation must be positive")
        }
        (self.inChannels, self.outChannels, self.kernel, self.stride, self.padding, self.dilation, self.groups) =
            (inChannels, outChannels, kernel, stride, padding, dilation, groups)
        super.init(kind: kind)
        do {
            // He normal with fan_out = out/groups·kh·kw… as torchvision initializes ResNet and MobileNet.
            register("weight", try Initializer.heNormal([outChannels, inChannels / groups, kernel.0, kernel.1],
                                                       fanOut: outChannels / groups * kernel.0 * kernel.1, generator: generator))
            if bias { register("bias", try Tensor.zeros([outChannels])) }
        } catch { throw .tensor(layer: kind, error: error) }
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = try requireImage(inputs, kind)
        guard shape[0] == inChannels else {
            throw .shapeMismatch(layer: kind, reason: "expects \(inChannels) input channels, got \(shape[0]) (input \(formatShape(shape)))")
        }
        let pad = padding.resolve(height: shape[1], width: shape[2], kernel: kernel, stride: stride, dilation: dilation)
        let spanH = dilation.0 * (kernel.0 - 1) + 1, spanW = dilation.1 * (kernel.1 - 1) + 1
        let h = shape[1] + pad.top + pad.bottom - spanH, w = shape[2] + pad.left + pad.right - spanW
        guard h >= 0, w >= 0 else {
            throw .shapeMismatch(layer: kind, reason: "kernel \(kernel.0)×\(kernel.1) does not fit the input \(shape[1])×\(shape[2])")
        }
        return [outChannels, h / stride.0 + 1, w / stride.1 + 1]
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        guard let weight = parameter("weight") else { return x }
        let pad = padding.resolve(height: x.shape[2], width: x.shape[3], kernel: kernel, stride: stride, dilation: dilation)
        return try x.conv2d(weight, bias: parameter("bias"), stride: stride, padding: pad, dilation: dilation, groups: groups)
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

/// Keras's SeparableConv2D: a depthwise convolution (with a depth multiplier) followed by a 1×1
/// pointwise convolution; keys `depthwise_weight` [in·m, 1, kh, kw], `pointwise_weight` [out, in·m, 1, 1], `bias`.
public final class SeparableConv2d: Layer {
    public let inChannels: Int, outChannels: Int, depthMultiplier: Int
    public let kernel: (Int, Int), stride: (Int, Int)
    public let padding: PaddingMode

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: PaddingMode = .valid,
                depthMultiplier: Int = 1, bias: Bool = true, generator: Generator) throws(ModelError) {
        guard inChannels > 0, outChannels > 0, depthMultiplier > 0, kernel.0 > 0, kernel.1 > 0, stride.0 > 0, stride.1 > 0 else {
            throw .invalidArgument(what: "SeparableConv2d", reason: "channels, multiplier, kernel and stride must be positive")
        }
        (self.inChannels, self.outChannels, self.depthMultiplier, self.kernel, self.stride, self.padding) =
            (inChannels, outChannels, depthMultiplier, kernel, stride, padding)
        super.init(kind: "SeparableConv2d")
        let mid = inChannels * depthMultiplier
        do {
            register("depthwise_weight", try Initializer.heNormal([mid, 1, kernel.0, kernel.1], fanOut: kernel.0 * kernel.1 * depthMultiplier, generator: generator))
            register("pointwise_weight", try Initializer.heNormal([outChannels, mid, 1, 1], fanOut: outChannels, generator: generator))
            if bias { register("bias", try Tensor.zeros([outChannels])) }
        } catch { throw .tensor(layer: kind, error: error) }
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = try requireImage(inputs, kind)
        guard shape[0] == inChannels else {
            throw .shapeMismatch(layer: kind, reason: "expects \(inChannels) input channels, got \(shape[0])")
        }
        let pad = padding.resolve(height: shape[1], width: shape[2], kernel: kernel, stride: stride)
        let h = shape[1] + pad.top + pad.bottom - kernel.0, w = shape[2] + pad.left + pad.right - kernel.1
        guard h >= 0, w >= 0 else { throw .shapeMismatch(layer: kind, reason: "kernel does not fit the input \(shape[1])×\(shape[2])") }
        return [outChannels, h / stride.0 + 1, w / stride.1 + 1]
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        guard let depthwise = parameter("depthwise_weight"), let pointwise = parameter("pointwise_weight") else { return x }
        let pad = padding.resolve(height: x.shape[2], width: x.shape[3], kernel: kernel, stride: stride)
        let mid = try x.conv2d(depthwise, stride: stride, padding: pad, groups: inChannels)
        return try mid.conv2d(pointwise, bias: parameter("bias"))
    }

    public override var details: String {
        "\(kernel.0)×\(kernel.1)" + (stride != (1, 1) ? " s\(stride.0)" : "") + " \(padding)" + (depthMultiplier > 1 ? " ×\(depthMultiplier)" : "")
    }
}
