import GraftTensor
import GraftNN

/// torchvision's ShuffleNetV2 ×0.5/1.0/1.5/2.0: `conv1`, max pool, `stage2…4` of blocks that split
/// the channels in two (or, when they downsample, run `branch1` and `branch2` side by side),
/// concatenate and shuffle the two halves, `conv5`, a spatial mean, `fc`.
enum ShuffleNetV2 {
    static let widths: [(String, [Int])] = [
        ("shufflenet_v2_x0_5", [24, 48, 96, 192, 1024]), ("shufflenet_v2_x1_0", [24, 116, 232, 464, 1024]),
        ("shufflenet_v2_x1_5", [24, 176, 352, 704, 1024]), ("shufflenet_v2_x2_0", [24, 244, 488, 976, 2048]),
    ]

    static let architectures = widths.map { name, channels in
        Architecture(name, "ShuffleNetV2 ×\(name.dropFirst(15).replacingOccurrences(of: "_", with: ".")), torchvision's layout and parameter names",
                     anchor: "stage2.0.branch1.0.weight") { classes, input, _, generator throws(ModelError) in
            try build(name, channels, classes: classes, input: input, generator: generator)
        }
    }

    static func build(_ name: String, _ channels: [Int], classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var t = try TorchvisionBuilder(input: input, generator: generator)
        var x = try t.convNormActivation("conv1", t.input, channels[0], kernel: 3, stride: 2, activation: .relu)
        x = try t.add("maxpool", Pool2d(.max, kernel: (3, 3), stride: (2, 2), padding: .explicit(Padding2D(1, 1))), x)
        for (s, repeats) in [4, 8, 4].enumerated() {
            let out = channels[s + 1], half = out / 2
            for j in 0..<repeats {
                let p = "stage\(s + 2).\(j)"
                let inC = t.channels(x)
                var left: Int, right: Int
                if j == 0 {
                    left = try t.add("\(p).branch1.0", t.conv(inC, inC, 3, stride: 2, groups: inC), x)
                    left = try t.add("\(p).branch1.1", t.norm(inC), left)
                    left = try t.add("\(p).branch1.2", t.conv(inC, half, 1), left)
                    left = try t.add("\(p).branch1.3", t.norm(half), left)
                    left = try t.add("\(p).branch1.4", Activation(.relu), left)
                    right = x
                } else {
                    left = try t.add("\(p).split1", Slice(axis: 0, start: 0, end: half), x)
                    right = try t.add("\(p).split2", Slice(axis: 0, start: half, end: out), x)
                }
                let stride = j == 0 ? 2 : 1, branchIn = t.channels(right)
                var h = try t.add("\(p).branch2.0", t.conv(branchIn, half, 1), right)
                h = try t.add("\(p).branch2.1", t.norm(half), h)
                h = try t.add("\(p).branch2.2", Activation(.relu), h)
                h = try t.add("\(p).branch2.3", t.conv(half, half, 3, stride: stride, groups: half), h)
                h = try t.add("\(p).branch2.4", t.norm(half), h)
                h = try t.add("\(p).branch2.5", t.conv(half, half, 1), h)
                h = try t.add("\(p).branch2.6", t.norm(half), h)
                h = try t.add("\(p).branch2.7", Activation(.relu), h)
                var y = try t.add("\(p).cat", Merge(.concatenate), left, h)
                // The channel shuffle: [2, C/2, H, W], swap the first two axes, back to [C, H, W].
                y = try t.add("\(p).shuffle.split", Reshape([2, half, 1, 1], trailing: 2), y)
                y = try t.add("\(p).shuffle.transpose", Permute([1, 0, 2, 3]), y)
                x = try t.add("\(p).shuffle", Reshape([out, 1, 1], trailing: 2), y)
            }
        }
        x = try t.convNormActivation("conv5", x, channels[4], kernel: 1, activation: .relu)
        x = try t.add("mean", GlobalPool2d(.average), x)
        try t.add("fc", Dense(channels[4], classes, generator: generator), x)
        return t.build(name)
    }
}
