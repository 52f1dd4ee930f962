import GraftTensor
import GraftNN

/// torchvision's SqueezeNet 1.0 and 1.1: Fire modules (`features.N.squeeze`, `expand1x1`,
/// `expand3x3`, concatenated), max pools in ceil mode, `classifier.1` a 1×1 convolution to the
/// classes, ReLU, global average pooling.
enum SqueezeNet {
    /// A convolution stem then, per entry, a Fire (squeeze, expand) or a max pool (0, 0).
    static let layouts: [String: (stem: (Int, Int), layers: [(Int, Int)])] = [
        "squeezenet1_0": ((96, 7), [(0, 0), (16, 64), (16, 64), (32, 128), (0, 0), (32, 128), (48, 192), (48, 192), (64, 256), (0, 0), (64, 256)]),
        "squeezenet1_1": ((64, 3), [(0, 0), (16, 64), (16, 64), (0, 0), (32, 128), (32, 128), (0, 0), (48, 192), (48, 192), (64, 256), (64, 256)]),
    ]

    static let architectures = ["squeezenet1_0", "squeezenet1_1"].map { name in
        Architecture(name, "SqueezeNet \(name.hasSuffix("1_0") ? "1.0" : "1.1"), torchvision's layout and parameter names", anchor: "features.3.squeeze.weight") {
            classes, input, _, generator throws(ModelError) in try build(name, classes: classes, input: input, generator: generator)
        }
    }

    static func build(_ name: String, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        guard let layout = layouts[name] else { throw .invalidArgument(what: "architecture", reason: "unknown '\(name)'") }
        var t = try TorchvisionBuilder(input: input, generator: generator)
        var x = try t.add("features.0", t.conv(input[0], layout.stem.0, layout.stem.1, stride: 2, padding: 0, bias: true), t.input)
        x = try t.add("features.1", Activation(.relu), x)
        for (k, (squeeze, expand)) in layout.layers.enumerated() {
            let p = "features.\(k + 2)"
            if squeeze == 0 {
                x = try t.add(p, Pool2d(.max, kernel: (3, 3), stride: (2, 2), ceilMode: true), x)
                continue
            }
            var s = try t.add("\(p).squeeze", t.conv(t.channels(x), squeeze, 1, bias: true), x)
            s = try t.add("\(p).squeeze_activation", Activation(.relu), s)
            var a = try t.add("\(p).expand1x1", t.conv(squeeze, expand, 1, bias: true), s)
            a = try t.add("\(p).expand1x1_activation", Activation(.relu), a)
            var b = try t.add("\(p).expand3x3", t.conv(squeeze, expand, 3, bias: true), s)
            b = try t.add("\(p).expand3x3_activation", Activation(.relu), b)
            x = try t.add("\(p).cat", Merge(.concatenate), a, b)
        }
        x = try t.add("classifier.0", Dropout(0.5), x)
        x = try t.add("classifier.1", t.conv(t.channels(x), classes, 1, bias: true), x)
        x = try t.add("classifier.2", Activation(.relu), x)
        try t.add("classifier.3", GlobalPool2d(.average), x)
        return t.build(name)
    }
}
