import GraftTensor

/// ResNet-18/34 with basic blocks, in torchvision's layout: node names are torchvision's module
/// paths (`conv1`, `layer1.0.conv1`, `layer2.0.downsample.0`, `fc`), so the parameter keys are a
/// torchvision state dict's. ReLUs and the residual sums are nodes of their own (`layer1.0.relu1`,
/// `layer1.0.add`, `layer1.0.relu2`).
enum ResNet {
    static func build(blocks: [Int], classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var b = try GraphBuilder(inputShape: input)
        var x = try b.add("conv1", Conv2d(input[0], 64, kernel: (7, 7), stride: (2, 2), padding: .explicit(Padding2D(3, 3)), bias: false, generator: generator))
        x = try b.add("bn1", BatchNorm(64), x)
        x = try b.add("relu", Activation(.relu), x)
        x = try b.add("maxpool", Pool2d(.max, kernel: (3, 3), stride: (2, 2), padding: .explicit(Padding2D(1, 1))), x)
        var channels = 64
        for (stage, count) in blocks.enumerated() {
            let width = 64 << stage
            for index in 0..<count {
                let stride = index == 0 && stage > 0 ? 2 : 1
                let p = "layer\(stage + 1).\(index)"
                let identity = x
                var h = try b.add("\(p).conv1", Conv2d(channels, width, kernel: (3, 3), stride: (stride, stride), padding: .explicit(Padding2D(1, 1)), bias: false, generator: generator), x)
                h = try b.add("\(p).bn1", BatchNorm(width), h)
                h = try b.add("\(p).relu1", Activation(.relu), h)
                h = try b.add("\(p).conv2", Conv2d(width, width, kernel: (3, 3), padding: .explicit(Padding2D(1, 1)), bias: false, generator: generator), h)
                h = try b.add("\(p).bn2", BatchNorm(width), h)
                var shortcut = identity
                if stride != 1 || channels != width {
                    shortcut = try b.add("\(p).downsample.0", Conv2d(channels, width, kernel: (1, 1), stride: (stride, stride), bias: false, generator: generator), identity)
                    shortcut = try b.add("\(p).downsample.1", BatchNorm(width), shortcut)
                }
                h = try b.add("\(p).add", Merge(.add), h, shortcut)
                x = try b.add("\(p).relu2", Activation(.relu), h)
                channels = width
            }
        }
        x = try b.add("avgpool", GlobalPool2d(.average), x)
        try b.add("fc", Dense(channels, classes, generator: generator), x)
        return b.build(name: "resnet", architecture: blocks == [2, 2, 2, 2] ? "resnet18" : "resnet34", normalization: .imagenet)
    }
}
