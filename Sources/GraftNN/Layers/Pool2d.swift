import GraftTensor

/// Max or average pooling over [C, H, W].
public final class Pool2d: Layer, LayerKind {
    public enum Kind: Sendable { case max, average }
    public struct Config: Codable, Sendable, Equatable {
        public var max: Bool
        public var kernel: [Int], stride: [Int]
        public var padding: [Int]?
        public var countPadding: Bool
    }
    public static let key = "pool2d"

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

    public convenience init(config c: Config) throws(ModelError) {
        try self.init(c.max ? .max : .average, kernel: try configPair(c.kernel, "kernel", layer: Self.key), stride: try configPair(c.stride, "stride", layer: Self.key),
                      padding: try PaddingMode(configValues: c.padding, layer: Self.key), countPadding: c.countPadding)
    }

    public var config: Config {
        Config(max: function == .max, kernel: [kernel.0, kernel.1], stride: [stride.0, stride.1], padding: padding.configValues, countPadding: countPadding)
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = try requireImage(inputs, kind)
        return [shape[0]] + (try windowOutput(shape, kernel: kernel, stride: stride, padding: padding, layer: kind))
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
