import GraftTensor
import GraftNN

/// torchvision's MobileNetV3 Small and Large: `features.0` stem (hard-swish), inverted residuals
/// `features.i.block.k` (squeeze-excite with a hard sigmoid where the paper has it), the last 1×1
/// convolution, `avgpool`, `classifier.0` (Linear), hard-swish, dropout, `classifier.3`. BatchNorm
/// eps 0.001, momentum 0.01.
enum MobileNetV3 {
    /// (input, kernel, expanded, output, squeeze-excite, hard-swish, stride) per block.
    typealias Block = (input: Int, kernel: Int, expanded: Int, output: Int, se: Bool, hardSwish: Bool, stride: Int)

    static let large: [Block] = [
        (16, 3, 16, 16, false, false, 1), (16, 3, 64, 24, false, false, 2), (24, 3, 72, 24, false, false, 1), (24, 5, 72, 40, true, false, 2),
        (40, 5, 120, 40, true, false, 1), (40, 5, 120, 40, true, false, 1), (40, 3, 240, 80, false, true, 2), (80, 3, 200, 80, false, true, 1),
        (80, 3, 184, 80, false, true, 1), (80, 3, 184, 80, false, true, 1), (80, 3, 480, 112, true, true, 1), (112, 3, 672, 112, true, true, 1),
        (112, 5, 672, 160, true, true, 2), (160, 5, 960, 160, true, true, 1), (160, 5, 960, 160, true, true, 1),
    ]
    static let small: [Block] = [
        (16, 3, 16, 16, true, false, 2), (16, 3, 72, 24, false, false, 2), (24, 3, 88, 24, false, false, 1), (24, 5, 96, 40, true, true, 2),
        (40, 5, 240, 40, true, true, 1), (40, 5, 240, 40, true, true, 1), (40, 5, 120, 48, true, true, 1), (48, 5, 144, 48, true, true, 1),
        (48, 5, 288, 96, true, true, 2), (96, 5, 576, 96, true, true, 1), (96, 5, 576, 96, true, true, 1),
    ]

    static let architectures = [
        Architecture("mobilenet_v3_large", "MobileNetV3-Large, torchvision's layout and parameter names", anchor: "features.1.block.0.0.weight") { classes, input, _, generator throws(ModelError) in
            try build("mobilenet_v3_large", large, last: 1280, classes: classes, input: input, generator: generator)
        },
        Architecture("mobilenet_v3_small", "MobileNetV3-Small, torchvision's layout and parameter names", anchor: "features.1.block.0.0.weight") { classes, input, _, generator throws(ModelError) in
            try build("mobilenet_v3_small", small, last: 1024, classes: classes, input: input, generator: generator)
        },
    ]

    static func build(_ name: String, _ blocks: [Block], last: Int, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var t = try TorchvisionBuilder(input: input, generator: generator, epsilon: 1e-3, momentum: 0.01)
        var x = try t.convNormActivation("features.0", t.input, makeDivisible(Double(blocks[0].input)), kernel: 3, stride: 2, activation: .hardswish)
        for (i, block) in blocks.enumerated() {
            let p = "features.\(i + 1).block"
            let inC = t.channels(x), expanded = makeDivisible(Double(block.expanded)), out = makeDivisible(Double(block.output))
            let activation: Activation.Function = block.hardSwish ? .hardswish : .relu
            var h = x, k = 0
            if expanded != inC { h = try t.convNormActivation("\(p).0", h, expanded, kernel: 1, activation: activation); k = 1 }
            h = try t.convNormActivation("\(p).\(k)", h, expanded, kernel: block.kernel, stride: block.stride, groups: expanded, activation: activation)
            k += 1
            if block.se { h = try t.squeezeExcite("\(p).\(k)", h, squeeze: makeDivisible(Double(expanded / 4)), scale: .hardsigmoid); k += 1 }
            h = try t.convNormActivation("\(p).\(k)", h, out, kernel: 1, activation: nil)
            if block.stride == 1 && inC == out { h = try t.add("features.\(i + 1).add", Merge(.add), h, x) }
            x = h
        }
        let lastConv = 6 * t.channels(x)
        x = try t.convNormActivation("features.\(blocks.count + 1)", x, lastConv, kernel: 1, activation: .hardswish)
        x = try t.add("avgpool", GlobalPool2d(.average), x)
        x = try t.add("classifier.0", Dense(lastConv, last, generator: generator), x)
        x = try t.add("classifier.1", Activation(.hardswish), x)
        x = try t.add("classifier.2", Dropout(0.2), x)
        try t.add("classifier.3", Dense(last, classes, generator: generator), x)
        return t.build(name)
    }
}
