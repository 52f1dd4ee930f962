import GraftTensor
import GraftNN

/// torchvision's ResNet family: ResNet-18/34 (basic blocks), ResNet-50/101/152 (bottlenecks,
/// stride on the 3×3 as in torchvision's v1.5), ResNeXt (grouped 3×3) and Wide ResNet (wider
/// bottlenecks). Node names are torchvision's module paths (`conv1`, `layer1.0.conv1`,
/// `layer2.0.downsample.0`, `fc`), so the parameter keys are a torchvision state dict's. ReLUs and
/// the residual sums are nodes of their own (`layer1.0.relu1`, `layer1.0.add`).
enum ResNet {
    struct Variant {
        let name: String, blocks: [Int], bottleneck: Bool, groups: Int, widthPerGroup: Int
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
    ]

    static let architectures: [Architecture] = variants.map { variant in
        let kind = variant.bottleneck ? (variant.groups > 1 ? "ResNeXt" : variant.widthPerGroup > 64 ? "Wide ResNet" : "ResNet") : "ResNet"
        let depth = variant.blocks.reduce(0, +) * (variant.bottleneck ? 3 : 2) + 2
        return Architecture(variant.name, "\(kind)-\(depth)\(variant.groups > 1 ? " \(variant.groups)×\(variant.widthPerGroup)d" : ""), torchvision's layout and parameter names",
                            anchor: "layer1.0.conv1.weight") { classes, input, _, generator throws(ModelError) in try build(variant, classes: classes, input: input, generator: generator)
        }
    }
    static let named = Dictionary(uniqueKeysWithValues: architectures.map { ($0.rawValue, $0) })

    static func build(_ variant: Variant, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var b = try GraphBuilder(inputShape: input)
        func conv(_ i: Int, _ o: Int, _ k: Int, stride: Int = 1, groups: Int = 1) throws(ModelError) -> Conv2d {
            try Conv2d(i, o, kernel: (k, k), stride: (stride, stride), padding: .explicit(Padding2D(k / 2, k / 2)), groups: groups, bias: false, generator: generator)
        }
        var x = try b.add("conv1", Conv2d(input[0], 64, kernel: (7, 7), stride: (2, 2), padding: .explicit(Padding2D(3, 3)), bias: false, generator: generator))
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
                if stride != 1 || channels != out {
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
