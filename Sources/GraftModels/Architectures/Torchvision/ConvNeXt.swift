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
