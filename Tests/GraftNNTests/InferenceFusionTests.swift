import GraftData
import Testing
@testable import GraftModels
@testable import GraftNN
import GraftTensor

/// Inference fusion (InferenceFusion.swift): a convolution with its BatchNorm and activation runs as
/// one pass wherever nothing needs a gradient, with the same bits as the layers run one by one.
@Suite("Inference fusion")
struct InferenceFusionTests {
    /// A model with BatchNorm statistics, γ and β drawn at random (fresh ones are almost the identity).
    static func model(_ name: String, input: [Int], seed: UInt64) throws -> Model {
        let generator = Generator(seed: seed)
        let model = try Architecture.named(name).build(classes: 10, inputShape: input, generator: generator)
        for node in model.nodes {
            guard let norm = node.layer as? BatchNorm else { continue }
            let statistics = try Tensor.randomNormal([norm.channels], std: 0.3, generator: generator)
            norm.runningMean.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = statistics.scalars[i] } }
            norm.runningVar.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = 0.5 + abs(statistics.scalars[i]) } }
            try norm.weight?.assign(try Tensor.randomUniform([norm.channels], low: 0.5, high: 1.5, generator: generator), name: node.name)
            try norm.bias?.assign(try Tensor.randomNormal([norm.channels], std: 0.2, generator: generator), name: node.name)
        }
        return model
    }

    /// How many groups a pass over the whole model would fuse.
    static func groups(_ model: Model, training: Bool) -> Int {
        var uses = [Int](repeating: 0, count: model.nodes.count)
        for node in model.nodes { for input in node.inputs { uses[input] += 1 } }
        let context = ForwardContext(training: training)
        return model.nodes.indices.dropFirst().filter {
            model.fusedGroup(at: $0, uses: uses, end: model.nodes.count - 1, kept: [], context) != nil
        }.count
    }

    /// (architecture, expected fused groups): Conv-BN-ReLU and Conv-BN (ResNet), Conv-BN-ReLU6 with
    /// depthwise convolutions and "same" padding (EfficientNet-Lite0, MobileNetV2), Conv-ReLU and Linear-ReLU (the MNIST CNN),
    /// Linear-GELU (each of a ViT's MLPs).
    static let models: [(String, [Int], Int)] = [
        ("resnet18", [3, 48, 48], 20), ("efficientnet-lite0", [3, 64, 64], 49), ("mobilenetv2", [3, 64, 64], 52), ("mnist-cnn", [1, 28, 28], 3),
        ("vit_tiny_patch16_224", [3, 48, 48], 12),
    ]

    @Test(arguments: 0..<5)
    func predictGivesTheSameBitsAsLayerByLayer(_ row: Int) throws {
        let (name, input, expectedGroups) = Self.models[row]
        let model = try Self.model(name, input: input, seed: UInt64(row + 5))
        #expect(Self.groups(model, training: false) == expectedGroups, "\(name)")
        let x = try Tensor.randomUniform([3] + input, low: -1, high: 1, generator: Generator(seed: 2))
        let fused = try model.predict(x)
        let plain = try Model.$fusesInference.withValue(false) { try model.predict(x) }
        #expect(fused.scalars.map(\.bitPattern) == plain.scalars.map(\.bitPattern), "\(name)")
        // An intermediate output someone asks for is still there (the pass stops at it, unfused).
        let bnIndex = try #require(model.nodes.firstIndex { $0.layer is Conv2d })
        let partial = try withoutGradients { try model.forward(x, ForwardContext(training: false), through: bnIndex) }
        let partialPlain = try Model.$fusesInference.withValue(false) {
            try withoutGradients { try model.forward(x, ForwardContext(training: false), through: bnIndex) }
        }
        #expect(partial.scalars.map(\.bitPattern) == partialPlain.scalars.map(\.bitPattern))
    }

    /// Channels-last chains (ChannelsLastChains.swift): the separable and inverted-residual nets run
    /// their depthwise and pointwise chains channels-last — squeeze-and-excitation, hardswish and SiLU
    /// included — with the bits of the layer-by-layer pass; a net without depthwise convolutions, or
    /// whose depthwise output goes to a layer that does not run channels-last (timm's ConvNeXt-Atto, its
    /// norm over channels), forms no chain; torchvision's ConvNeXt chains through its permutations for free.
    /// Inside the chains, separable blocks run fused (SeparableBlocks.swift), counted by their stages:
    /// 3 (expansion, depthwise, projection); 2 for a depthwise-separable block (a first block without
    /// expansion), or for an expansion and its depthwise convolution when squeeze-and-excitation reads
    /// the depthwise output (MobileNetV3-Large's 8 such blocks, -Small's 8 of 9 — its first has no
    /// expansion, so nothing fuses — and EfficientNet-B0's 15).
    static let chains: [(String, [Int], Bool, [Int: Int])] = [
        ("efficientnet-lite0", [3, 64, 64], true, [2: 1, 3: 15]), ("mobilenetv2", [3, 48, 40], true, [2: 1, 3: 16]),
        ("mobilenet_v3_large", [3, 64, 64], true, [2: 9, 3: 6]), ("mobilenet_v3_small", [3, 40, 48], true, [2: 8, 3: 2]),
        ("efficientnet_b0", [3, 48, 48], true, [2: 15]), ("resnet18", [3, 48, 48], false, [:]),
        ("convnext_atto", [3, 64, 64], false, [:]), ("convnext_tiny", [3, 40, 40], true, [:]),
    ]

    @Test(arguments: 0..<8)
    func channelsLastChainsGiveTheBitsOfLayerByLayer(_ row: Int) throws {
        let (name, input, chains, blocks) = Self.chains[row]
        let model = try Self.model(name, input: input, seed: UInt64(row + 11))
        let x = try Tensor.randomUniform([3] + input, low: -1, high: 1, generator: Generator(seed: 3))
        let trace = ChannelsLastTrace()
        let fused = try Model.$channelsLastTrace.withValue(trace) { try model.predict(x) }
        let plain = try Model.$fusesInference.withValue(false) { try model.predict(x) }
        #expect(fused.scalars.map(\.bitPattern) == plain.scalars.map(\.bitPattern), "\(name)")
        #expect(trace.nodes.isEmpty != chains, "\(name): \(trace.nodes.count) nodes ran channels-last")
        #expect(Dictionary(grouping: trace.blocks, by: \.count).mapValues(\.count) == blocks, "\(name): fused blocks by stages")
        guard chains, let inside = trace.nodes.dropFirst(trace.nodes.count / 2).first else { return }
        // An output asked for in the middle of a chain comes back in NCHW with the same bits.
        let kept = try withoutGradients { try model.forward(x, ForwardContext(training: false), through: inside) }
        let keptPlain = try Model.$fusesInference.withValue(false) {
            try withoutGradients { try model.forward(x, ForwardContext(training: false), through: inside) }
        }
        #expect(kept.shape == keptPlain.shape)
        #expect(kept.scalars.map(\.bitPattern) == keptPlain.scalars.map(\.bitPattern), "\(name) through \(model.nodes[inside].name)")
    }

    /// The Keras emotion model has a branch between a convolution and its BatchNorm (a pooling of the
    /// other path runs in between): the fused group is computed early, the branch still runs in order.
    @Test func aBranchBetweenConvolutionAndBatchNormStillRuns() throws {
        let model = try ModelFiles.load(try ExampleFiles.locate("models/fer-emotion.h5"))
        #expect(Self.groups(model, training: false) == 6)  // its six Conv2d layers (separable convolutions run as they are)
        let x = try Tensor.randomUniform([2, 1, 64, 64], low: -1, high: 1, generator: Generator(seed: 6))
        let fused = try model.predict(x)
        let plain = try Model.$fusesInference.withValue(false) { try model.predict(x) }
        #expect(fused.scalars.map(\.bitPattern) == plain.scalars.map(\.bitPattern))
    }

    @Test func trainingFusesOnlyTheFrozenLayers() throws {
        let model = try Self.model("resnet18", input: [3, 32, 32], seed: 3)
        // Everything trains: BatchNorm on batch statistics, nothing fuses.
        #expect(Self.groups(model, training: true) == 0)
        // A frozen backbone: its BatchNorms are in inference mode and fuse; the gradient still reaches the head.
        try model.setTrainable(false, ["all"])
        try model.setTrainable(true, ["fc"])
        #expect(Self.groups(model, training: true) == 20)
        let x = try Tensor.randomUniform([4, 3, 32, 32], low: -1, high: 1, generator: Generator(seed: 4))
        let labels = [0, 1, 2, 3]
        func step() throws -> (loss: [UInt32], grad: [UInt32]) {
            let fc = try #require(model.trainableParameters.first { $0.key == "fc.weight" }?.parameter)
            fc.zeroGrad()
            let loss = try model.forward(x, ForwardContext(training: true, generator: Generator(seed: 1))).crossEntropy(labels: labels)
            try loss.backward()
            return (loss.scalars.map(\.bitPattern), try #require(fc.grad).scalars.map(\.bitPattern))
        }
        let fused = try step()
        let plain = try Model.$fusesInference.withValue(false) { try step() }
        #expect(fused.loss == plain.loss)
        #expect(fused.grad == plain.grad)
        // Unfreezing the last block: its BatchNorms keep their statistics (inference mode) but their γ, β
        // and the convolutions need gradients, so those groups run layer by layer and the gradient arrives.
        try model.setTrainable(true, ["layer4"])
        let layer4 = try #require(model.trainableParameters.first { $0.key == "layer4.1.conv2.weight" }?.parameter)
        func layer4Gradient() throws -> [UInt32] {
            layer4.zeroGrad()
            let loss = try model.forward(x, ForwardContext(training: true, generator: Generator(seed: 1))).crossEntropy(labels: labels)
            try loss.backward()
            return try #require(layer4.grad).scalars.map(\.bitPattern)
        }
        let gradient = try layer4Gradient()
        #expect(gradient == (try Model.$fusesInference.withValue(false) { try layer4Gradient() }))
        #expect(gradient.contains { $0 != 0 })
    }
}
