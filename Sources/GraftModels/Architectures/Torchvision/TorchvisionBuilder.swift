import GraftTensor
import GraftNN

/// The building blocks torchvision's CNNs share, under torchvision's module names, so a model
/// built from them has a torchvision state dict's keys.
struct TorchvisionBuilder {
    var b: GraphBuilder
    let generator: Generator
    /// BatchNorm settings of the family (PyTorch's momentum).
    var epsilon: Float = 1e-5, momentum: Float = 0.1

    init(input: [Int], generator: Generator, epsilon: Float = 1e-5, momentum: Float = 0.1) throws(ModelError) {
        b = try GraphBuilder(inputShape: input)
        self.generator = generator
        (self.epsilon, self.momentum) = (epsilon, momentum)
    }

    var input: Int { b.input }
    func channels(_ node: Int) -> Int { b.shape(of: node)[0] }

    @discardableResult
    mutating func add(_ name: String, _ layer: Layer, _ inputs: Int...) throws(ModelError) -> Int {
        try b.add(layer, name: name, inputs: inputs.isEmpty ? nil : inputs)
    }

    func conv(_ i: Int, _ o: Int, _ k: Int, stride: Int = 1, padding: Int? = nil, dilation: Int = 1, groups: Int = 1, bias: Bool = false) throws(ModelError) -> Conv2d {
        let p = padding ?? (k - 1) / 2 * dilation
        return try Conv2d(i, o, kernel: (k, k), stride: (stride, stride), padding: .explicit(Padding2D(p, p)), dilation: (dilation, dilation),
                          groups: groups, bias: bias, generator: generator)
    }

    func norm(_ channels: Int) throws(ModelError) -> BatchNorm { try BatchNorm(channels, epsilon: epsilon, momentum: momentum) }

    /// torchvision's `Conv2dNormActivation`: `prefix.0` conv (no bias), `prefix.1` BatchNorm, `prefix.2` activation.
    @discardableResult
    mutating func convNormActivation(_ prefix: String, _ x: Int, _ out: Int, kernel: Int, stride: Int = 1, dilation: Int = 1, groups: Int = 1,
                                     activation: Activation.Function?) throws(ModelError) -> Int {
        var h = try add("\(prefix).0", conv(channels(x), out, kernel, stride: stride, dilation: dilation, groups: groups), x)
        h = try add("\(prefix).1", norm(out), h)
        if let activation { h = try add("\(prefix).2", Activation(activation), h) }
        return h
    }

    /// torchvision's `SqueezeExcitation`: `prefix.avgpool`, `prefix.fc1`, `prefix.activation`,
    /// `prefix.fc2`, `prefix.scale_activation`, and the product with the input (`prefix.scale`).
    @discardableResult
    mutating func squeezeExcite(_ prefix: String, _ x: Int, squeeze: Int, activation: Activation.Function = .relu,
                                scale: Activation.Function = .sigmoid) throws(ModelError) -> Int {
        let c = channels(x)
        var s = try add("\(prefix).avgpool", GlobalPool2d(.average, keepDims: true), x)
        s = try add("\(prefix).fc1", conv(c, squeeze, 1, bias: true), s)
        s = try add("\(prefix).activation", Activation(activation), s)
        s = try add("\(prefix).fc2", conv(squeeze, c, 1, bias: true), s)
        s = try add("\(prefix).scale_activation", Activation(scale), s)
        return try add("\(prefix).scale", Merge(.multiply), s, x)
    }

    /// A classifier head: global average pooling (`avgpool`), then the named layers.
    func build(_ name: String) -> Model { b.build(name: name, architecture: name, normalization: .imagenet) }
}

/// torchvision's `_make_divisible(v, divisor)`: round to a multiple, never more than 10 % down.
func makeDivisible(_ value: Double, _ divisor: Int = 8, minimum: Int? = nil) -> Int {
    var rounded = Swift.max(minimum ?? divisor, Int(value + Double(divisor) / 2) / divisor * divisor)
    if Double(rounded) < 0.9 * value { rounded += divisor }
    return rounded
}

/// The torchvision CNN families beyond ResNet and MobileNetV2, each in its own file.
enum TorchvisionZoo {
    static let architectures: [Architecture] = EfficientNet.architectures + MobileNetV3.architectures + ConvNeXt.architectures + TimmConvNeXt.architectures
        + TimmMobileNetV3.architectures
        + TimmEfficientNet.architectures
        + RegNet.architectures + DenseNet.architectures + VGG.architectures + SqueezeNet.architectures + MNASNet.architectures
        + ShuffleNetV2.architectures + GoogLeNet.architectures + InceptionV3.architectures
}
