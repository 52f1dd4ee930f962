import GraftTensor
import GraftNN

/// torchvision's MNASNet 0.5/0.75/1.0/1.3 (the B1 variant): `layers.0…7` stem (conv, depthwise
/// conv, 1×1), `layers.8…13` stacks of inverted residuals (`layers.s.j.layers.0…7`), `layers.14…16`
/// the 1×1 to 1280, a spatial mean, `classifier.1`. BatchNorm momentum 0.0003.
enum MNASNet {
    static let alphas: [(String, Double)] = [("mnasnet0_5", 0.5), ("mnasnet0_75", 0.75), ("mnasnet1_0", 1.0), ("mnasnet1_3", 1.3)]
    /// (kernel, stride, expansion, repeats) per stack.
    static let stacks = [(3, 2, 3, 3), (5, 2, 3, 3), (5, 2, 6, 3), (3, 1, 6, 2), (5, 2, 6, 4), (3, 1, 6, 1)]

    static let architectures = alphas.map { name, alpha in
        Architecture(name, "MNASNet \(alpha), torchvision's layout and parameter names", anchor: "layers.8.0.layers.0.weight") {
            classes, input, _, generator throws(ModelError) in try build(name, alpha: alpha, classes: classes, input: input, generator: generator)
        }
    }

    static func build(_ name: String, alpha: Double, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var t = try TorchvisionBuilder(input: input, generator: generator, momentum: 1 - 0.9997)
        let depths = [32, 16, 24, 40, 80, 96, 192, 320].map { makeDivisible(Double($0) * alpha) }
        var x = try t.add("layers.0", t.conv(input[0], depths[0], 3, stride: 2), t.input)
        x = try t.add("layers.1", t.norm(depths[0]), x)
        x = try t.add("layers.2", Activation(.relu), x)
        x = try t.add("layers.3", t.conv(depths[0], depths[0], 3, groups: depths[0]), x)
        x = try t.add("layers.4", t.norm(depths[0]), x)
        x = try t.add("layers.5", Activation(.relu), x)
        x = try t.add("layers.6", t.conv(depths[0], depths[1], 1), x)
        x = try t.add("layers.7", t.norm(depths[1]), x)
        for (s, (kernel, firstStride, expansion, repeats)) in stacks.enumerated() {
            for j in 0..<repeats {
                let p = "layers.\(s + 8).\(j).layers"
                let inC = t.channels(x), out = depths[s + 2], mid = inC * expansion, stride = j == 0 ? firstStride : 1
                var h = try t.add("\(p).0", t.conv(inC, mid, 1), x)
                h = try t.add("\(p).1", t.norm(mid), h)
                h = try t.add("\(p).2", Activation(.relu), h)
                h = try t.add("\(p).3", t.conv(mid, mid, kernel, stride: stride, groups: mid), h)
                h = try t.add("\(p).4", t.norm(mid), h)
                h = try t.add("\(p).5", Activation(.relu), h)
                h = try t.add("\(p).6", t.conv(mid, out, 1), h)
                h = try t.add("\(p).7", t.norm(out), h)
                if inC == out && stride == 1 { h = try t.add("layers.\(s + 8).\(j).add", Merge(.add), h, x) }
                x = h
            }
        }
        x = try t.add("layers.14", t.conv(t.channels(x), 1280, 1), x)
        x = try t.add("layers.15", t.norm(1280), x)
        x = try t.add("layers.16", Activation(.relu), x)
        x = try t.add("mean", GlobalPool2d(.average), x)
        x = try t.add("classifier.0", Dropout(0.2), x)
        try t.add("classifier.1", Dense(1280, classes, generator: generator), x)
        return t.build(name)
    }
}
