import Foundation
import GraftData
@testable import GraftTraining
import Testing
@testable import GraftModels
@testable import GraftNN
import GraftTensor

/// A small graph with every layer type: conv (groups), separable conv, batch norm, pooling,
/// activations, dropout, zero padding, add, multiply (squeeze-and-excitation), concat, reshape, flatten, dense.
func everyLayerModel(generator: Generator) throws -> Model {
    var b = try GraphBuilder(inputShape: [4, 8, 8])
    let stem = try b.add("stem", Conv2d(4, 8, kernel: (3, 3), padding: .same, groups: 2, generator: generator))
    let norm = try b.add("norm", BatchNorm(8), stem)
    let act = try b.add("act", Activation(.hardswish), norm)
    let padded = try b.add("pad", ZeroPadding2d(Padding2D(top: 2, bottom: 0, left: 1, right: 1)), act)
    let separable = try b.add("sep", SeparableConv2d(8, 8, kernel: (3, 3), padding: .valid, depthMultiplier: 2, generator: generator), padded)
    let squeeze = try b.add("se.pool", GlobalPool2d(.average), act)
    let excite = try b.add("se.fc", Dense(8, 8, generator: generator), squeeze)
    let gate = try b.add("se.gate", Activation(.sigmoid), excite)
    let gate4 = try b.add("se.reshape", Reshape([8, 1, 1]), gate)
    let scaled = try b.add("se.scale", Merge(.multiply), separable, gate4)
    let sum = try b.add("residual", Merge(.add), scaled, act)
    let joined = try b.add("concat", Merge(.concatenate), sum, act)
    let pooled = try b.add("maxpool", Pool2d(.max, kernel: (2, 2)), joined)
    let averaged = try b.add("avgpool", Pool2d(.average, kernel: (3, 3), stride: (1, 1), padding: .same, countPadding: false), pooled)
    let maxed = try b.add("gmp", GlobalPool2d(.max), averaged)
    let flat = try b.add("flatten", Flatten(), maxed)
    let dropped = try b.add("drop", Dropout(0.1), flat)
    let hidden = try b.add("fc1", Dense(16, 12, generator: generator), dropped)
    let gelu = try b.add("gelu", Activation(.gelu), hidden)
    try b.add("fc2", Dense(12, 3, generator: generator), gelu)
    return b.build(name: "every-layer", architecture: "test", classNames: ["a", "b", "c"])
}

@Suite("Models: graphs, gradients, summaries, selectors, surgery")
struct ModelTests {
    @Test func gradientsFlowThroughEveryLayerType() throws {
        let generator = Generator(seed: 3)
        let model = try everyLayerModel(generator: generator)
        let x = try Tensor.randomNormal([3, 4, 8, 8], generator: generator)
        // Finite differences in inference mode (dropout off, BatchNorm on running statistics) on sampled elements.
        let loss = { () throws -> Float in try model.forward(x, ForwardContext(training: false)).crossEntropy(labels: [0, 2, 1]).item() }
        let value = try model.forward(x, ForwardContext(training: false)).crossEntropy(labels: [0, 2, 1])
        try value.backward()
        for (key, parameter) in model.parameters {
            let grad = try #require(parameter.grad, "\(key) got no gradient")
            #expect(grad.scalars.contains { $0 != 0 }, "\(key) got an all-zero gradient")
            for element in stride(from: 0, to: parameter.count, by: max(1, parameter.count / 3)) {
                let original = parameter.value.scalars[element]
                parameter.update { $0[element] = original + 1e-2 }
                let plus = try loss()
                parameter.update { $0[element] = original - 1e-2 }
                let minus = try loss()
                parameter.update { $0[element] = original }
                let numeric = (plus - minus) / 2e-2
                #expect(abs(grad.scalars[element] - numeric) <= 2e-2 * (1 + abs(numeric)), "\(key)[\(element)]: \(grad.scalars[element]) vs \(numeric)")
            }
        }
    }

    @Test func buildTimeShapeErrorsNameTheLayer() throws {
        let g = Generator(seed: 1)
        var b = try GraphBuilder(inputShape: [3, 8, 8])
        #expect(Fixture.message { try b.add("conv", Conv2d(4, 8, kernel: (3, 3), generator: g)) }
                == "conv: expects 4 input channels, got 3 (input [3,8,8])")
        let conv = try b.add("conv", Conv2d(3, 8, kernel: (3, 3), generator: g))
        let other = try b.add("other", Conv2d(3, 4, kernel: (1, 1), generator: g), b.input)
        #expect(Fixture.message { try b.add("sum", Merge(.add), conv, other) } == "sum: inputs [8,6,6], [4,8,8] do not broadcast")
        #expect(Fixture.message { try b.add("conv", Activation(.relu), conv) } == "layer name: 'conv' is used twice")
        #expect(Fixture.message { try b.add("fc", Dense(10, 2, generator: g), conv) } == "fc: expects 10 input features, got [8,6,6]")
        #expect(Fixture.message { try b.add("pool", Pool2d(.max, kernel: (9, 9)), conv) }?.contains("does not fit the input") == true)
        let auto = try b.add(Activation(.relu))
        #expect(b.nodes[auto].name == "relu_1")
        let model = b.build(name: "m", architecture: "test")
        #expect(Fixture.message { try model.forward(Tensor.zeros([1, 1, 8, 8]), ForwardContext(training: false)) }
                == "conv: takes the declared input 3×8×8 but not 1×8×8: expects 3 input channels, got 1 (input [1,8,8])")
        #expect(Fixture.message { try model.forward(Tensor.zeros([1, 3, 8]), ForwardContext(training: false)) } == "input: model expects [N,3,8,8], got [1,3,8]")
        // Another size runs where every layer allows it, and the output follows.
        #expect(try model.forward(Tensor.zeros([1, 3, 10, 12]), ForwardContext(training: false)).shape.count == 4)
    }

    @Test func summaryOfTheMNISTCNN() throws {
        let model = try Architecture.mnistCNN.build(classes: 5, generator: Generator(seed: 1))
        try model.setTrainable(false, ["conv1", "conv2"])
        let expected = """
         #  name      type                 output     params  trainable  mode
        ──────────────────────────────────────────────────────────────────────
         0  input     Input                1×28×28         0  -          -
         1  conv1     Conv2d (3×3 valid)   32×26×26      320  no         -
         2  relu1     ReLU                 32×26×26        0  -          -
         3  conv2     Conv2d (3×3 valid)   32×24×24    9,248  no         -
         4  relu2     ReLU                 32×24×24        0  -          -
         5  pool      MaxPool2d (2×2)      32×12×12        0  -          -
         6  dropout1  Dropout (p 0.25)     32×12×12        0  -          train
         7  flatten   Flatten              4608            0  -          -
         8  fc1       Linear (4608 → 128)  128       589,952  yes        -
         9  relu3     ReLU                 128             0  -          -
        10  dropout2  Dropout (p 0.5)      128             0  -          train
        11  fc2       Linear (128 → 5)     5             645  yes        -

        model mnist-cnn (mnist-cnn): 11 layers, input 1×28×28, output 5, 5 classes
        total params: 600,165 (2.29 MB)
        trainable params: 590,597 (2.25 MB)
        non-trainable params: 9,568 (0.04 MB)
        """
        #expect(model.summary() == expected, "\n\(model.summary())")
    }

    @Test func summaryOfAGraphShowsInputsAndFrozenBatchNorm() throws {
        let model = try Architecture.resnet18.build(classes: 10, generator: Generator(seed: 1))
        try model.setTrainable(false, ["layer1"])
        let text = model.summary()
        #expect(text.contains("inputs"))
        #expect(text.contains("layer1.0.add"))
        #expect(text.contains("total params: 11,181,642"))
        #expect(text.contains("frozen BatchNorm: 4 layers run in inference mode"))
        let row = try #require(model.summaryRows.first { $0.name == "layer1.0.bn1" })
        #expect(row.trainable == "no" && row.mode == "infer")
        #expect(model.summaryRows.first { $0.name == "layer2.0.add" }?.inputs == ["layer2.0.bn2", "layer2.0.downsample.1"])
    }

    @Test func selectors() throws {
        let model = try Architecture.resnet18.build(classes: 10, generator: Generator(seed: 1))
        func names(_ selector: String) throws -> [String] { try LayerSelector.resolve(selector, in: model).map { model.nodes[$0].name } }
        #expect(try names("layer4.1.conv2") == ["layer4.1.conv2"])
        #expect(try names("layer4.1").count == 7)  // conv1 bn1 relu1 conv2 bn2 add relu2
        #expect(try names("layer?.0.downsample.*") == ["layer2.0.downsample.0", "layer2.0.downsample.1", "layer3.0.downsample.0",
                                                        "layer3.0.downsample.1", "layer4.0.downsample.0", "layer4.0.downsample.1"])
        #expect(try names("conv1..maxpool") == ["conv1", "bn1", "relu", "maxpool"])
        #expect(try names("1..3") == ["conv1", "bn1", "relu"])
        #expect(try names("type=BatchNorm").count == 20)
        #expect(try names("type=linear") == ["fc"])
        #expect(try names("last=2") == ["layer4.1.bn2", "fc"])
        #expect(try names("all").count == model.nodes.count - 1)
        #expect(Fixture.message { try names("layer4.1.conv3") } == "no layer named 'layer4.1.conv3'; did you mean 'layer4.1.conv1'?")
        #expect(Fixture.message { try names("layr4") } == "no layer named 'layr4'; did you mean 'layer4'?")
        #expect(Fixture.message { try names("type=BatchNrm") } == "selector 'type=BatchNrm': no layer of that type; did you mean type=BatchNorm2d?")
        #expect(Fixture.message { try names("block6*") } == "selector 'block6*': no layer name matches 'block6*'")
        #expect(Fixture.message { try names("fc..conv1") } == "selector 'fc..conv1': 'fc' comes after 'conv1' in the summary")
        #expect(Fixture.message { try names("last=0") } == "selector 'last=0': last=N needs a positive count")
        #expect(LayerSelector.glob("a*c?e", matches: "abbcde") && !LayerSelector.glob("a*c", matches: "abcd"))
        // Numbered blocks, inclusive (a transformer's blocks.8-11): every layer under each.
        #expect(try names("layer4.0-1") == (try names("layer4.0")) + (try names("layer4.1")))
        #expect(Fixture.message { try names("layer4.0-2") } == "selector 'layer4.0-2': there is no block 'layer4.2'")
        #expect(Fixture.message { try names("layer4.1-0") } == "selector 'layer4.1-0': block 1 comes after block 0")
        #expect(Fixture.message { try names("layer4.0-99999999999999999999") } == "selector 'layer4.0-99999999999999999999': a block number is too large")
    }

    @Test func freezeAndUnfreezeTakeEffectAtOnceAndBadSelectorsChangeNothing() throws {
        let model = try Architecture.resnet18.build(classes: 10, generator: Generator(seed: 1))
        let change = try model.setTrainable(false, ["all"])
        #expect(change.trainableParameters == 0 && change.changed.count == 41)  // 20 conv + 20 bn + fc
        let unfrozen = try model.setTrainable(true, ["layer4", "fc"])
        #expect(unfrozen.changed.count == 11)
        #expect(model.trainableParameterCount == 8_398_858)  // layer4 + fc of a 10-class ResNet-18
        let before = model.trainableParameterCount
        #expect(throws: ModelError.self) { try model.setTrainable(true, ["layer3", "nonsense"]) }
        #expect(model.trainableParameterCount == before, "a bad selector left the flags as they were")
        // Frozen parameters build no graph.
        let x = try Tensor.zeros([1, 3, 32, 32])
        let small = try Architecture.resnet18.build(classes: 10, inputShape: [3, 32, 32], generator: Generator(seed: 1))
        try small.setTrainable(false, ["all"])
        #expect(!(try small.forward(x, ForwardContext(training: true))).requiresGrad)
        try small.setTrainable(true, ["fc"])
        #expect(try small.forward(x, ForwardContext(training: true)).requiresGrad)
        let partial = try small.setTrainable(false, ["fc"])
        #expect(partial.changed == ["fc"])
        small.nodes.last?.layer.parameters[1].parameter.trainable = true
        #expect(small.nodes.last?.layer.trainableState == "partial")
    }

    @Test func headSurgery() throws {
        let generator = Generator(seed: 4)
        let model = try Architecture.resnet18.build(classes: 1000, inputShape: [3, 64, 64], generator: generator)
        let change = try model.replaceHead(classes: 3, classNames: ["cat", "dog", "fox"], hidden: [32], dropout: 0.2, generator: generator)
        #expect(change.cutAfter == "avgpool")
        #expect(change.removed.map(\.name) == ["fc"])
        #expect(change.added.map(\.name) == ["head.dropout", "head.fc1", "head.relu1", "head.dropout1", "head.fc"])
        #expect(model.outputShape == [3] && model.classNames == ["cat", "dog", "fox"])
        #expect(model.nodes.filter(\.isHead).count == 5)
        #expect(model.parameterCount == 11_176_512 + 512 * 32 + 32 + 32 * 3 + 3)
        #expect(try model.predict(Tensor.zeros([2, 3, 64, 64])).shape == [2, 3])

        // Cutting inside the network: a 4-D cut gets global pooling first.
        let cut = try Architecture.resnet18.build(classes: 10, inputShape: [3, 64, 64], generator: generator)
        let inner = try cut.replaceHead(classes: 4, cutAfter: "layer3.1.relu2", generator: generator)
        #expect(inner.added.map(\.name) == ["head.pool", "head.fc"])
        #expect(cut.nodes.contains { $0.name == "layer4.0.conv1" } == false)
        #expect(cut.nodes.first { $0.name == "head.fc" }?.layer.parameterCount == 256 * 4 + 4)

        // Bad requests change nothing.
        let digest = Digest.of(cut), count = cut.nodes.count
        #expect(Fixture.message { try cut.replaceHead(classes: 1, generator: generator) } == "head: classes must be at least 2, got 1")
        #expect(Fixture.message { try cut.replaceHead(classes: 3, cutAfter: "layer3.1.relu3", generator: generator) }
                == "no layer named 'layer3.1.relu3'; did you mean 'layer3.1.relu1'?")
        #expect(Fixture.message { try cut.replaceHead(classes: 3, classNames: ["a"], generator: generator) } == "head: 1 class names for 3 classes")
        #expect(Digest.of(cut) == digest && cut.nodes.count == count)
    }
    /// `compare scratch`'s starting point: PyTorch's default initialization for every layer.
    @Test func reinitializeDrawsPyTorchsDefaultsAndResetsStatistics() throws {
        let model = try Architecture.resnet18.build(classes: 4, inputShape: [3, 32, 32], generator: Generator(seed: 1))
        for (_, buffer) in model.buffers { buffer.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = 7 } } }
        (model.nodes.compactMap { $0.layer as? BatchNorm }.first)?.keepsStatistics = true
        try model.reinitialize(generator: Generator(seed: 2))
        for node in model.nodes {
            for (key, parameter) in node.layer.parameters {
                let values = parameter.value.scalars
                if node.layer is BatchNorm {
                    #expect(values.allSatisfy { $0 == (key == "weight" ? 1 : 0) }, "\(node.name).\(key)")
                } else {
                    let weight = node.layer.parameters.first { $0.parameter.shape.count >= 2 }!.parameter.shape
                    let bound = 1 / Float(weight.dropFirst().reduce(1, *)).squareRoot()
                    #expect(values.allSatisfy { abs($0) <= bound }, "\(node.name).\(key)")
                    if values.count >= 1000 { #expect(values.map(abs).max()! > 0.9 * bound, "\(node.name).\(key) spans its range") }
                }
            }
            if let norm = node.layer as? BatchNorm {
                #expect(!norm.keepsStatistics && norm.runningMean.scalars.allSatisfy { $0 == 0 } && norm.runningVar.scalars.allSatisfy { $0 == 1 })
            }
        }
    }
}

enum Fixture {
    static func message<T>(_ body: () throws -> T) -> String? {
        do { _ = try body(); return nil } catch { return "\(error)" }
    }
}

/// `Model.profile`: every node computed in a pass is in exactly one step, fused groups as the
/// inference pass runs them (a convolution with its BatchNorm and ReLU; a separable block), times
/// positive and within the pass.
@Suite("Profile")
struct ProfileTests {
    @Test(arguments: [("resnet18", [3, 64, 64]), ("mobilenetv2", [3, 64, 64])])
    func stepsCoverEveryNodeOnce(_ c: (String, [Int])) throws {
        let model = try Architecture.named(c.0).build(classes: 10, inputShape: c.1, generator: Generator(seed: 3))
        let x = try Tensor.randomNormal([2] + c.1, generator: Generator(seed: 4))
        let result = try model.profile(x, repeats: 2)
        let covered = result.rows.flatMap(\.nodes)
        #expect(covered.sorted() == Array(1..<model.nodes.count), "each node in one step")
        #expect(result.rows.map { $0.nodes[0] } == result.rows.map { $0.nodes[0] }.sorted())
        #expect(result.rows.allSatisfy { $0.seconds > 0 } && result.passSeconds >= result.rows.reduce(0) { $0 + $1.seconds })
        #expect(result.batch == 2 && result.imagesPerSecond > 0)
        let kinds = result.rows.map { $0.nodes.map { model.nodes[$0].layer.kind } }
        #expect(kinds.contains(["Conv2d", "BatchNorm2d", c.0 == "resnet18" ? "ReLU" : "ReLU6"]), "a convolution with its BatchNorm and activation is one step")
        if c.0 == "mobilenetv2" { #expect(kinds.contains { $0.count == 8 }, "an inverted residual block is one step") }
        #expect(throws: ModelError.self) { try model.profile(x, repeats: 0) }
    }
}

/// Normalization fusion in training: a BatchNorm and the activation after it run as one op, with the
/// bits of the two layers one after the other — the loss, every parameter's gradient and the running
/// statistics — on ResNet-18 (ReLU) and a small net of BatchNorms before hardswish, SiLU and ReLU6.
@Suite("Normalization fusion in training")
struct NormalizationFusionTests {
    static func smallNet(_ generator: Generator) throws -> Model {
        var b = try GraphBuilder(inputShape: [3, 12, 12])
        try b.add(Conv2d(3, 8, kernel: (3, 3), padding: .same, generator: generator))
        try b.add(BatchNorm(8))
        try b.add(Activation(.hardswish))
        try b.add(Conv2d(8, 16, kernel: (3, 3), stride: (2, 2), padding: .same, generator: generator))
        try b.add(BatchNorm(16))
        try b.add(Activation(.silu))
        try b.add(GlobalPool2d(.average))
        try b.add(Dense(16, 12, generator: generator))
        try b.add(BatchNorm(12, kind: "BatchNorm1d"))
        try b.add(Activation(.relu6))
        try b.add(Dense(12, 5, generator: generator), head: true)
        return b.build(name: "small", architecture: "small")
    }

    /// One training step's loss, parameter gradients and running statistics, and the kinds of each step that ran.
    func step(_ name: String, fused: Bool) throws -> (bits: [[UInt32]], steps: [[String]]) {
        let generator = Generator(seed: 41)
        let model = name == "small" ? try Self.smallNet(generator) : try Architecture.named(name).build(classes: 5, inputShape: [3, 32, 32], generator: generator)
        let x = try Tensor.randomNormal([4] + model.inputShape, generator: generator)
        let times = StepTimes()
        let loss = try Model.$fusesInference.withValue(fused) { () throws -> Tensor in
            let logits = try model.forward(x, ForwardContext(training: true, generator: generator, times: times))
            return try logits.crossEntropy(labels: [0, 3, 1, 4])
        }
        try loss.backward()
        let bits = ([loss] + model.parameters.compactMap(\.parameter.grad) + model.buffers.map(\.tensor)).map { $0.scalars.map(\.bitPattern) }
        let steps = times.steps.sorted { $0.key < $1.key }.map { node, step in ([node] + step.covering.sorted()).map { model.nodes[$0].layer.kind } }
        return (bits, steps)
    }

    @Test(arguments: ["resnet18", "small"])
    func fusedStepHasTheBitsOfTheLayersOneByOne(_ name: String) throws {
        let (fused, separate) = (try step(name, fused: true), try step(name, fused: false))
        let same = fused.bits == separate.bits
        #expect(same, "a gradient or statistic differs")
        #expect(separate.steps.allSatisfy { $0.count == 1 })
        let pairs = fused.steps.filter { $0.count == 2 }
        if name == "resnet18" {
            #expect(pairs.count == 9 && pairs.allSatisfy { $0 == ["BatchNorm2d", "ReLU"] }, "\(pairs)")
        } else {
            #expect(pairs == [["BatchNorm2d", "Hardswish"], ["BatchNorm2d", "SiLU"], ["BatchNorm1d", "ReLU6"]], "\(pairs)")
        }
    }
}
