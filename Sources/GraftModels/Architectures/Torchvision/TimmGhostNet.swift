import GraftTensor
import GraftNN

/// timm's GhostNet (V1, `ghostnet_050/100/130`) under timm's key names: `conv_stem`, `bn1`, then
/// `blocks.S.J` ghost bottlenecks — `ghost1` (a ghost module: `primary_conv` 1×1 convolution,
/// BatchNorm, ReLU; `cheap_operation` 3×3 depthwise convolution of that, BatchNorm, ReLU; both side
/// by side), a strided depthwise `conv_dw`/`bn_dw` where the block strides, squeeze-excite
/// (`se.conv_reduce`, ReLU, `se.conv_expand`, hard sigmoid), `ghost2` (a ghost module without
/// ReLU), plus the input or a `shortcut` (depthwise, BatchNorm, 1×1, BatchNorm) — a last
/// `blocks.S.0` 1×1 `conv`/`bn1`/ReLU, global average pooling, `conv_head` (1×1 with bias), ReLU,
/// `classifier`. Everything is read off the tensors: widths from the convolutions, a block's
/// stride from its `conv_dw` (present only where it strides 2), kernels from its shape.
enum TimmGhostNet {
    struct Block: Equatable {
        let input: Int, mid: Int, out: Int
        /// The strided depthwise kernel (nil: the block keeps the size).
        let strided: Int?
        let squeeze: Int?
        /// The shortcut's depthwise kernel (nil: the input itself).
        let shortcut: Int?
    }

    struct Variant {
        let name: String
        let stem: Int
        let stages: [[Block]]
        let last: Int
        let head: Int
    }

    static func architecture(_ v: Variant) -> Architecture {
        Architecture(v.name, "GhostNet, timm's layout and parameter names", anchor: "blocks.0.0.ghost1.primary_conv.0.weight", parametric: true) {
            classes, input, _, generator throws(ModelError) in try build(v, classes: classes, input: input, generator: generator)
        }
    }

    /// A ghost module's output channels: its primary and cheap halves side by side.
    static func ghostWidth(_ shapes: [String: [Int]], _ prefix: String) -> Int? {
        guard let primary = shapes["\(prefix).primary_conv.0.weight"], primary.count == 4,
              let cheap = shapes["\(prefix).cheap_operation.0.weight"], cheap.count == 4, cheap[1] == 1,
              (1...8192).contains(primary[0]), (1...8192).contains(cheap[0]) else { return nil }
        return primary[0] + cheap[0]
    }

    static func fit(_ shapes: [String: [Int]]) -> Architecture.Fit? {
        guard let stem = shapes["conv_stem.weight"], stem.count == 4, shapes["blocks.0.0.ghost1.primary_conv.0.weight"] != nil,
              let head = shapes["conv_head.weight"], head.count == 4, let classes = shapes["classifier.weight"]?.first, classes >= 2 else { return nil }
        var stages: [[Block]] = []
        var last: Int?
        for s in 0..<32 {
            if let conv = shapes["blocks.\(s).0.conv.weight"], conv.count == 4 { last = conv[0]; break }
            var blocks: [Block] = []
            while blocks.count < 64, let ghost1 = shapes["blocks.\(s).\(blocks.count).ghost1.primary_conv.0.weight"], ghost1.count == 4 {
                let p = "blocks.\(s).\(blocks.count)"
                guard let mid = ghostWidth(shapes, "\(p).ghost1"), let out = ghostWidth(shapes, "\(p).ghost2") else { return nil }
                blocks.append(Block(input: ghost1[1], mid: mid, out: out, strided: shapes["\(p).conv_dw.weight"]?[2],
                                    squeeze: shapes["\(p).se.conv_reduce.weight"]?.first, shortcut: shapes["\(p).shortcut.0.weight"]?[2]))
            }
            guard !blocks.isEmpty else { return nil }
            stages.append(blocks)
        }
        guard let last, !stages.isEmpty else { return nil }
        let blocks = stages.flatMap { $0 }
        guard blocks.allSatisfy({ [$0.input, $0.mid, $0.out].allSatisfy { (1...8192).contains($0) } && [$0.strided ?? 1, $0.shortcut ?? 1].allSatisfy { (1...9).contains($0) } }),
              (1...8192).contains(stem[0]), (1...8192).contains(last), (1...8192).contains(head[0]) else { return nil }
        let name = stem[0] == 16 && last == 960 && blocks.count == 16 ? "ghostnet_100" : "ghostnet-\(stem[0])-\(blocks.count)-blocks"
        let variant = Variant(name: name, stem: stem[0], stages: stages, last: last, head: head[0])
        guard let model = try? build(variant, classes: classes, input: [3, 224, 224], generator: .structureOnly()) else { return nil }
        return Architecture.Fit(architecture(variant), model, classes: classes, shapes: shapes)
    }

    static func build(_ v: Variant, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var b = try GraphBuilder(inputShape: input)
        func conv(_ name: String, _ x: Int, _ out: Int, _ k: Int, stride: Int = 1, depthwise: Bool = false, bias: Bool = false) throws(ModelError) -> Int {
            let c = b.shape(of: x)[0]
            return try b.add(try Conv2d(c, out, kernel: (k, k), stride: (stride, stride), padding: .explicit(Padding2D(k / 2, k / 2)),
                                        groups: depthwise ? c : 1, bias: bias, generator: generator), name: name, inputs: [x])
        }
        func norm(_ name: String, _ x: Int) throws(ModelError) -> Int { try b.add(try BatchNorm(b.shape(of: x)[0]), name: name, inputs: [x]) }
        func relu(_ name: String, _ x: Int) throws(ModelError) -> Int { try b.add(Activation(.relu), name: name, inputs: [x]) }
        /// timm's GhostModule: half the channels by a 1×1 convolution, the other half a 3×3
        /// depthwise convolution of those, side by side.
        func ghost(_ p: String, _ x: Int, _ out: Int, activation: Bool) throws(ModelError) -> Int {
            let half = (out + 1) / 2
            var primary = try norm("\(p).primary_conv.1", try conv("\(p).primary_conv.0", x, half, 1))
            if activation { primary = try relu("\(p).primary_conv.2", primary) }
            var cheap = try norm("\(p).cheap_operation.1", try conv("\(p).cheap_operation.0", primary, half, 3, depthwise: true))
            if activation { cheap = try relu("\(p).cheap_operation.2", cheap) }
            let both = try b.add(Merge(.concatenate), name: "\(p).concat", inputs: [primary, cheap])
            return out == 2 * half ? both : try b.add(try Slice(axis: 0, start: 0, end: out), name: "\(p).slice", inputs: [both])
        }
        var x = try relu("act1", try norm("bn1", try conv("conv_stem", b.input, v.stem, 3, stride: 2)))
        for (s, stage) in v.stages.enumerated() {
            for (j, block) in stage.enumerated() {
                let p = "blocks.\(s).\(j)"
                var h = try ghost("\(p).ghost1", x, block.mid, activation: true)
                if let kernel = block.strided { h = try norm("\(p).bn_dw", try conv("\(p).conv_dw", h, block.mid, kernel, stride: 2, depthwise: true)) }
                if let squeeze = block.squeeze {
                    var g = try b.add(GlobalPool2d(.average, keepDims: true), name: "\(p).se.pool", inputs: [h])
                    g = try relu("\(p).se.act1", try conv("\(p).se.conv_reduce", g, squeeze, 1, bias: true))
                    g = try b.add(Activation(.hardsigmoid), name: "\(p).se.gate", inputs: [try conv("\(p).se.conv_expand", g, block.mid, 1, bias: true)])
                    h = try b.add(Merge(.multiply), name: "\(p).se.scale", inputs: [h, g])
                }
                h = try ghost("\(p).ghost2", h, block.out, activation: false)
                var shortcut = x
                if let kernel = block.shortcut {
                    shortcut = try norm("\(p).shortcut.1", try conv("\(p).shortcut.0", x, block.input, kernel, stride: block.strided == nil ? 1 : 2, depthwise: true))
                    shortcut = try norm("\(p).shortcut.3", try conv("\(p).shortcut.2", shortcut, block.out, 1))
                }
                x = try b.add(Merge(.add), name: "\(p).add", inputs: [h, shortcut])
            }
        }
        let s = v.stages.count
        x = try relu("blocks.\(s).0.act1", try norm("blocks.\(s).0.bn1", try conv("blocks.\(s).0.conv", x, v.last, 1)))
        x = try b.add(GlobalPool2d(.average, keepDims: true), name: "global_pool", inputs: [x])
        x = try relu("act2", try conv("conv_head", x, v.head, 1, bias: true))
        x = try b.add(Flatten(), name: "flatten", inputs: [x])
        x = try b.add(try Dropout(0.2), name: "dropout", inputs: [x])
        _ = try b.add(try Dense(v.head, classes, generator: generator), name: "classifier", inputs: [x])
        return b.build(name: v.name, architecture: v.name, normalization: .imagenet)
    }
}
