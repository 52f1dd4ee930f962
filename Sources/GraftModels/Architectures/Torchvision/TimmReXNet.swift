import GraftTensor
import GraftNN

/// timm's ReXNet (`rexnet_100/130/150/200/300`) under timm's key names: `stem` (3×3 stride-2
/// convolution, BatchNorm, SiLU), sixteen linear bottlenecks `features.I` — `conv_exp` (1×1, SiLU;
/// absent at expansion 1), `conv_dw` (3×3 depthwise, no activation), squeeze-excite with a
/// BatchNorm (`se.fc1`, `se.bn`, ReLU, `se.fc2`, sigmoid), ReLU6, `conv_pwl` (1×1, no activation),
/// and where a block keeps the size and does not narrow, the input added to its first channels
/// (the rest passed through) — a last 1×1 `features.16` with SiLU, average pooling, `head.fc`.
/// Widths and the squeeze-excite sizes are read off the tensors; the strides are ReXNet's
/// (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1: the depth multiplier is 1 in every variant).
enum TimmReXNet {
    struct Block: Equatable { let input: Int, mid: Int, out: Int, expanded: Bool, squeeze: Int? }

    struct Variant {
        let name: String
        let stem: Int
        let blocks: [Block]
        let head: Int
    }

    static let strides = [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1]

    static func architecture(_ v: Variant) -> Architecture {
        Architecture(v.name, "ReXNet, timm's layout and parameter names", anchor: "features.0.conv_dw.conv.weight", parametric: true) {
            classes, input, _, generator throws(ModelError) in try build(v, classes: classes, input: input, generator: generator)
        }
    }

    static func fit(_ shapes: [String: [Int]]) -> Architecture.Fit? {
        guard let stem = shapes["stem.conv.weight"], stem.count == 4, shapes["features.0.conv_dw.conv.weight"] != nil,
              let head = shapes["features.\(strides.count).conv.weight"], head.count == 4,
              let classes = shapes["head.fc.weight"]?.first, classes >= 2 else { return nil }
        var blocks: [Block] = []
        for i in strides.indices {
            let p = "features.\(i)"
            guard let dw = shapes["\(p).conv_dw.conv.weight"], dw.count == 4, dw[1] == 1, dw[2] == 3,
                  let pwl = shapes["\(p).conv_pwl.conv.weight"], pwl.count == 4 else { return nil }
            let expand = shapes["\(p).conv_exp.conv.weight"]
            blocks.append(Block(input: expand?[1] ?? dw[0], mid: dw[0], out: pwl[0], expanded: expand != nil, squeeze: shapes["\(p).se.fc1.weight"]?.first))
        }
        guard shapes["features.\(strides.count + 1).conv.weight"] == nil,
              blocks.allSatisfy({ [$0.input, $0.mid, $0.out, $0.squeeze ?? 1].allSatisfy { (1...8192).contains($0) } }),
              (1...8192).contains(stem[0]), (1...8192).contains(head[0]) else { return nil }
        // The width multiplier shows in the stem and the last convolution together (below 1 the stem stays 32).
        let names = ["32-1280": "rexnet_100", "42-1664": "rexnet_130", "48-1920": "rexnet_150", "64-2560": "rexnet_200", "96-3840": "rexnet_300"]
        let size = "\(stem[0])-\(head[0])"
        let variant = Variant(name: names[size] ?? "rexnet-\(size)", stem: stem[0], blocks: blocks, head: head[0])
        guard let model = try? build(variant, classes: classes, input: [3, 224, 224], generator: .structureOnly()) else { return nil }
        return Architecture.Fit(architecture(variant), model, classes: classes, shapes: shapes)
    }

    static func build(_ v: Variant, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var b = try GraphBuilder(inputShape: input)
        /// timm's ConvNormAct: `prefix.conv`, `prefix.bn` and its activation.
        func convNorm(_ p: String, _ x: Int, _ out: Int, _ k: Int, stride: Int = 1, depthwise: Bool = false, activation: Activation.Function?) throws(ModelError) -> Int {
            let c = b.shape(of: x)[0]
            var h = try b.add(try Conv2d(c, out, kernel: (k, k), stride: (stride, stride), padding: .explicit(Padding2D(k / 2, k / 2)),
                                         groups: depthwise ? c : 1, bias: false, generator: generator), name: "\(p).conv", inputs: [x])
            h = try b.add(try BatchNorm(out), name: "\(p).bn", inputs: [h])
            guard let activation else { return h }
            return try b.add(Activation(activation), name: "\(p).bn.act", inputs: [h])
        }
        var x = try convNorm("stem", b.input, v.stem, 3, stride: 2, activation: .silu)
        for (i, block) in v.blocks.enumerated() {
            let p = "features.\(i)"
            var h = block.expanded ? try convNorm("\(p).conv_exp", x, block.mid, 1, activation: .silu) : x
            h = try convNorm("\(p).conv_dw", h, block.mid, 3, stride: strides[i], depthwise: true, activation: nil)
            if let squeeze = block.squeeze {
                var g = try b.add(GlobalPool2d(.average, keepDims: true), name: "\(p).se.pool", inputs: [h])
                g = try b.add(try Conv2d(block.mid, squeeze, kernel: (1, 1), generator: generator), name: "\(p).se.fc1", inputs: [g])
                g = try b.add(Activation(.relu), name: "\(p).se.act", inputs: [try b.add(try BatchNorm(squeeze), name: "\(p).se.bn", inputs: [g])])
                g = try b.add(try Conv2d(squeeze, block.mid, kernel: (1, 1), generator: generator), name: "\(p).se.fc2", inputs: [g])
                g = try b.add(Activation(.sigmoid), name: "\(p).se.gate", inputs: [g])
                h = try b.add(Merge(.multiply), name: "\(p).se.scale", inputs: [h, g])
            }
            h = try b.add(Activation(.relu6), name: "\(p).act_dw", inputs: [h])
            h = try convNorm("\(p).conv_pwl", h, block.out, 1, activation: nil)
            if strides[i] == 1 && block.input <= block.out {
                // The input added to the first channels; the new ones passed through.
                if block.input == block.out {
                    h = try b.add(Merge(.add), name: "\(p).add", inputs: [h, x])
                } else {
                    let first = try b.add(try Slice(axis: 0, start: 0, end: block.input), name: "\(p).first", inputs: [h])
                    let rest = try b.add(try Slice(axis: 0, start: block.input, end: block.out), name: "\(p).rest", inputs: [h])
                    let sum = try b.add(Merge(.add), name: "\(p).add", inputs: [first, x])
                    h = try b.add(Merge(.concatenate), name: "\(p).concat", inputs: [sum, rest])
                }
            }
            x = h
        }
        x = try convNorm("features.\(v.blocks.count)", x, v.head, 1, activation: .silu)
        x = try b.add(GlobalPool2d(.average), name: "head.global_pool", inputs: [x])
        x = try b.add(try Dropout(0.2), name: "head.drop", inputs: [x])
        _ = try b.add(try Dense(v.head, classes, generator: generator), name: "head.fc", inputs: [x])
        return b.build(name: v.name, architecture: v.name, normalization: .imagenet)
    }
}
