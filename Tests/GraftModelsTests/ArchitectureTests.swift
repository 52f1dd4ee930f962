@testable import GraftTraining
import Testing
@testable import GraftModels
@testable import GraftNN
import GraftTensor

@Suite("Built-in architectures")
struct ArchitectureTests {
    /// Parameter totals from the reference frameworks (torchvision 0.29 `sum(p.numel())`, the
    /// EfficientNet-Lite0 checkpoint, and the W3 Keras model), with the classes given.
    static let totals: [(Architecture, Int, Int)] = [
        (.resnet18, 1000, 11_689_512), (.resnet18, 10, 11_181_642), (Architecture(rawValue: "resnet34")!, 1000, 21_797_672),
        (.mobilenetV2, 1000, 3_504_872), (.efficientNetLite0, 1000, 4_652_008), (.mnistCNN, 5, 600_165),
    ]

    @Test(arguments: 0..<6)
    func parameterTotalsEqualTheReference(_ row: Int) throws {
        let (architecture, classes, total) = Self.totals[row]
        let model = try architecture.build(classes: classes, generator: Generator(seed: 1))
        #expect(model.parameterCount == total, "\(architecture.rawValue) with \(classes) classes")
    }

    /// Every torchvision CNN graft builds: torchvision 0.29's `sum(p.numel())` and its BatchNorm
    /// statistics (running mean and variance), 1,000 classes (GoogLeNet and Inception v3 without their auxiliary heads).
    static let torchvision: [(String, Int, Int)] = [
        ("resnet18", 11689512, 9600),
        ("resnet34", 21797672, 17024),
        ("resnet50", 25557032, 53120),
        ("resnet101", 44549160, 105344),
        ("resnet152", 60192808, 151424),
        ("resnext50_32x4d", 25028904, 68224),
        ("resnext101_32x8d", 88791336, 202880),
        ("resnext101_64x4d", 83455272, 202880),
        ("wide_resnet50_2", 68883240, 68224),
        ("wide_resnet101_2", 126886696, 137856),
        ("vgg11", 132863336, 0),
        ("vgg11_bn", 132868840, 5504),
        ("vgg13", 133047848, 0),
        ("vgg13_bn", 133053736, 5888),
        ("vgg16", 138357544, 0),
        ("vgg16_bn", 138365992, 8448),
        ("vgg19", 143667240, 0),
        ("vgg19_bn", 143678248, 11008),
        ("alexnet", 61100840, 0),
        ("squeezenet1_0", 1248424, 0),
        ("squeezenet1_1", 1235496, 0),
        ("densenet121", 7978856, 83648),
        ("densenet161", 28681000, 219936),
        ("densenet169", 14149480, 158400),
        ("densenet201", 20013928, 229056),
        ("googlenet", 6624904, 14560),
        ("inception_v3", 23834568, 34432),
        ("mobilenet_v2", 3504872, 34112),
        ("mobilenet_v3_small", 2542856, 12112),
        ("mobilenet_v3_large", 5483032, 24400),
        ("mnasnet0_5", 2218512, 20624),
        ("mnasnet0_75", 3170208, 29808),
        ("mnasnet1_0", 4383312, 37920),
        ("mnasnet1_3", 6282256, 48816),
        ("shufflenet_v2_x0_5", 1366792, 7952),
        ("shufflenet_v2_x1_0", 2278604, 16180),
        ("shufflenet_v2_x1_5", 3503624, 23440),
        ("shufflenet_v2_x2_0", 7393996, 33716),
        ("efficientnet_b0", 5288548, 42016),
        ("efficientnet_b1", 7794184, 62048),
        ("efficientnet_b2", 9109994, 67568),
        ("efficientnet_b3", 12233232, 87296),
        ("efficientnet_b4", 19341616, 125200),
        ("efficientnet_b5", 30389784, 172736),
        ("efficientnet_b6", 43040704, 224432),
        ("efficientnet_b7", 66347960, 310720),
        ("efficientnet_v2_s", 21458488, 153872),
        ("efficientnet_v2_m", 54139356, 292032),
        ("efficientnet_v2_l", 118515272, 512576),
        ("regnet_x_400mf", 5495976, 37856),
        ("regnet_x_800mf", 7259656, 37312),
        ("regnet_x_1_6gf", 9190136, 43504),
        ("regnet_x_3_2gf", 15296552, 62560),
        ("regnet_x_8gf", 39572648, 90464),
        ("regnet_x_16gf", 54278536, 111168),
        ("regnet_x_32gf", 107811560, 162016),
        ("regnet_y_400mf", 4344144, 27152),
        ("regnet_y_800mf", 6432512, 30432),
        ("regnet_y_1_6gf", 11202430, 52672),
        ("regnet_y_3_2gf", 19436338, 66160),
        ("regnet_y_8gf", 39381472, 86528),
        ("regnet_y_16gf", 83590140, 122816),
        ("regnet_y_32gf", 145046770, 158288),
        ("convnext_tiny", 28589128, 0),
        ("convnext_small", 50223688, 0),
        ("convnext_base", 88591464, 0),
        ("convnext_large", 197767336, 0),
    ]

    @Test(arguments: torchvision)
    func torchvisionTotals(_ row: (String, Int, Int)) throws {
        let architecture = try Architecture.named(row.0)
        let model = try architecture.build(generator: .structureOnly())
        #expect(model.parameterCount == row.1, "\(row.0): \(model.parameterCount) parameters, torchvision \(row.1)")
        #expect(model.buffers.reduce(0) { $0 + $1.tensor.count } == row.2, "\(row.0) BatchNorm statistics")
        #expect(model.outputShape == [1000])
    }

    @Test func everyTorchvisionNameIsBuiltIn() {
        for (name, _, _) in Self.torchvision { #expect((try? Architecture.named(name)) != nil, "\(name) is not built in") }
    }

    @Test func mobileNetWidthMultiplier() throws {
        // torchvision.models.mobilenet_v2(width_mult=0.5): 1,968,680 parameters.
        let half = try Architecture.mobilenetV2.build(widthMultiplier: 0.5, generator: Generator(seed: 1))
        #expect(half.parameterCount == 1_968_680)
    }

    @Test func resnetKeysAreTorchvisions() throws {
        let model = try Architecture.resnet18.build(classes: 10, generator: Generator(seed: 1))
        let keys = model.parameters.map(\.key) + model.buffers.map(\.key)
        for key in ["conv1.weight", "bn1.running_var", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
                    "layer2.0.downsample.1.bias", "layer4.1.bn2.weight", "fc.weight", "fc.bias"] {
            #expect(keys.contains(key), "missing \(key)")
        }
        #expect(model.outputShape == [10])
        #expect(model.nodes.first { $0.name == "layer4.1.relu2" }?.outputShape == [512, 7, 7])
    }

    @Test func efficientNetKeysMatchTheCheckpoint() throws {
        let model = try Architecture.efficientNetLite0.build(generator: Generator(seed: 1))
        let keys = Set(model.parameters.map(\.key) + model.buffers.map(\.key))
        // Every float tensor of efficientnet-lite0.pth (its num_batches_tracked counters aside).
        var expected = ["_conv_stem.weight", "_conv_head.weight", "_fc.weight", "_fc.bias"]
        for bn in ["_bn0", "_bn1"] { expected += ["weight", "bias", "running_mean", "running_var"].map { "\(bn).\($0)" } }
        for i in 0..<16 {
            var parts = ["_depthwise_conv.weight", "_project_conv.weight"]
            if i > 0 { parts.append("_expand_conv.weight") }
            for bn in (i > 0 ? ["_bn0", "_bn1", "_bn2"] : ["_bn1", "_bn2"]) {
                parts += ["weight", "bias", "running_mean", "running_var"].map { "\(bn).\($0)" }
            }
            expected += parts.map { "_blocks.\(i).\($0)" }
        }
        #expect(Set(expected) == keys, "extra: \(keys.subtracting(expected).sorted().prefix(5)), missing: \(Set(expected).subtracting(keys).sorted().prefix(5))")
        #expect(expected.count == 296 - 49)
        #expect(model.nodes.first { $0.name == "_blocks.1._depthwise_conv" }?.outputShape == [96, 56, 56])
        #expect(model.nodes.first { $0.name == "_relu1" }?.outputShape == [1280, 7, 7])
    }

    @Test func inputSizeIsFreeWhereTheArchitectureAllows() throws {
        let small = try Architecture.resnet18.build(classes: 3, inputShape: [3, 64, 64], generator: Generator(seed: 1))
        #expect(try small.predict(Tensor.zeros([2, 3, 64, 64])).shape == [2, 3])
        let lite = try Architecture.efficientNetLite0.build(classes: 4, inputShape: [3, 97, 131], generator: Generator(seed: 1))
        #expect(try lite.predict(Tensor.zeros([1, 3, 97, 131])).shape == [1, 4])
        #expect(throws: ModelError.self) { try Architecture.mnistCNN.build(inputShape: [1, 4, 4], generator: Generator(seed: 1)) }
        #expect(throws: ModelError.self) { try Architecture.named("resnet19") }
        #expect("\((try? Architecture.named("resnet19")) == nil)" == "true")
    }

    @Test func initializationFollowsTheSeed() throws {
        let a = try Architecture.mnistCNN.build(generator: Generator(seed: 7))
        let b = try Architecture.mnistCNN.build(generator: Generator(seed: 7))
        let c = try Architecture.mnistCNN.build(generator: Generator(seed: 8))
        #expect(Digest.of(a) == Digest.of(b))
        #expect(Digest.of(a) != Digest.of(c))
    }
}
