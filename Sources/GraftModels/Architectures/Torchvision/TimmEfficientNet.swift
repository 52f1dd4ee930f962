import GraftTensor
import GraftNN

/// timm's EfficientNet family under timm's key names: `conv_stem`, `bn1`, `blocks.S.J` (a
/// depthwise-separable first stage: `conv_dw`, `bn1`, `se`, `conv_pw`, `bn2`; inverted residuals
/// after: `conv_pw`, `bn1`, `conv_dw`, `bn2`, `se.conv_reduce`/`se.conv_expand`, `conv_pwl`, `bn3`),
/// `conv_head`, `bn2`, `classifier`. timm's BatchNormAct2d is the norm then its activation
/// (`bnK.act`). Seven stages whose first blocks stride 1, 2, 2, 2, 1, 2, 1.
/// Two flavours share every key and shape: PyTorch-trained (`efficientnet_b0`: padding k/2,
/// BatchNorm ε 1e-5) and ported from TensorFlow (`tf_…`: TF's "same" padding, ε 1e-3); with
/// squeeze-excite and SiLU (B0…), or without and with ReLU6 (Lite). A state dict is read as
/// `efficientnet_bN` when it has squeeze-excite and as `tf_efficientnet_liteN` when not — the
/// two the hub's checkpoints mostly are; `arch=` names the other flavour.
enum TimmEfficientNet {
    struct Block: Equatable { let inverted: Bool, kernel: Int, mid: Int, out: Int, squeeze: Int? }

    struct Variant {
        let name: String
        let stem: Int
        let stages: [[Block]]
        let head: Int
        let tf: Bool
        let activation: Activation.Function
    }

    /// The first block's stride in each of the seven stages.
    static let strides = [1, 2, 2, 2, 1, 2, 1]

    /// timm's arch definition (`ds_r1_k3_s1_e1_c16`, `ir_r2_k3_s2_e6_c24`, …): inverted, repeats, kernel, expansion, channels.
    static let definition: [(inverted: Bool, repeats: Int, kernel: Int, expand: Double, channels: Int)] = [
        (false, 1, 3, 1, 16), (true, 2, 3, 6, 24), (true, 2, 5, 6, 40), (true, 3, 3, 6, 80), (true, 3, 5, 6, 112), (true, 4, 5, 6, 192), (true, 1, 3, 6, 320),
    ]

    /// A variant as timm's `_gen_efficientnet` / `_gen_efficientnet_lite` make it from the
    /// multipliers (Lite: no squeeze-excite, stem and head fixed, first and last stages not deepened).
    static func variant(_ name: String, width: Double, depth: Double, lite: Bool, tf: Bool) -> Variant {
        func round(_ c: Double) -> Int { makeDivisible(c * width) }
        let stem = lite ? 32 : round(32)
        var input = stem
        var stages: [[Block]] = []
        for (index, stage) in definition.enumerated() {
            let repeats = lite && (index == 0 || index == definition.count - 1) ? stage.repeats : Int((Double(stage.repeats) * depth).rounded(.up))
            let out = round(Double(stage.channels))
            var blocks: [Block] = []
            for _ in 0..<repeats {
                let mid = stage.inverted ? makeDivisible(Double(input) * stage.expand) : input
                let squeeze = lite ? nil : Swift.max(1, Int((Double(mid) * 0.25 / stage.expand).rounded()))
                blocks.append(Block(inverted: stage.inverted, kernel: stage.kernel, mid: mid, out: out, squeeze: squeeze))
                input = out
            }
            stages.append(blocks)
        }
        return Variant(name: name, stem: stem, stages: stages, head: lite ? 1280 : round(1280), tf: tf, activation: lite ? .relu6 : .silu)
    }

    static let variants: [Variant] = [(1.0, 1.0), (1.0, 1.1), (1.1, 1.2), (1.2, 1.4)].enumerated().flatMap { index, m in
        [variant("timm-efficientnet_b\(index)", width: m.0, depth: m.1, lite: false, tf: false),
         variant("tf_efficientnet_b\(index)", width: m.0, depth: m.1, lite: false, tf: true)]
    } + [(1.0, 1.0), (1.0, 1.1), (1.1, 1.2), (1.2, 1.4), (1.4, 1.8)].enumerated().flatMap { index, m in
        [variant("efficientnet_lite\(index)", width: m.0, depth: m.1, lite: true, tf: false),
         variant("tf_efficientnet_lite\(index)", width: m.0, depth: m.1, lite: true, tf: true)]
    }

    static let architectures = variants.map(architecture)

    static func architecture(_ v: Variant) -> Architecture {
        let kind = v.stages.first?.first?.squeeze == nil ? "EfficientNet-Lite" : "EfficientNet"
        return Architecture(v.name, "\(kind), \(v.tf ? "TensorFlow's padding and ε (tf_)" : "PyTorch-trained"), timm's layout and parameter names",
                            anchor: "conv_stem.weight", parametric: true) { classes, input, _, generator throws(ModelError) in
            try build(v, classes: classes, input: input, generator: generator)
        }
    }

    /// A timm EfficientNet's blocks read off its tensors (kernels, expansions, widths,
    /// squeeze-excite sizes), the flavour by squeeze-excite (see above); a named variant's name
    /// when they are one's.
    static func fit(_ shapes: [String: [Int]]) -> Architecture.Fit? {
        guard let stem = shapes["conv_stem.weight"], stem.count == 4, shapes["blocks.0.0.conv_dw.weight"] != nil,
              let head = shapes["conv_head.weight"], head.count == 4, let classes = shapes["classifier.weight"]?.first, classes >= 2 else { return nil }
        var stages: [[Block]] = []
        for s in 0..<strides.count {
            var blocks: [Block] = []
            while blocks.count < 64, let dw = shapes["blocks.\(s).\(blocks.count).conv_dw.weight"], dw.count == 4 {
                let p = "blocks.\(s).\(blocks.count)"
                let inverted = shapes["\(p).conv_pwl.weight"] != nil
                guard let project = shapes["\(p).\(inverted ? "conv_pwl" : "conv_pw").weight"], project.count == 4 else { return nil }
                blocks.append(Block(inverted: inverted, kernel: dw[2], mid: dw[0], out: project[0], squeeze: shapes["\(p).se.conv_reduce.weight"]?.first))
            }
            guard !blocks.isEmpty else { return nil }
            stages.append(blocks)
        }
        guard shapes["blocks.\(strides.count).0.conv_dw.weight"] == nil else { return nil }
        let blocks = stages.flatMap { $0 }
        let lite = blocks.allSatisfy { $0.squeeze == nil }
        guard lite || blocks.allSatisfy({ $0.squeeze != nil }), blocks.allSatisfy({ (1...9).contains($0.kernel) && (1...8192).contains($0.mid) && (1...8192).contains($0.out) }),
              (1...8192).contains(stem[0]), (1...8192).contains(head[0]) else { return nil }
        let named = variants.first { $0.stem == stem[0] && $0.stages == stages && $0.head == head[0] && $0.tf == lite }
        let variant = named ?? Variant(name: "\(lite ? "tf_efficientnet_lite" : "timm-efficientnet")-\(stem[0])-\(blocks.count)-blocks", stem: stem[0],
                                       stages: stages, head: head[0], tf: lite, activation: lite ? .relu6 : .silu)
        guard let model = try? build(variant, classes: classes, input: [3, 224, 224], generator: .structureOnly()) else { return nil }
        return Architecture.Fit(architecture(variant), model, classes: classes, shapes: shapes)
    }

    static func build(_ v: Variant, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var b = try GraphBuilder(inputShape: input)
        let epsilon: Float = v.tf ? 1e-3 : 1e-5
        func conv(_ name: String, _ x: Int, _ out: Int, _ k: Int, stride: Int = 1, groups: Int = 1, bias: Bool = false) throws(ModelError) -> Int {
            let padding: PaddingMode = v.tf ? .same : .explicit(Padding2D(k / 2, k / 2))
            return try b.add(try Conv2d(b.shape(of: x)[0], out, kernel: (k, k), stride: (stride, stride), padding: padding, groups: groups, bias: bias,
                                        generator: generator), name: name, inputs: [x])
        }
        func norm(_ name: String, _ x: Int, activation: Activation.Function?) throws(ModelError) -> Int {
            let h = try b.add(try BatchNorm(b.shape(of: x)[0], epsilon: epsilon), name: name, inputs: [x])
            guard let activation else { return h }
            return try b.add(Activation(activation), name: "\(name).act", inputs: [h])
        }
        var x = try norm("bn1", try conv("conv_stem", b.input, v.stem, 3, stride: 2), activation: v.activation)
        for (s, stage) in v.stages.enumerated() {
            for (j, block) in stage.enumerated() {
                let p = "blocks.\(s).\(j)", stride = j == 0 ? strides[s] : 1
                let input = b.shape(of: x)[0]
                var h = x
                if block.inverted { h = try norm("\(p).bn1", try conv("\(p).conv_pw", h, block.mid, 1), activation: v.activation) }
                h = try conv("\(p).conv_dw", h, block.mid, block.kernel, stride: stride, groups: block.mid)
                h = try norm("\(p).\(block.inverted ? "bn2" : "bn1")", h, activation: v.activation)
                if let squeeze = block.squeeze {
                    var g = try b.add(GlobalPool2d(.average, keepDims: true), name: "\(p).se.pool", inputs: [h])
                    g = try conv("\(p).se.conv_reduce", g, squeeze, 1, bias: true)
                    g = try b.add(Activation(v.activation), name: "\(p).se.act1", inputs: [g])
                    g = try conv("\(p).se.conv_expand", g, block.mid, 1, bias: true)
                    g = try b.add(Activation(.sigmoid), name: "\(p).se.gate", inputs: [g])
                    h = try b.add(Merge(.multiply), name: "\(p).se.scale", inputs: [h, g])
                }
                h = try conv("\(p).\(block.inverted ? "conv_pwl" : "conv_pw")", h, block.out, 1)
                h = try norm("\(p).\(block.inverted ? "bn3" : "bn2")", h, activation: nil)
                x = stride == 1 && input == block.out ? try b.add(Merge(.add), name: "\(p).add", inputs: [h, x]) : h
            }
        }
        x = try norm("bn2", try conv("conv_head", x, v.head, 1), activation: v.activation)
        x = try b.add(GlobalPool2d(.average), name: "global_pool", inputs: [x])
        x = try b.add(try Dropout(0.2), name: "dropout", inputs: [x])
        _ = try b.add(try Dense(v.head, classes, generator: generator), name: "classifier", inputs: [x])
        return b.build(name: v.name, architecture: v.name, normalization: .imagenet)
    }
}
