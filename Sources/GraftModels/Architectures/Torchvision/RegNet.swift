import GraftTensor
import GraftNN

/// torchvision's RegNet X and Y (400MF–32GF): `stem` (3×3 s2), `trunk_output.block{s}.block{s}-{j}`
/// residual bottlenecks (`proj`, `f.a` 1×1, `f.b` grouped 3×3, `f.se` squeeze-excite for Y, `f.c`
/// 1×1), `fc`. The per-stage depths, widths and group widths are torchvision's (computed there from
/// w₀, wₐ, wₘ and quantized); squeeze-excite keeps ¼ of the block's input width.
enum RegNet {
    /// (blocks, width, group width) per stage.
    struct Variant { let name: String, stages: [(Int, Int, Int)], se: Bool }

    static let variants = [
        Variant(name: "regnet_x_400mf", stages: [(1, 32, 16), (2, 64, 16), (7, 160, 16), (12, 400, 16)], se: false),
        Variant(name: "regnet_x_800mf", stages: [(1, 64, 16), (3, 128, 16), (7, 288, 16), (5, 672, 16)], se: false),
        Variant(name: "regnet_x_1_6gf", stages: [(2, 72, 24), (4, 168, 24), (10, 408, 24), (2, 912, 24)], se: false),
        Variant(name: "regnet_x_3_2gf", stages: [(2, 96, 48), (6, 192, 48), (15, 432, 48), (2, 1008, 48)], se: false),
        Variant(name: "regnet_x_8gf", stages: [(2, 80, 80), (5, 240, 120), (15, 720, 120), (1, 1920, 120)], se: false),
        Variant(name: "regnet_x_16gf", stages: [(2, 256, 128), (6, 512, 128), (13, 896, 128), (1, 2048, 128)], se: false),
        Variant(name: "regnet_x_32gf", stages: [(2, 336, 168), (7, 672, 168), (13, 1344, 168), (1, 2520, 168)], se: false),
        Variant(name: "regnet_y_400mf", stages: [(1, 48, 8), (3, 104, 8), (6, 208, 8), (6, 440, 8)], se: true),
        Variant(name: "regnet_y_800mf", stages: [(1, 64, 16), (3, 144, 16), (8, 320, 16), (2, 784, 16)], se: true),
        Variant(name: "regnet_y_1_6gf", stages: [(2, 48, 24), (6, 120, 24), (17, 336, 24), (2, 888, 24)], se: true),
        Variant(name: "regnet_y_3_2gf", stages: [(2, 72, 24), (5, 216, 24), (13, 576, 24), (1, 1512, 24)], se: true),
        Variant(name: "regnet_y_8gf", stages: [(2, 224, 56), (4, 448, 56), (10, 896, 56), (1, 2016, 56)], se: true),
        Variant(name: "regnet_y_16gf", stages: [(2, 224, 112), (4, 448, 112), (11, 1232, 112), (1, 3024, 112)], se: true),
        Variant(name: "regnet_y_32gf", stages: [(2, 232, 232), (5, 696, 232), (12, 1392, 232), (1, 3712, 232)], se: true),
    ]

    static let architectures = variants.map { v in
        Architecture(v.name, "RegNet\(v.se ? "Y" : "X")-\(v.name.split(separator: "_").dropFirst(2).joined(separator: ".").uppercased()), torchvision's layout and parameter names",
                     anchor: "stem.0.weight") { classes, input, _, generator throws(ModelError) in try build(v, classes: classes, input: input, generator: generator) }
    }

    static func build(_ v: Variant, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var t = try TorchvisionBuilder(input: input, generator: generator)
        var x = try t.convNormActivation("stem", t.input, 32, kernel: 3, stride: 2, activation: .relu)
        for (s, (depth, width, groupWidth)) in v.stages.enumerated() {
            for j in 0..<depth {
                let p = "trunk_output.block\(s + 1).block\(s + 1)-\(j)"
                let widthIn = t.channels(x), stride = j == 0 ? 2 : 1
                var h = try t.convNormActivation("\(p).f.a", x, width, kernel: 1, activation: .relu)
                h = try t.convNormActivation("\(p).f.b", h, width, kernel: 3, stride: stride, groups: width / groupWidth, activation: .relu)
                if v.se { h = try t.squeezeExcite("\(p).f.se", h, squeeze: Int((0.25 * Double(widthIn)).rounded(.toNearestOrEven))) }
                h = try t.convNormActivation("\(p).f.c", h, width, kernel: 1, activation: nil)
                var shortcut = x
                if widthIn != width || stride != 1 { shortcut = try t.convNormActivation("\(p).proj", x, width, kernel: 1, stride: stride, activation: nil) }
                h = try t.add("\(p).add", Merge(.add), shortcut, h)
                x = try t.add("\(p).activation", Activation(.relu), h)
            }
        }
        x = try t.add("avgpool", GlobalPool2d(.average), x)
        try t.add("fc", Dense(t.channels(x), classes, generator: generator), x)
        return t.build(v.name)
    }
}
