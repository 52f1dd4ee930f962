import GraftTensor
import GraftNN

/// torchvision's ResNet family: ResNet-18/34 (basic blocks), ResNet-50/101/152 (bottlenecks,
/// stride on the 3×3 as in torchvision's v1.5), ResNeXt (grouped 3×3) and Wide ResNet (wider
/// bottlenecks). Node names are torchvision's module paths (`conv1`, `layer1.0.conv1`,
/// `layer2.0.downsample.0`, `fc`), so the parameter keys are a torchvision state dict's. ReLUs and
/// the residual sums are nodes of their own (`layer1.0.relu1`, `layer1.0.add`). timm's ResNet-D
/// (`resnet50d`, …: Bag of Tricks' deep stem `conv1.0/.3/.6` and average-pooled shortcuts
/// `downsample.1/.2`) under timm's key names; timm's plain ResNets have torchvision's keys.
enum ResNet {
    struct Variant {
        let name: String, blocks: [Int], bottleneck: Bool, groups: Int, widthPerGroup: Int
        /// timm's ResNet-D: three 3×3 convolutions (32, 32, 64 wide) for the 7×7 stem, and shortcuts
        /// that average-pool (2×2, stride 2, ceil mode, padding not counted) before a stride-1 1×1 convolution.
        var resnetD = false
    }

    static let variants = [
        Variant(name: "resnet18", blocks: [2, 2, 2, 2], bottleneck: false, groups: 1, widthPerGroup: 64),
        Variant(name: "resnet34", blocks: [3, 4, 6, 3], bottleneck: false, groups: 1, widthPerGroup: 64),
        Variant(name: "resnet50", blocks: [3, 4, 6, 3], bottleneck: true, groups: 1, widthPerGroup: 64),
        Variant(name: "resnet101", blocks: [3, 4, 23, 3], bottleneck: true, groups: 1, widthPerGroup: 64),
        Variant(name: "resnet152", blocks: [3, 8, 36, 3], bottleneck: true, groups: 1, widthPerGroup: 64),
        Variant(name: "resnext50_32x4d", blocks: [3, 4, 6, 3], bottleneck: true, groups: 32, widthPerGroup: 4),
        Variant(name: "resnext101_32x8d", blocks: [3, 4, 23, 3], bottleneck: true, groups: 32, widthPerGroup: 8),
        Variant(name: "resnext101_64x4d", blocks: [3, 4, 23, 3], bottleneck: true, groups: 64, widthPerGroup: 4),
        Variant(name: "wide_resnet50_2", blocks: [3, 4, 6, 3], bottleneck: true, groups: 1, widthPerGroup: 128),
        Variant(name: "wide_resnet101_2", blocks: [3, 4, 23, 3], bottleneck: true, groups: 1, widthPerGroup: 128),
        Variant(name: "resnet18d", blocks: [2, 2, 2, 2], bottleneck: false, groups: 1, widthPerGroup: 64, resnetD: true),
        Variant(name: "resnet34d", blocks: [3, 4, 6, 3], bottleneck: false, groups: 1, widthPerGroup: 64, resnetD: true),
        Variant(name: "resnet50d", blocks: [3, 4, 6, 3], bottleneck: true, groups: 1, widthPerGroup: 64, resnetD: true),
        Variant(name: "resnet101d", blocks: [3, 4, 23, 3], bottleneck: true, groups: 1, widthPerGroup: 64, resnetD: true),
    ]

    static let architectures: [Architecture] = variants.map { variant in
        let kind = variant.bottleneck ? (variant.groups > 1 ? "ResNeXt" : variant.widthPerGroup > 64 ? "Wide ResNet" : "ResNet") : "ResNet"
        let depth = variant.blocks.reduce(0, +) * (variant.bottleneck ? 3 : 2) + 2
        return Architecture(variant.name, "\(kind)-\(depth)\(variant.resnetD ? "-D" : "")\(variant.groups > 1 ? " \(variant.groups)×\(variant.widthPerGroup)d" : ""), \(variant.resnetD ? "timm's" : "torchvision's") layout and parameter names",
                            anchor: variant.resnetD ? "conv1.6.weight" : "layer1.0.conv1.weight", parametric: variant.resnetD) { classes, input, _, generator throws(ModelError) in try build(variant, classes: classes, input: input, generator: generator)
        }
    }
    static let named = Dictionary(uniqueKeysWithValues: architectures.map { ($0.rawValue, $0) })

    /// A timm ResNet-D's blocks read off its tensors (any depth per stage, basic or bottleneck),
    /// named when they are a named variant's.
    static func fitD(_ shapes: [String: [Int]]) -> Architecture.Fit? {
        guard shapes["conv1.6.weight"] != nil, let classes = shapes["fc.weight"]?.first, classes >= 2 else { return nil }
        var blocks: [Int] = []
        for stage in 1...4 {
            var count = 0
            while shapes["layer\(stage).\(count).conv1.weight"] != nil, count < 64 { count += 1 }
            blocks.append(count)
        }
        let bottleneck = shapes["layer1.0.conv3.weight"] != nil
        guard blocks.allSatisfy({ $0 > 0 }) else { return nil }
        let known = variants.first { $0.resnetD && $0.blocks == blocks && $0.bottleneck == bottleneck }
        let variant = known ?? Variant(name: "resnet-d-\(bottleneck ? "bottleneck" : "basic")-\(blocks.map(String.init).joined(separator: "-"))", blocks: blocks,
                                       bottleneck: bottleneck, groups: 1, widthPerGroup: 64, resnetD: true)
        guard let model = try? build(variant, classes: classes, input: [3, 224, 224], generator: .structureOnly()) else { return nil }
        let architecture = Architecture(variant.name, "ResNet-D, timm's layout and parameter names", anchor: "conv1.6.weight", parametric: true) {
            classes, input, _, generator throws(ModelError) in try build(variant, classes: classes, input: input, generator: generator)
        }
        return Architecture.Fit(architecture, model, classes: classes, shapes: shapes)
    }

    static func build(_ variant: Variant, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var b = try GraphBuilder(inputShape: input)
        func conv(_ i: Int, _ o: Int, _ k: Int, stride: Int = 1, groups: Int = 1) throws(ModelError) -> Conv2d {
            try Conv2d(i, o, kernel: (k, k), stride: (stride, stride), padding: .explicit(Padding2D(k / 2, k / 2)), groups: groups, bias: false, generator: generator)
        }
        var x: Int
        if variant.resnetD {
            x = try b.add("conv1.0", conv(input[0], 32, 3, stride: 2))
            x = try b.add("conv1.1", BatchNorm(32), x)
            x = try b.add("conv1.2", Activation(.relu), x)
            x = try b.add("conv1.3", conv(32, 32, 3), x)
            x = try b.add("conv1.4", BatchNorm(32), x)
            x = try b.add("conv1.5", Activation(.relu), x)
            x = try b.add("conv1.6", conv(32, 64, 3), x)
        } else {
            x = try b.add("conv1", Conv2d(input[0], 64, kernel: (7, 7), stride: (2, 2), padding: .explicit(Padding2D(3, 3)), bias: false, generator: generator))
        }
        x = try b.add("bn1", BatchNorm(64), x)
        x = try b.add("relu", Activation(.relu), x)
        x = try b.add("maxpool", Pool2d(.max, kernel: (3, 3), stride: (2, 2), padding: .explicit(Padding2D(1, 1))), x)
        var channels = 64
        let expansion = variant.bottleneck ? 4 : 1
        for (stage, count) in variant.blocks.enumerated() {
            let planes = 64 << stage
            for index in 0..<count {
                let stride = index == 0 && stage > 0 ? 2 : 1
                let p = "layer\(stage + 1).\(index)"
                let out = planes * expansion
                var h: Int
                if variant.bottleneck {
                    let width = planes * variant.widthPerGroup / 64 * variant.groups
                    h = try b.add("\(p).conv1", conv(channels, width, 1), x)
                    h = try b.add("\(p).bn1", BatchNorm(width), h)
                    h = try b.add("\(p).relu1", Activation(.relu), h)
                    h = try b.add("\(p).conv2", conv(width, width, 3, stride: stride, groups: variant.groups), h)
                    h = try b.add("\(p).bn2", BatchNorm(width), h)
                    h = try b.add("\(p).relu2", Activation(.relu), h)
                    h = try b.add("\(p).conv3", conv(width, out, 1), h)
                    h = try b.add("\(p).bn3", BatchNorm(out), h)
                } else {
                    h = try b.add("\(p).conv1", conv(channels, planes, 3, stride: stride), x)
                    h = try b.add("\(p).bn1", BatchNorm(planes), h)
                    h = try b.add("\(p).relu1", Activation(.relu), h)
                    h = try b.add("\(p).conv2", conv(planes, planes, 3), h)
                    h = try b.add("\(p).bn2", BatchNorm(planes), h)
                }
                var shortcut = x
                if (stride != 1 || channels != out) && variant.resnetD {
                    if stride != 1 {
                        shortcut = try b.add("\(p).downsample.0", Pool2d(.average, kernel: (2, 2), stride: (2, 2), countPadding: false, ceilMode: true), x)
                    }
                    shortcut = try b.add("\(p).downsample.1", conv(channels, out, 1), shortcut)
                    shortcut = try b.add("\(p).downsample.2", BatchNorm(out), shortcut)
                } else if stride != 1 || channels != out {
                    shortcut = try b.add("\(p).downsample.0", conv(channels, out, 1, stride: stride), x)
                    shortcut = try b.add("\(p).downsample.1", BatchNorm(out), shortcut)
                }
                h = try b.add("\(p).add", Merge(.add), h, shortcut)
                x = try b.add("\(p).relu\(variant.bottleneck ? 3 : 2)", Activation(.relu), h)
                channels = out
            }
        }
        x = try b.add("avgpool", GlobalPool2d(.average), x)
        try b.add("fc", Dense(channels, classes, generator: generator), x)
        return b.build(name: variant.name, architecture: variant.name, normalization: .imagenet)
    }
}
