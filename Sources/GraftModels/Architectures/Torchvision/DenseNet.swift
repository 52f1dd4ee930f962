import GraftTensor
import GraftNN

/// torchvision's DenseNet-121/161/169/201: `features.conv0`…`pool0`, dense blocks
/// (`features.denseblock{b}.denselayer{l}`: norm1, relu1, 1×1 conv1, norm2, relu2, 3×3 conv2, each
/// layer reading the concatenation of everything before it), transitions (norm, relu, 1×1 conv
/// halving the channels, 2×2 average pool), `features.norm5`, ReLU, pooling, `classifier`.
enum DenseNet {
    struct Variant { let name: String, growth: Int, blocks: [Int], initial: Int }

    static let variants = [
        Variant(name: "densenet121", growth: 32, blocks: [6, 12, 24, 16], initial: 64),
        Variant(name: "densenet161", growth: 48, blocks: [6, 12, 36, 24], initial: 96),
        Variant(name: "densenet169", growth: 32, blocks: [6, 12, 32, 32], initial: 64),
        Variant(name: "densenet201", growth: 32, blocks: [6, 12, 48, 32], initial: 64),
    ]

    static let architectures = variants.map { v in
        Architecture(v.name, "DenseNet-\(v.name.dropFirst(8)), torchvision's layout and parameter names", anchor: "features.conv0.weight") {
            classes, input, _, generator throws(ModelError) in try build(v, classes: classes, input: input, generator: generator)
        }
    }

    static func build(_ v: Variant, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var t = try TorchvisionBuilder(input: input, generator: generator)
        var x = try t.add("features.conv0", t.conv(input[0], v.initial, 7, stride: 2, padding: 3), t.input)
        x = try t.add("features.norm0", t.norm(v.initial), x)
        x = try t.add("features.relu0", Activation(.relu), x)
        x = try t.add("features.pool0", Pool2d(.max, kernel: (3, 3), stride: (2, 2), padding: .explicit(Padding2D(1, 1))), x)
        for (b, layers) in v.blocks.enumerated() {
            var features = [x]
            for l in 1...layers {
                let p = "features.denseblock\(b + 1).denselayer\(l)"
                let joined = features.count == 1 ? features[0] : try t.b.add(Merge(.concatenate), name: "\(p).cat", inputs: features)
                var h = try t.add("\(p).norm1", t.norm(t.channels(joined)), joined)
                h = try t.add("\(p).relu1", Activation(.relu), h)
                h = try t.add("\(p).conv1", t.conv(t.channels(h), 4 * v.growth, 1), h)
                h = try t.add("\(p).norm2", t.norm(4 * v.growth), h)
                h = try t.add("\(p).relu2", Activation(.relu), h)
                h = try t.add("\(p).conv2", t.conv(4 * v.growth, v.growth, 3), h)
                features.append(h)
            }
            x = try t.b.add(Merge(.concatenate), name: "features.denseblock\(b + 1).cat", inputs: features)
            if b + 1 < v.blocks.count {
                let p = "features.transition\(b + 1)"
                let c = t.channels(x)
                x = try t.add("\(p).norm", t.norm(c), x)
                x = try t.add("\(p).relu", Activation(.relu), x)
                x = try t.add("\(p).conv", t.conv(c, c / 2, 1), x)
                x = try t.add("\(p).pool", Pool2d(.average, kernel: (2, 2)), x)
            }
        }
        x = try t.add("features.norm5", t.norm(t.channels(x)), x)
        x = try t.add("relu", Activation(.relu), x)
        x = try t.add("avgpool", GlobalPool2d(.average), x)
        try t.add("classifier", Dense(t.channels(x), classes, generator: generator), x)
        return t.build(v.name)
    }
}
