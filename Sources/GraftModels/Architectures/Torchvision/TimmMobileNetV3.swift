import GraftTensor
import GraftNN

/// timm's MobileNetV3 (`mobilenetv3_large_100`, `mobilenetv3_small_100`) under timm's key names:
/// `conv_stem`, `bn1`, `blocks.S.J` (depthwise-separable first: `conv_dw`, `bn1`, `se`, `conv_pw`,
/// `bn2`; inverted residuals: `conv_pw`, `bn1`, `conv_dw`, `bn2`, `se.conv_reduce`/`conv_expand`,
/// `conv_pwl`, `bn3`; the last stage a 1×1 `conv` and `bn1`), then pooling, `conv_head` with a bias
/// and no norm, hard-swish, `classifier`. Squeeze-excite with ReLU and a hard sigmoid, its width
/// rounded to 8 from the expanded channels; BatchNorm ε 1e-5. Which blocks use ReLU and which
/// hard-swish is timm's definition, not in the tensors, so the two are named models (found from a
/// state dict by their shapes), not read off the tensors.
enum TimmMobileNetV3 {
    /// Depthwise-separable ("ds"), inverted residual ("ir") or convolution ("cn") blocks.
    enum Kind { case separable, inverted, convolution }
    /// A block of timm's definition: kind, kernel, stride, expansion, output channels, squeeze-excite, hard-swish.
    typealias Block = (kind: Kind, kernel: Int, stride: Int, expand: Double, out: Int, se: Bool, hardSwish: Bool)

    struct Variant { let name: String, stages: [[Block]], features: Int, parameters: Int }

    static let large = Variant(name: "mobilenetv3_large_100", stages: [
        [(.separable, 3, 1, 1, 16, false, false)],
        [(.inverted, 3, 2, 4, 24, false, false), (.inverted, 3, 1, 3, 24, false, false)],
        Array(repeating: (.inverted, 5, 1, 3, 40, true, false), count: 3).enumerated().map { $0 == 0 ? (.inverted, 5, 2, 3, 40, true, false) : $1 },
        [(.inverted, 3, 2, 6, 80, false, true), (.inverted, 3, 1, 2.5, 80, false, true), (.inverted, 3, 1, 2.3, 80, false, true), (.inverted, 3, 1, 2.3, 80, false, true)],
        [(.inverted, 3, 1, 6, 112, true, true), (.inverted, 3, 1, 6, 112, true, true)],
        [(.inverted, 5, 2, 6, 160, true, true), (.inverted, 5, 1, 6, 160, true, true), (.inverted, 5, 1, 6, 160, true, true)],
        [(.convolution, 1, 1, 1, 960, false, true)],
    ], features: 1280, parameters: 5_483_032)

    static let small = Variant(name: "mobilenetv3_small_100", stages: [
        [(.separable, 3, 2, 1, 16, true, false)],
        [(.inverted, 3, 2, 4.5, 24, false, false), (.inverted, 3, 1, 3.67, 24, false, false)],
        [(.inverted, 5, 2, 4, 40, true, true), (.inverted, 5, 1, 6, 40, true, true), (.inverted, 5, 1, 6, 40, true, true)],
        [(.inverted, 5, 1, 3, 48, true, true), (.inverted, 5, 1, 3, 48, true, true)],
        [(.inverted, 5, 2, 6, 96, true, true), (.inverted, 5, 1, 6, 96, true, true), (.inverted, 5, 1, 6, 96, true, true)],
        [(.convolution, 1, 1, 1, 576, false, true)],
    ], features: 1024, parameters: 2_542_856)

    static let architectures = [large, small].map { v in
        Architecture(v.name, "MobileNetV3-\(v.name.contains("large") ? "Large" : "Small"), timm's layout and parameter names",
                     anchor: "blocks.\(v.stages.count - 1).0.conv.weight") { classes, input, _, generator throws(ModelError) in
            try build(v, classes: classes, input: input, generator: generator)
        }
    }

    static func build(_ v: Variant, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var b = try GraphBuilder(inputShape: input)
        func conv(_ name: String, _ x: Int, _ out: Int, _ k: Int, stride: Int = 1, groups: Int = 1, bias: Bool = false) throws(ModelError) -> Int {
            try b.add(try Conv2d(b.shape(of: x)[0], out, kernel: (k, k), stride: (stride, stride), padding: .explicit(Padding2D(k / 2, k / 2)),
                                 groups: groups, bias: bias, generator: generator), name: name, inputs: [x])
        }
        func norm(_ name: String, _ x: Int, activation: Activation.Function?) throws(ModelError) -> Int {
            let h = try b.add(try BatchNorm(b.shape(of: x)[0]), name: name, inputs: [x])
            guard let activation else { return h }
            return try b.add(Activation(activation), name: "\(name).act", inputs: [h])
        }
        var x = try norm("bn1", try conv("conv_stem", b.input, 16, 3, stride: 2), activation: .hardswish)
        for (s, stage) in v.stages.enumerated() {
            for (j, block) in stage.enumerated() {
                let p = "blocks.\(s).\(j)", input = b.shape(of: x)[0]
                let activation: Activation.Function = block.hardSwish ? .hardswish : .relu
                if block.kind == .convolution {
                    x = try norm("\(p).bn1", try conv("\(p).conv", x, block.out, block.kernel), activation: activation)
                    continue
                }
                let inverted = block.kind == .inverted
                let mid = inverted ? makeDivisible(Double(input) * block.expand) : input
                var h = x
                if inverted { h = try norm("\(p).bn1", try conv("\(p).conv_pw", h, mid, 1), activation: activation) }
                h = try norm("\(p).\(inverted ? "bn2" : "bn1")", try conv("\(p).conv_dw", h, mid, block.kernel, stride: block.stride, groups: mid), activation: activation)
                if block.se {
                    var g = try b.add(GlobalPool2d(.average, keepDims: true), name: "\(p).se.pool", inputs: [h])
                    g = try conv("\(p).se.conv_reduce", g, makeDivisible(Double(mid) * 0.25), 1, bias: true)
                    g = try b.add(Activation(.relu), name: "\(p).se.act1", inputs: [g])
                    g = try conv("\(p).se.conv_expand", g, mid, 1, bias: true)
                    g = try b.add(Activation(.hardsigmoid), name: "\(p).se.gate", inputs: [g])
                    h = try b.add(Merge(.multiply), name: "\(p).se.scale", inputs: [h, g])
                }
                h = try norm("\(p).\(inverted ? "bn3" : "bn2")", try conv("\(p).\(inverted ? "conv_pwl" : "conv_pw")", h, block.out, 1), activation: nil)
                x = block.stride == 1 && input == block.out ? try b.add(Merge(.add), name: "\(p).add", inputs: [h, x]) : h
            }
        }
        x = try b.add(GlobalPool2d(.average, keepDims: true), name: "global_pool", inputs: [x])
        x = try b.add(Activation(.hardswish), name: "act2", inputs: [try conv("conv_head", x, v.features, 1, bias: true)])
        x = try b.add(Flatten(), name: "flatten", inputs: [x])
        x = try b.add(try Dropout(0.2), name: "dropout", inputs: [x])
        _ = try b.add(try Dense(v.features, classes, generator: generator), name: "classifier", inputs: [x])
        return b.build(name: v.name, architecture: v.name, normalization: .imagenet)
    }
}
