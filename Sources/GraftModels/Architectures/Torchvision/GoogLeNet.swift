import GraftTensor
import GraftNN

/// torchvision's GoogLeNet (Inception v1) as `googlenet(weights=None)` builds it: BasicConv2d units
/// (`conv`, `bn` with eps 0.001, ReLU), max pools in ceil mode, inception blocks of four branches
/// (`branch1`, `branch2.0/1`, `branch3.0/1`, `branch4.1` after a 3×3 max pool) concatenated,
/// `fc`. The auxiliary classifiers (`aux1`, `aux2`, training only) are left out; a checkpoint's are
/// ignored. torchvision's pretrained weights expect `transform_input=True` (inputs re-normalized
/// inside the model), which a state dict does not record: this is the `transform_input=False` model.
enum GoogLeNet {
    /// (1×1, 3×3 reduce, 3×3, 5×5 reduce, 5×5, pool projection) per inception block, `nil` for a max pool.
    static let blocks: [(String, [Int])?] = [
        ("inception3a", [64, 96, 128, 16, 32, 32]), ("inception3b", [128, 128, 192, 32, 96, 64]), nil,
        ("inception4a", [192, 96, 208, 16, 48, 64]), ("inception4b", [160, 112, 224, 24, 64, 64]), ("inception4c", [128, 128, 256, 24, 64, 64]),
        ("inception4d", [112, 144, 288, 32, 64, 64]), ("inception4e", [256, 160, 320, 32, 128, 128]), nil,
        ("inception5a", [256, 160, 320, 32, 128, 128]), ("inception5b", [384, 192, 384, 48, 128, 128]),
    ]

    static let architectures = [
        Architecture("googlenet", "GoogLeNet (Inception v1, transform_input off), torchvision's layout and parameter names", anchor: "inception3a.branch1.conv.weight") {
            classes, input, _, generator throws(ModelError) in try build(classes: classes, input: input, generator: generator)
        },
    ]

    /// A BasicConv2d: `prefix.conv`, `prefix.bn`, and its ReLU.
    static func basic(_ t: inout TorchvisionBuilder, _ prefix: String, _ x: Int, _ out: Int, _ kernel: Int, stride: Int = 1, padding: Int = 0) throws(ModelError) -> Int {
        var h = try t.add("\(prefix).conv", t.conv(t.channels(x), out, kernel, stride: stride, padding: padding), x)
        h = try t.add("\(prefix).bn", t.norm(out), h)
        return try t.add("\(prefix).relu", Activation(.relu), h)
    }

    static func build(classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var t = try TorchvisionBuilder(input: input, generator: generator, epsilon: 1e-3)
        func maxPool(_ name: String, _ x: Int, _ k: Int = 3) throws(ModelError) -> Int {
            try t.add(name, Pool2d(.max, kernel: (k, k), stride: (2, 2), ceilMode: true), x)
        }
        var x = try basic(&t, "conv1", t.input, 64, 7, stride: 2, padding: 3)
        x = try maxPool("maxpool1", x)
        x = try basic(&t, "conv2", x, 64, 1)
        x = try basic(&t, "conv3", x, 192, 3, padding: 1)
        x = try maxPool("maxpool2", x)
        var pools = 3
        for block in blocks {
            guard let (name, c) = block else {
                x = try maxPool("maxpool\(pools)", x, pools == 4 ? 2 : 3)
                pools += 1
                continue
            }
            let b1 = try basic(&t, "\(name).branch1", x, c[0], 1)
            let b2 = try basic(&t, "\(name).branch2.1", try basic(&t, "\(name).branch2.0", x, c[1], 1), c[2], 3, padding: 1)
            let b3 = try basic(&t, "\(name).branch3.1", try basic(&t, "\(name).branch3.0", x, c[3], 1), c[4], 3, padding: 1)
            let pooled = try t.add("\(name).branch4.0", Pool2d(.max, kernel: (3, 3), stride: (1, 1), padding: .explicit(Padding2D(1, 1)), ceilMode: true), x)
            let b4 = try basic(&t, "\(name).branch4.1", pooled, c[5], 1)
            x = try t.b.add(Merge(.concatenate), name: "\(name).cat", inputs: [b1, b2, b3, b4])
        }
        x = try t.add("avgpool", GlobalPool2d(.average), x)
        x = try t.add("dropout", Dropout(0.2), x)
        try t.add("fc", Dense(1024, classes, generator: generator), x)
        return t.build("googlenet")
    }
}
