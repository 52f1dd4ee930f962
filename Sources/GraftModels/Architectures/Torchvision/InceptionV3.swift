import GraftTensor
import GraftNN

/// torchvision's Inception v3 as `inception_v3(weights=None, aux_logits=False)` builds it:
/// BasicConv2d units (`conv`, `bn` eps 0.001, ReLU), `Conv2d_1a_3x3`…`Conv2d_4a_3x3`, the
/// `Mixed_5b`…`Mixed_7c` blocks (InceptionA to E, with their 1×7/7×1 and 1×3/3×1 factorizations),
/// `fc`. A checkpoint's `AuxLogits` (training only) are ignored; like GoogLeNet, torchvision's
/// pretrained weights expect `transform_input=True`, which a state dict does not record.
enum InceptionV3 {
    static let architectures = [
        Architecture("inception_v3", "Inception v3 (transform_input off), torchvision's layout and parameter names", anchor: "Mixed_5b.branch1x1.conv.weight") {
            classes, input, _, generator throws(ModelError) in try build(classes: classes, input: input, generator: generator)
        },
    ]

    struct Blocks {
        var t: TorchvisionBuilder

        /// A BasicConv2d with a kh×kw kernel and (ph, pw) padding.
        mutating func basic(_ prefix: String, _ x: Int, _ out: Int, _ k: (Int, Int), stride: Int = 1, padding: (Int, Int) = (0, 0)) throws(ModelError) -> Int {
            let conv = try Conv2d(t.channels(x), out, kernel: k, stride: (stride, stride), padding: .explicit(Padding2D(padding.0, padding.1)),
                                  bias: false, generator: t.generator)
            var h = try t.add("\(prefix).conv", conv, x)
            h = try t.add("\(prefix).bn", t.norm(out), h)
            return try t.add("\(prefix).relu", Activation(.relu), h)
        }

        mutating func square(_ prefix: String, _ x: Int, _ out: Int, _ k: Int, stride: Int = 1, padding: Int = 0) throws(ModelError) -> Int {
            try basic(prefix, x, out, (k, k), stride: stride, padding: (padding, padding))
        }

        mutating func averagePool(_ name: String, _ x: Int) throws(ModelError) -> Int {
            try t.add(name, Pool2d(.average, kernel: (3, 3), stride: (1, 1), padding: .explicit(Padding2D(1, 1)), countPadding: true), x)
        }

        mutating func maxPool(_ name: String, _ x: Int) throws(ModelError) -> Int {
            try t.add(name, Pool2d(.max, kernel: (3, 3), stride: (2, 2)), x)
        }

        mutating func cat(_ name: String, _ parts: [Int]) throws(ModelError) -> Int {
            try t.b.add(Merge(.concatenate), name: name, inputs: parts)
        }

        mutating func a(_ p: String, _ x: Int, pool: Int) throws(ModelError) -> Int {
            let b1 = try square("\(p).branch1x1", x, 64, 1)
            let b5 = try square("\(p).branch5x5_2", try square("\(p).branch5x5_1", x, 48, 1), 64, 5, padding: 2)
            var b3 = try square("\(p).branch3x3dbl_1", x, 64, 1)
            b3 = try square("\(p).branch3x3dbl_3", try square("\(p).branch3x3dbl_2", b3, 96, 3, padding: 1), 96, 3, padding: 1)
            let bp = try square("\(p).branch_pool", try averagePool("\(p).avg_pool", x), pool, 1)
            return try cat("\(p).cat", [b1, b5, b3, bp])
        }

        mutating func b(_ p: String, _ x: Int) throws(ModelError) -> Int {
            let b3 = try square("\(p).branch3x3", x, 384, 3, stride: 2)
            var d = try square("\(p).branch3x3dbl_1", x, 64, 1)
            d = try square("\(p).branch3x3dbl_3", try square("\(p).branch3x3dbl_2", d, 96, 3, padding: 1), 96, 3, stride: 2)
            return try cat("\(p).cat", [b3, d, try maxPool("\(p).max_pool", x)])
        }

        mutating func c(_ p: String, _ x: Int, c7: Int) throws(ModelError) -> Int {
            let b1 = try square("\(p).branch1x1", x, 192, 1)
            var b7 = try square("\(p).branch7x7_1", x, c7, 1)
            b7 = try basic("\(p).branch7x7_2", b7, c7, (1, 7), padding: (0, 3))
            b7 = try basic("\(p).branch7x7_3", b7, 192, (7, 1), padding: (3, 0))
            var d = try square("\(p).branch7x7dbl_1", x, c7, 1)
            d = try basic("\(p).branch7x7dbl_2", d, c7, (7, 1), padding: (3, 0))
            d = try basic("\(p).branch7x7dbl_3", d, c7, (1, 7), padding: (0, 3))
            d = try basic("\(p).branch7x7dbl_4", d, c7, (7, 1), padding: (3, 0))
            d = try basic("\(p).branch7x7dbl_5", d, 192, (1, 7), padding: (0, 3))
            let bp = try square("\(p).branch_pool", try averagePool("\(p).avg_pool", x), 192, 1)
            return try cat("\(p).cat", [b1, b7, d, bp])
        }

        mutating func d(_ p: String, _ x: Int) throws(ModelError) -> Int {
            let b3 = try square("\(p).branch3x3_2", try square("\(p).branch3x3_1", x, 192, 1), 320, 3, stride: 2)
            var b7 = try square("\(p).branch7x7x3_1", x, 192, 1)
            b7 = try basic("\(p).branch7x7x3_2", b7, 192, (1, 7), padding: (0, 3))
            b7 = try basic("\(p).branch7x7x3_3", b7, 192, (7, 1), padding: (3, 0))
            b7 = try square("\(p).branch7x7x3_4", b7, 192, 3, stride: 2)
            return try cat("\(p).cat", [b3, b7, try maxPool("\(p).max_pool", x)])
        }

        mutating func e(_ p: String, _ x: Int) throws(ModelError) -> Int {
            let b1 = try square("\(p).branch1x1", x, 320, 1)
            let s = try square("\(p).branch3x3_1", x, 384, 1)
            let b3 = try cat("\(p).branch3x3", [try basic("\(p).branch3x3_2a", s, 384, (1, 3), padding: (0, 1)),
                                               try basic("\(p).branch3x3_2b", s, 384, (3, 1), padding: (1, 0))])
            let dd = try square("\(p).branch3x3dbl_2", try square("\(p).branch3x3dbl_1", x, 448, 1), 384, 3, padding: 1)
            let d = try cat("\(p).branch3x3dbl", [try basic("\(p).branch3x3dbl_3a", dd, 384, (1, 3), padding: (0, 1)),
                                                 try basic("\(p).branch3x3dbl_3b", dd, 384, (3, 1), padding: (1, 0))])
            let bp = try square("\(p).branch_pool", try averagePool("\(p).avg_pool", x), 192, 1)
            return try cat("\(p).cat", [b1, b3, d, bp])
        }
    }

    static func build(classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var m = Blocks(t: try TorchvisionBuilder(input: input, generator: generator, epsilon: 1e-3))
        var x = try m.square("Conv2d_1a_3x3", m.t.input, 32, 3, stride: 2)
        x = try m.square("Conv2d_2a_3x3", x, 32, 3)
        x = try m.square("Conv2d_2b_3x3", x, 64, 3, padding: 1)
        x = try m.maxPool("maxpool1", x)
        x = try m.square("Conv2d_3b_1x1", x, 80, 1)
        x = try m.square("Conv2d_4a_3x3", x, 192, 3)
        x = try m.maxPool("maxpool2", x)
        x = try m.a("Mixed_5b", x, pool: 32)
        x = try m.a("Mixed_5c", x, pool: 64)
        x = try m.a("Mixed_5d", x, pool: 64)
        x = try m.b("Mixed_6a", x)
        x = try m.c("Mixed_6b", x, c7: 128)
        x = try m.c("Mixed_6c", x, c7: 160)
        x = try m.c("Mixed_6d", x, c7: 160)
        x = try m.c("Mixed_6e", x, c7: 192)
        x = try m.d("Mixed_7a", x)
        x = try m.e("Mixed_7b", x)
        x = try m.e("Mixed_7c", x)
        x = try m.t.add("avgpool", GlobalPool2d(.average), x)
        x = try m.t.add("dropout", Dropout(0.5), x)
        try m.t.add("fc", Dense(2048, classes, generator: generator), x)
        return m.t.build("inception_v3")
    }
}
