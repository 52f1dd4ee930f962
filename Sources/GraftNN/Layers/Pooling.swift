import GraftTensor

/// Max or average pooling over [C, H, W].
public final class Pool2d: Layer {
    public enum Kind: Sendable { case max, average }
    public let function: Kind
    public let kernel: (Int, Int), stride: (Int, Int)
    public let padding: PaddingMode
    /// Average pooling: divide by the full window (PyTorch's default) or by the pixels inside the image (Keras "same").
    public let countPadding: Bool

    public init(_ function: Kind, kernel: (Int, Int), stride: (Int, Int)? = nil, padding: PaddingMode = .valid, countPadding: Bool = true) throws(ModelError) {
        let stride = stride ?? kernel
        guard kernel.0 > 0, kernel.1 > 0, stride.0 > 0, stride.1 > 0 else {
            throw .invalidArgument(what: function == .max ? "MaxPool2d" : "AvgPool2d", reason: "kernel and stride must be positive")
        }
        (self.function, self.kernel, self.stride, self.padding, self.countPadding) = (function, kernel, stride, padding, countPadding)
        super.init(kind: function == .max ? "MaxPool2d" : "AvgPool2d")
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = try requireImage(inputs, kind)
        let pad = padding.resolve(height: shape[1], width: shape[2], kernel: kernel, stride: stride)
        let h = shape[1] + pad.top + pad.bottom - kernel.0, w = shape[2] + pad.left + pad.right - kernel.1
        guard h >= 0, w >= 0 else { throw .shapeMismatch(layer: kind, reason: "window \(kernel.0)×\(kernel.1) is larger than the input \(shape[1])×\(shape[2])") }
        return [shape[0], h / stride.0 + 1, w / stride.1 + 1]
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        let pad = padding.resolve(height: x.shape[2], width: x.shape[3], kernel: kernel, stride: stride)
        switch function {
        case .max: return try x.maxPool2d(kernel: kernel, stride: stride, padding: pad)
        case .average: return try x.avgPool2d(kernel: kernel, stride: stride, padding: pad, countPadding: countPadding && padding != .same)
        }
    }

    public override var details: String {
        "\(kernel.0)×\(kernel.1)" + (stride != kernel ? " s\(stride.0)" : "") + (padding == .valid ? "" : " \(padding)")
    }
}

/// Global average or max pooling: [C, H, W] → [C].
public final class GlobalPool2d: Layer {
    public let function: Pool2d.Kind

    public init(_ function: Pool2d.Kind) {
        self.function = function
        super.init(kind: function == .max ? "GlobalMaxPool2d" : "GlobalAvgPool2d")
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] { [try requireImage(inputs, kind)[0]] }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        function == .max ? try inputs[0].globalMaxPool2d() : try inputs[0].globalAvgPool2d()
    }
}
