import GraftTensor
import GraftNN

/// torchvision's ConvNeXt Tiny/Small/Base/Large: `features.0` patchify stem (4×4 conv with bias,
/// LayerNorm over channels), stages of CNBlocks (`features.s.j.block.0` 7×7 depthwise, `.2`
/// LayerNorm, `.3` and `.5` Linear on channels-last, GELU, `layer_scale`, stochastic depth),
/// downsampling (`features.s.0` LayerNorm, `.1` 2×2 conv), `classifier.0` LayerNorm, `classifier.2`.
enum ConvNeXt {
    struct Variant { let name: String, widths: [Int], depths: [Int], stochasticDepth: Float }

    static let variants = [
        Variant(name: "convnext_tiny", widths: [96, 192, 384, 768], depths: [3, 3, 9, 3], stochasticDepth: 0.1),
        Variant(name: "convnext_small", widths: [96, 192, 384, 768], depths: [3, 3, 27, 3], stochasticDepth: 0.4),
        Variant(name: "convnext_base", widths: [128, 256, 512, 1024], depths: [3, 3, 27, 3], stochasticDepth: 0.5),
        Variant(name: "convnext_large", widths: [192, 384, 768, 1536], depths: [3, 3, 27, 3], stochasticDepth: 0.5),
    ]

    static let architectures = variants.map { v in
        Architecture(v.name, "ConvNeXt-\(v.name.dropFirst(9).capitalized), torchvision's layout and parameter names", anchor: "features.1.0.layer_scale") {
            classes, input, _, generator throws(ModelError) in try build(v, classes: classes, input: input, generator: generator)
        }
    }

    static func build(_ v: Variant, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var t = try TorchvisionBuilder(input: input, generator: generator)
        var x = try t.add("features.0.0", t.conv(input[0], v.widths[0], 4, stride: 4, padding: 0, bias: true), t.input)
        x = try t.add("features.0.1", LayerNorm(v.widths[0], epsilon: 1e-6), x)
        let total = v.depths.reduce(0, +)
        var blockIndex = 0, feature = 1
        for (stage, depth) in v.depths.enumerated() {
            let dim = v.widths[stage]
            for j in 0..<depth {
                let p = "features.\(feature).\(j)"
                var h = try t.add("\(p).block.0", t.conv(dim, dim, 7, groups: dim, bias: true), x)
                h = try t.add("\(p).block.1", Permute([1, 2, 0]), h)
                h = try t.add("\(p).block.2", LayerNorm(dim, epsilon: 1e-6, axis: 2), h)
                h = try t.add("\(p).block.3", Dense(dim, 4 * dim, generator: generator), h)
                h = try t.add("\(p).block.4", Activation(.gelu), h)
                h = try t.add("\(p).block.5", Dense(4 * dim, dim, generator: generator), h)
                h = try t.add("\(p).block.6", Permute([2, 0, 1]), h)
                h = try t.add(p, LayerScale(dim), h)
                h = try t.add("\(p).stochastic_depth", DropPath(v.stochasticDepth * Float(blockIndex) / Float(total - 1)), h)
                x = try t.add("\(p).add", Merge(.add), h, x)
                blockIndex += 1
            }
            feature += 1
            if stage + 1 < v.depths.count {
                x = try t.add("features.\(feature).0", LayerNorm(dim, epsilon: 1e-6), x)
                x = try t.add("features.\(feature).1", t.conv(dim, v.widths[stage + 1], 2, stride: 2, padding: 0, bias: true), x)
                feature += 1
            }
        }
        let last = v.widths[v.widths.count - 1]
        x = try t.add("avgpool", GlobalPool2d(.average, keepDims: true), x)
        x = try t.add("classifier.0", LayerNorm(last, epsilon: 1e-6), x)
        x = try t.add("classifier.1", Flatten(), x)
        try t.add("classifier.2", Dense(last, classes, generator: generator), x)
        return t.build(v.name)
    }
}

/// timm's ConvNeXt under timm's key names (`stem.0`, `stages.S.blocks.J.conv_dw`, `.norm`, `.mlp.fc1`,
/// `.mlp.fc2`, `.gamma`, `stages.S.downsample`, `head.norm`, `head.fc`): the same network as
/// torchvision's; the small ones (atto to nano) with `conv_mlp` (the MLP as 1×1 convolutions on
/// [C, H, W], the norm over channels there), the larger with Linear layers on channels-last values.
enum TimmConvNeXt {
    struct Variant { let name: String, widths: [Int], depths: [Int], convMLP: Bool }

    static let variants = [
        Variant(name: "convnext_atto", widths: [40, 80, 160, 320], depths: [2, 2, 6, 2], convMLP: true),
        Variant(name: "convnext_femto", widths: [48, 96, 192, 384], depths: [2, 2, 6, 2], convMLP: true),
        Variant(name: "convnext_pico", widths: [64, 128, 256, 512], depths: [2, 2, 6, 2], convMLP: true),
        Variant(name: "convnext_nano", widths: [80, 160, 320, 640], depths: [2, 2, 8, 2], convMLP: true),
        Variant(name: "timm-convnext_tiny", widths: [96, 192, 384, 768], depths: [3, 3, 9, 3], convMLP: false),
        Variant(name: "timm-convnext_small", widths: [96, 192, 384, 768], depths: [3, 3, 27, 3], convMLP: false),
    ]

    static let architectures = variants.map(architecture)

    static func architecture(_ v: Variant) -> Architecture {
        Architecture(v.name, "ConvNeXt \(v.widths.first ?? 0)…\(v.widths.last ?? 0) wide, \(v.depths.map(String.init).joined(separator: "-")) blocks, timm's layout and parameter names",
                     anchor: "stages.0.blocks.0.gamma", parametric: true) { classes, input, _, generator throws(ModelError) in
            try build(v, classes: classes, input: input, generator: generator)
        }
    }

    /// A timm ConvNeXt's settings read off its tensors: the widths from the stem and the
    /// downsampling convolutions, the depths from the blocks, `conv_mlp` from the MLP's rank, the
    /// classes from the head; a named variant's name when they are one's.
    static func fit(_ shapes: [String: [Int]]) -> Architecture.Fit? {
        guard let stem = shapes["stem.0.weight"], stem.count == 4, let mlp = shapes["stages.0.blocks.0.mlp.fc1.weight"] else { return nil }
        var widths = [stem[0]], depths: [Int] = []
        for stage in 0..<8 {
            if stage > 0 {
                guard let down = shapes["stages.\(stage).downsample.1.weight"], down.count == 4 else { break }
                widths.append(down[0])
            }
            var depth = 0
            while shapes["stages.\(stage).blocks.\(depth).gamma"] != nil { depth += 1 }
            guard depth > 0 else { return nil }
            depths.append(depth)
        }
        guard !depths.isEmpty, widths.count == depths.count, let classes = shapes["head.fc.weight"]?.first, classes >= 2 else { return nil }
        let convMLP = mlp.count == 4
        let named = variants.first { $0.widths == widths && $0.depths == depths && $0.convMLP == convMLP }
        let variant = Variant(name: named?.name ?? "convnext-timm-\(widths[0])x\(depths.map(String.init).joined(separator: "-"))", widths: widths, depths: depths, convMLP: convMLP)
        guard widths.allSatisfy({ (1...4096).contains($0) }), depths.allSatisfy({ $0 <= 64 }),
              let model = try? build(variant, classes: classes, input: [3, 224, 224], generator: .structureOnly()) else { return nil }
        return Architecture.Fit(architecture(variant), model, classes: classes, shapes: shapes)
    }

    static func build(_ v: Variant, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var t = try TorchvisionBuilder(input: input, generator: generator)
        func norm(_ channels: Int) throws(ModelError) -> LayerNorm { try LayerNorm(channels, epsilon: 1e-6) }
        var x = try t.add("stem.0", t.conv(input[0], v.widths[0], 4, stride: 4, padding: 0, bias: true), t.input)
        x = try t.add("stem.1", norm(v.widths[0]), x)
        for (stage, depth) in v.depths.enumerated() {
            let dim = v.widths[stage]
            if stage > 0 {
                x = try t.add("stages.\(stage).downsample.0", norm(v.widths[stage - 1]), x)
                x = try t.add("stages.\(stage).downsample.1", t.conv(v.widths[stage - 1], dim, 2, stride: 2, padding: 0, bias: true), x)
            }
            for j in 0..<depth {
                let p = "stages.\(stage).blocks.\(j)"
                var h = try t.add("\(p).conv_dw", t.conv(dim, dim, 7, groups: dim, bias: true), x)
                if v.convMLP {
                    h = try t.add("\(p).norm", norm(dim), h)
                    h = try t.add("\(p).mlp.fc1", t.conv(dim, 4 * dim, 1, padding: 0, bias: true), h)
                    h = try t.add("\(p).mlp.act", Activation(.gelu), h)
                    h = try t.add("\(p).mlp.fc2", t.conv(4 * dim, dim, 1, padding: 0, bias: true), h)
                } else {
                    h = try t.add("\(p).channels_last", Permute([1, 2, 0]), h)
                    h = try t.add("\(p).norm", LayerNorm(dim, epsilon: 1e-6, axis: 2), h)
                    h = try t.add("\(p).mlp.fc1", Dense(dim, 4 * dim, generator: generator), h)
                    h = try t.add("\(p).mlp.act", Activation(.gelu), h)
                    h = try t.add("\(p).mlp.fc2", Dense(4 * dim, dim, generator: generator), h)
                    h = try t.add("\(p).channels_first", Permute([2, 0, 1]), h)
                }
                h = try t.add(p, LayerScale(dim, initial: 1e-6, name: "gamma"), h)
                x = try t.add("\(p).add", Merge(.add), h, x)
            }
        }
        let last = v.widths[v.widths.count - 1]
        x = try t.add("head.global_pool", GlobalPool2d(.average, keepDims: true), x)
        x = try t.add("head.norm", norm(last), x)
        x = try t.add("head.flatten", Flatten(), x)
        try t.add("head.fc", Dense(last, classes, generator: generator), x)
        return t.build(v.name)
    }
}
