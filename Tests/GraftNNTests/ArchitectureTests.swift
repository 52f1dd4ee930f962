import Testing
@testable import GraftModels
@testable import GraftNN
import GraftTensor

@Suite("Built-in architectures")
struct ArchitectureTests {
    /// Parameter totals from the reference frameworks (torchvision 0.29 `sum(p.numel())`, the
    /// EfficientNet-Lite0 checkpoint, and the W3 Keras model), with the classes given.
    static let totals: [(Architecture, Int, Int)] = [
        (.resnet18, 1000, 11_689_512), (.resnet18, 10, 11_181_642), (.resnet34, 1000, 21_797_672),
        (.mobilenetV2, 1000, 3_504_872), (.efficientNetLite0, 1000, 4_652_008), (.mnistCNN, 5, 600_165),
    ]

    @Test(arguments: 0..<6)
    func parameterTotalsEqualTheReference(_ row: Int) throws {
        let (architecture, classes, total) = Self.totals[row]
        let model = try architecture.build(classes: classes, generator: Generator(seed: 1))
        #expect(model.parameterCount == total, "\(architecture.rawValue) with \(classes) classes")
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
