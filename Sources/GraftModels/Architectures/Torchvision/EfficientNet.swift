import GraftTensor
import GraftNN

/// torchvision's EfficientNet B0–B7 (MBConv with squeeze-excite, SiLU) and EfficientNetV2 S/M/L
/// (Fused-MBConv then MBConv): `features.0` stem, `features.1…` stages of `features.s.j.block.k`,
/// the last 1×1 convolution, `avgpool`, `classifier.1`. Stochastic depth grows linearly to 0.2.
enum EfficientNet {
    /// (fused, expand ratio, kernel, stride, input channels, output channels, layers) per stage.
    typealias Stage = (fused: Bool, expand: Double, kernel: Int, stride: Int, input: Int, output: Int, layers: Int)

    struct Variant {
        let name: String
        let stages: [Stage]
        let width: Double, depth: Double
        let dropout: Float
        let lastChannels: Int?
        let epsilon: Float, momentum: Float
    }

    static let b: [Stage] = [(false, 1, 3, 1, 32, 16, 1), (false, 6, 3, 2, 16, 24, 2), (false, 6, 5, 2, 24, 40, 2), (false, 6, 3, 2, 40, 80, 3),
                             (false, 6, 5, 1, 80, 112, 3), (false, 6, 5, 2, 112, 192, 4), (false, 6, 3, 1, 192, 320, 1)]
    static let variants: [Variant] = [
        Variant(name: "efficientnet_b0", stages: b, width: 1.0, depth: 1.0, dropout: 0.2, lastChannels: nil, epsilon: 1e-5, momentum: 0.1),
        Variant(name: "efficientnet_b1", stages: b, width: 1.0, depth: 1.1, dropout: 0.2, lastChannels: nil, epsilon: 1e-5, momentum: 0.1),
        Variant(name: "efficientnet_b2", stages: b, width: 1.1, depth: 1.2, dropout: 0.3, lastChannels: nil, epsilon: 1e-5, momentum: 0.1),
        Variant(name: "efficientnet_b3", stages: b, width: 1.2, depth: 1.4, dropout: 0.3, lastChannels: nil, epsilon: 1e-5, momentum: 0.1),
        Variant(name: "efficientnet_b4", stages: b, width: 1.4, depth: 1.8, dropout: 0.4, lastChannels: nil, epsilon: 1e-5, momentum: 0.1),
        Variant(name: "efficientnet_b5", stages: b, width: 1.6, depth: 2.2, dropout: 0.4, lastChannels: nil, epsilon: 1e-3, momentum: 0.01),
        Variant(name: "efficientnet_b6", stages: b, width: 1.8, depth: 2.6, dropout: 0.5, lastChannels: nil, epsilon: 1e-3, momentum: 0.01),
        Variant(name: "efficientnet_b7", stages: b, width: 2.0, depth: 3.1, dropout: 0.5, lastChannels: nil, epsilon: 1e-3, momentum: 0.01),
        Variant(name: "efficientnet_v2_s", stages: [(true, 1, 3, 1, 24, 24, 2), (true, 4, 3, 2, 24, 48, 4), (true, 4, 3, 2, 48, 64, 4),
                                                   (false, 4, 3, 2, 64, 128, 6), (false, 6, 3, 1, 128, 160, 9), (false, 6, 3, 2, 160, 256, 15)],
                width: 1, depth: 1, dropout: 0.2, lastChannels: 1280, epsilon: 1e-3, momentum: 0.1),
        Variant(name: "efficientnet_v2_m", stages: [(true, 1, 3, 1, 24, 24, 3), (true, 4, 3, 2, 24, 48, 5), (true, 4, 3, 2, 48, 80, 5),
                                                   (false, 4, 3, 2, 80, 160, 7), (false, 6, 3, 1, 160, 176, 14), (false, 6, 3, 2, 176, 304, 18),
                                                   (false, 6, 3, 1, 304, 512, 5)],
                width: 1, depth: 1, dropout: 0.3, lastChannels: 1280, epsilon: 1e-3, momentum: 0.1),
        Variant(name: "efficientnet_v2_l", stages: [(true, 1, 3, 1, 32, 32, 4), (true, 4, 3, 2, 32, 64, 7), (true, 4, 3, 2, 64, 96, 7),
                                                   (false, 4, 3, 2, 96, 192, 10), (false, 6, 3, 1, 192, 224, 19), (false, 6, 3, 2, 224, 384, 25),
                                                   (false, 6, 3, 1, 384, 640, 7)],
                width: 1, depth: 1, dropout: 0.4, lastChannels: 1280, epsilon: 1e-3, momentum: 0.1),
    ]

    static let architectures = variants.map { variant in
        Architecture(variant.name, "\(variant.name.hasPrefix("efficientnet_v2") ? "EfficientNetV2" : "EfficientNet")-\(variant.name.split(separator: "_").last.map { String($0).uppercased() } ?? ""), torchvision's layout and parameter names",
                     anchor: "features.1.0.block.0.0.weight") { classes, input, _, generator throws(ModelError) in try build(variant, classes: classes, input: input, generator: generator)
        }
    }

    static func build(_ v: Variant, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var t = try TorchvisionBuilder(input: input, generator: generator, epsilon: v.epsilon, momentum: v.momentum)
        func channels(_ c: Int) -> Int { makeDivisible(Double(c) * v.width) }
        let stages = v.stages.map { s in (s.fused, s.expand, s.kernel, s.stride, channels(s.input), channels(s.output), Int((Double(s.layers) * v.depth).rounded(.up))) }
        var x = try t.convNormActivation("features.0", t.input, stages[0].4, kernel: 3, stride: 2, activation: .silu)
        let total = stages.reduce(0) { $0 + $1.6 }
        var blockIndex = 0
        for (s, stage) in stages.enumerated() {
            let (fused, expand, kernel, firstStride, _, out, layers) = stage
            for j in 0..<layers {
                let p = "features.\(s + 1).\(j).block"
                let inC = t.channels(x), stride = j == 0 ? firstStride : 1
                let expanded = makeDivisible(Double(inC) * expand)
                var h = x
                var k = 0
                if fused {
                    if expanded != inC {
                        h = try t.convNormActivation("\(p).0", h, expanded, kernel: kernel, stride: stride, activation: .silu)
                        h = try t.convNormActivation("\(p).1", h, out, kernel: 1, activation: nil)
                    } else {
                        h = try t.convNormActivation("\(p).0", h, out, kernel: kernel, stride: stride, activation: .silu)
                    }
                } else {
                    if expanded != inC { h = try t.convNormActivation("\(p).0", h, expanded, kernel: 1, activation: .silu); k = 1 }
                    h = try t.convNormActivation("\(p).\(k)", h, expanded, kernel: kernel, stride: stride, groups: expanded, activation: .silu)
                    h = try t.squeezeExcite("\(p).\(k + 1)", h, squeeze: Swift.max(1, inC / 4), activation: .silu)
                    h = try t.convNormActivation("\(p).\(k + 2)", h, out, kernel: 1, activation: nil)
                }
                if stride == 1 && inC == out {
                    let drop = try t.add("features.\(s + 1).\(j).stochastic_depth", DropPath(0.2 * Float(blockIndex) / Float(total)), h)
                    h = try t.add("features.\(s + 1).\(j).add", Merge(.add), drop, x)
                }
                x = h
                blockIndex += 1
            }
        }
        let last = v.lastChannels ?? 4 * t.channels(x)
        x = try t.convNormActivation("features.\(stages.count + 1)", x, last, kernel: 1, activation: .silu)
        x = try t.add("avgpool", GlobalPool2d(.average), x)
        x = try t.add("classifier.0", Dropout(v.dropout), x)
        try t.add("classifier.1", Dense(last, classes, generator: generator), x)
        return t.build(v.name)
    }
}
