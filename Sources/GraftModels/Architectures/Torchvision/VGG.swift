import GraftTensor
import GraftNN

/// torchvision's VGG-11/13/16/19 with and without BatchNorm, and AlexNet: `features.N` in
/// torchvision's numbering (convolutions, BatchNorms, ReLUs and max pools each take an index),
/// adaptive average pooling to 7×7 (6×6 for AlexNet), `classifier.0/3/6` (`1/4/6` for AlexNet).
enum VGG {
    /// Channels per convolution, 0 for a max pool.
    static let configs: [String: [Int]] = [
        "vgg11": [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        "vgg13": [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        "vgg16": [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
        "vgg19": [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0],
    ]

    static let architectures: [Architecture] = ["vgg11", "vgg13", "vgg16", "vgg19"].flatMap { base in
        [false, true].map { bn in
            let name = base + (bn ? "_bn" : "")
            return Architecture(name, "VGG-\(base.dropFirst(3))\(bn ? " with BatchNorm" : ""), torchvision's layout and parameter names", anchor: "classifier.6.weight") {
                classes, input, _, generator throws(ModelError) in try build(name, configs[base] ?? [], batchNorm: bn, classes: classes, input: input, generator: generator)
            }
        }
    } + [
        Architecture("alexnet", "AlexNet, torchvision's layout and parameter names", anchor: "classifier.4.weight") { classes, input, _, generator throws(ModelError) in
            try alexNet(classes: classes, input: input, generator: generator)
        },
    ]

    static func build(_ name: String, _ config: [Int], batchNorm: Bool, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var t = try TorchvisionBuilder(input: input, generator: generator)
        var x = t.input, index = 0
        for channels in config {
            if channels == 0 {
                x = try t.add("features.\(index)", Pool2d(.max, kernel: (2, 2)), x)
                index += 1
                continue
            }
            x = try t.add("features.\(index)", t.conv(t.channels(x), channels, 3, bias: true), x)
            index += 1
            if batchNorm { x = try t.add("features.\(index)", t.norm(channels), x); index += 1 }
            x = try t.add("features.\(index)", Activation(.relu), x)
            index += 1
        }
        return try classifier(&t, x, pool: 7, indices: [0, 3, 6], dropoutFirst: false, classes: classes, name: name)
    }

    static func alexNet(classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var t = try TorchvisionBuilder(input: input, generator: generator)
        var x = try t.add("features.0", t.conv(input[0], 64, 11, stride: 4, padding: 2, bias: true), t.input)
        x = try t.add("features.1", Activation(.relu), x)
        x = try t.add("features.2", Pool2d(.max, kernel: (3, 3), stride: (2, 2)), x)
        x = try t.add("features.3", t.conv(64, 192, 5, padding: 2, bias: true), x)
        x = try t.add("features.4", Activation(.relu), x)
        x = try t.add("features.5", Pool2d(.max, kernel: (3, 3), stride: (2, 2)), x)
        x = try t.add("features.6", t.conv(192, 384, 3, bias: true), x)
        x = try t.add("features.7", Activation(.relu), x)
        x = try t.add("features.8", t.conv(384, 256, 3, bias: true), x)
        x = try t.add("features.9", Activation(.relu), x)
        x = try t.add("features.10", t.conv(256, 256, 3, bias: true), x)
        x = try t.add("features.11", Activation(.relu), x)
        x = try t.add("features.12", Pool2d(.max, kernel: (3, 3), stride: (2, 2)), x)
        return try classifier(&t, x, pool: 6, indices: [1, 4, 6], dropoutFirst: true, classes: classes, name: "alexnet")
    }

    /// Adaptive pooling, flatten, and three Linear layers with ReLU and dropout 0.5 between them
    /// (VGG: Linear, ReLU, Dropout; AlexNet: Dropout, Linear, ReLU).
    static func classifier(_ t: inout TorchvisionBuilder, _ input: Int, pool: Int, indices: [Int], dropoutFirst: Bool, classes: Int, name: String) throws(ModelError) -> Model {
        var x = try t.add("avgpool", AdaptiveAvgPool2d((pool, pool)), input)
        x = try t.add("flatten", Flatten(), x)
        let widths = [t.b.shape(of: x)[0], 4096, 4096, classes]
        for k in 0..<3 {
            let i = indices[k]
            if dropoutFirst && k < 2 { x = try t.add("classifier.\(i - 1)", Dropout(0.5), x) }
            x = try t.add("classifier.\(i)", Dense(widths[k], widths[k + 1], generator: t.generator), x)
            guard k < 2 else { break }
            x = try t.add("classifier.\(i + 1)", Activation(.relu), x)
            if !dropoutFirst { x = try t.add("classifier.\(i + 2)", Dropout(0.5), x) }
        }
        return t.build(name)
    }
}
