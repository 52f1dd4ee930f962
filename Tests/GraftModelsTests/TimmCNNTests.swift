import Foundation
import GraftFormats
import Testing
@testable import GraftModels
import GraftNN
import GraftTensor

/// timm's CNNs under timm's key names against timm (fixtures from make_timm_cnn_fixtures.py), and
/// the named models' parameter totals.
@Suite("timm CNNs against timm")
struct TimmCNNTests {
    /// ConvNeXt with its MLP as 1×1 convolutions (atto…nano) and as Linear layers (tiny and up):
    /// widths, depths and the MLP's form read off the tensors.
    @Test(arguments: ["timm_convnext_convmlp", "timm_convnext_linear"])
    func convNeXtStateDictsMatchTimm(_ name: String) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("\(name).safetensors").path, inputShape: [3, 64, 64])
        #expect(model.architecture == "convnext-timm-16x1-1-2-1")
        #expect(model.parameterCount == 114_021)
        let (got, want) = (try model.predict(try npy("timm_cnn_input.npy")), try npy("\(name)_output.npy"))
        let worst = zip(got.scalars, want.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(got.shape == want.shape && worst <= 1e-4 * (1 + (want.scalars.map(abs).max() ?? 0)), "\(name): max |Δ| \(worst)")
    }

    /// `sum(p.numel() for p in timm.create_model(name).parameters())`.
    /// (ResNet-D's outputs were checked against timm on full-size resnet18d and resnet50d with random
    /// weights and statistics: 5.4e-7 and 9.9e-7 relative at 96×96; too large to commit.)
    @Test(arguments: [("convnext_nano", 15_593_560), ("convnext_atto", 3_695_520), ("timm-convnext_tiny", 28_589_128),
                      ("resnet18d", 11_708_744), ("resnet50d", 25_576_264),
                      ("timm-efficientnet_b0", 5_288_548), ("timm-efficientnet_b1", 7_794_184), ("timm-efficientnet_b2", 9_109_994),
                      ("tf_efficientnet_b3", 12_233_232), ("efficientnet_lite0", 4_652_008), ("tf_efficientnet_lite0", 4_652_008),
                      ("tf_efficientnet_lite2", 6_092_072), ("tf_efficientnet_lite4", 13_006_568),
                      ("mobilenetv3_large_100", 5_483_032), ("mobilenetv3_small_100", 2_542_856)])
    func namedModelsHaveTimmsTotals(_ row: (String, Int)) throws {
        let model = try Architecture.named(row.0).build(generator: .structureOnly())
        #expect(model.parameterCount == row.1, "\(row.0): \(model.parameterCount), timm \(row.1)")
    }

    /// timm's EfficientNet read off its tensors: with squeeze-excite, the PyTorch-trained flavour
    /// (SiLU, padding k/2, ε 1e-5); without, TensorFlow's Lite (ReLU6, "same" padding, ε 1e-3),
    /// whose padding is asymmetric on an odd input.
    @Test(arguments: [("timm_efficientnet", "timm-efficientnet-8-10-blocks", 200_427), ("timm_tf_efficientnet_lite", "tf_efficientnet_lite-32-10-blocks", 258_981)])
    func efficientNetStateDictsMatchTimm(_ row: (String, String, Int)) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("\(row.0).safetensors").path)
        #expect(model.architecture == row.1 && model.parameterCount == row.2, "\(model.architecture) \(model.parameterCount)")
        var cases = [("timm_cnn_input.npy", "\(row.0)_output.npy")]
        if row.0.contains("lite") { cases.append(("timm_cnn_input_63.npy", "\(row.0)_63_output.npy")) }
        for (input, output) in cases {
            let (got, want) = (try model.predict(try npy(input)), try npy(output))
            let worst = zip(got.scalars, want.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(got.shape == want.shape && worst <= 1e-4 * (1 + (want.scalars.map(abs).max() ?? 0)), "\(output): max |Δ| \(worst)")
        }
    }

    /// timm's GhostNet and ReXNet read off their tensors (ghost modules, strided depthwise blocks
    /// and shortcuts, hard-sigmoid squeeze-excite; ReXNet's squeeze-excite with BatchNorm and its
    /// input added to the first channels), at 64×64 and at an odd 63×63.
    @Test(arguments: [("timm_ghostnet", "ghostnet-8-6-blocks", 618_081), ("timm_rexnet", "rexnet-32-640", 1_152_676)])
    func ghostNetAndReXNetStateDictsMatchTimm(_ row: (String, String, Int)) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("\(row.0).safetensors").path)
        #expect(model.architecture == row.1 && model.parameterCount == row.2, "\(model.architecture) \(model.parameterCount)")
        for (input, output) in [("timm_cnn_input.npy", "\(row.0)_output.npy"), ("timm_cnn_input_63.npy", "\(row.0)_63_output.npy")] {
            let (got, want) = (try model.predict(try npy(input)), try npy(output))
            let worst = zip(got.scalars, want.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(got.shape == want.shape && worst <= 1e-4 * (1 + (want.scalars.map(abs).max() ?? 0)), "\(output): max |Δ| \(worst)")
        }
    }

    /// timm's RegNet is torchvision's under other names (its outputs are the zoo's check against
    /// timm: regnety_016 1.6e-6): a regnet_y_400mf graft builds, saved under timm's names, opens as
    /// regnet_y_400mf with the same outputs; a key neither has is named.
    @Test func aTimmRegNetStateDictIsTorchvisionsUnderItsNames() throws {
        let original = try Architecture.named("regnet_y_400mf").build(classes: 4, generator: Generator(seed: 3), name: "r")
        let saved = try SafeTensors.read(try ModelFiles.encoded(original, for: "r.safetensors"), name: "r.safetensors")
        func timm(_ key: String) -> String {
            let p = key.split(separator: ".").map(String.init)
            if p[0] == "fc" { return "head.fc.\(p[1])" }
            if p[0] == "stem" { return "stem.\(p[1] == "0" ? "conv" : "bn").\(p[2])" }
            // trunk_output.blockS.blockS-J.(f.a|f.b|f.c|proj).(0|1).leaf, f.se.fcK.leaf
            let s = Int(p[1].dropFirst(5))!, j = Int(p[2].split(separator: "-")[1])!
            let head = "s\(s).b\(j + 1)"
            if p[3] == "f", p[4] == "se" { return "\(head).se.\(p[5]).\(p[6])" }
            let (part, index, leaf) = p[3] == "proj" ? ("downsample", p[4], p[5]) : (["a": "conv1", "b": "conv2", "c": "conv3"][p[4]]!, p[5], p[6])
            return "\(head).\(part).\(index == "0" ? "conv" : "bn").\(leaf)"
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("timm-regnet-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: file) }
        try SafeTensors.encode(StateDict(tensors: saved.tensors.map { (name: timm($0.name), tensor: $0.tensor) })).write(to: file)
        let loaded = try ModelFiles.load(file.path)
        #expect(loaded.architecture == "regnet_y_400mf" && loaded.parameterCount == original.parameterCount)
        let x = try Tensor(shape: [2, 3, 64, 64], scalars: (0..<(2 * 3 * 64 * 64)).map { Float(($0 * 7919) % 1000) / 500 - 1 })
        #expect(try loaded.predict(x).scalars == original.predict(x).scalars)
        try SafeTensors.encode(StateDict(tensors: saved.tensors.map { (name: timm($0.name), tensor: $0.tensor) } + [(name: "s1.b1.extra.weight", tensor: Tensor(1))]))
            .write(to: file)
        let refusal = formatMessage { try ModelFiles.load(file.path) } ?? "loaded"
        #expect(refusal.contains("cannot load \(file.path) as timm's RegNet: the weights: they hold 's1.b1.extra.weight', which timm's RegNet has not"), "\(refusal)")
    }

    /// A state dict under timm's keys is found from its keys: ResNet-D's and EfficientNet's blocks
    /// counted, MobileNetV3 by its shapes. (MobileNetV3's outputs were checked against timm on
    /// random full-size models: large 1.4e-6 at 64×64 in the zoo, small 1.2e-6 at 96×96 by hand.)
    @Test(arguments: ["resnet18d", "timm-efficientnet_b0", "tf_efficientnet_lite0", "mobilenetv3_large_100", "mobilenetv3_small_100"])
    func aTimmStateDictIsDetectedFromItsKeys(_ name: String) throws {
        let model = try Architecture.named(name).build(classes: 6, generator: .structureOnly())
        let state = StateDict(tensors: model.parameters.map { ($0.key, $0.parameter.value) } + model.buffers.map { ($0.key, $0.tensor) })
        let fit = try #require(Architecture.fits(state).first)
        #expect(fit.architecture.rawValue == name && fit.isExact && fit.classes == 6, "\(fit.architecture.rawValue) \(fit.isExact) \(fit.classes)")
    }

    /// timm's EfficientViT (MIT) from torch.onnx.export, both exporters (make_efficientvit_onnx_fixtures.py):
    /// its linear attention pads v with a column of ones, which graft reads as a constant padding of the
    /// last axis (ConstantPad), and the two products and the division by the last column run on the
    /// batch's own nodes. One sample too, so nothing is fixed to the file's batch.
    @Test(arguments: ["efficientvit_torch17", "efficientvit_dynamo18"])
    func efficientViTsLinearAttentionFromONNXMatchesTimm(_ name: String) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("\(name).onnx").path)
        #expect(model.nodes.contains { ($0.layer as? ConstantPad)?.value == 1 })
        let (x, want) = (try npy("efficientvit_onnx_input.npy"), try npy("efficientvit_onnx_output.npy"))
        for (input, expected, what) in [(x, want, "2 samples"), (try x.sliced(axis: 0, start: 1, end: 2), try want.sliced(axis: 0, start: 1, end: 2), "one sample")] {
            let got = try model.predict(input)
            let worst = zip(got.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(got.shape == expected.shape && worst <= 1e-4 * (1 + (expected.scalars.map(abs).max() ?? 0)), "\(name), \(what): max |Δ| \(worst)")
        }
    }
}
