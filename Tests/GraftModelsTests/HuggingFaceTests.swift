import Foundation
import Testing
@testable import GraftModels
import GraftFormats
import GraftNN
import GraftTensor

/// Hugging Face `save_pretrained` folders against transformers (fixtures from
/// make_hf_fixtures.py), and the configs graft refuses.
@Suite("Hugging Face folders against transformers")
struct HuggingFaceTests {
    func expectClose(_ actual: Tensor, _ expected: Tensor, _ what: String) {
        #expect(actual.shape == expected.shape, "\(what) shape \(actual.shape)")
        let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4 * (1 + (expected.scalars.map(abs).max() ?? 0)), "\(what): max |Δ| \(worst)")
    }

    static func folder(_ name: String) -> String { formatsFixtures.appendingPathComponent(name).path }

    /// The heads come from config.json (4, where a width of 128 alone would suggest 2), the class
    /// names from id2label, the normalization and size from preprocessor_config.json.
    @Test func aViTFolderOpensWithItsConfigLabelsAndPreprocessing() throws {
        let model = try ModelFiles.load(Self.folder("hf_vit"))
        #expect(model.classNames == ["cat", "dog", "bird"])
        #expect(model.nodes.first { $0.name == "vit.encoder.layer.0.attention" }?.layer.details == "4 heads of 32")
        #expect(model.normalization == .custom(mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3]))
        #expect(model.preprocessing == ImageTransform(channels: 3, height: 32, width: 32, resize: nil, eightBit: false))
        expectClose(try model.predict(try npy("vit_input.npy")), try npy("hf_vit_output.npy"), "hf_vit")
        // interpolate_pos_encoding=True: bicubic without antialiasing.
        expectClose(try model.predict(try npy("vit_input_48x40.npy")), try npy("hf_vit_48x40_output.npy"), "hf_vit at 48×40")
    }

    /// DeiT, DINOv2, and ConvNext (timm's ConvNeXt under Hugging Face's key names).
    @Test(arguments: ["hf_deit", "hf_dinov2", "hf_convnext"])
    func eachModelTypesFolderMatchesTransformers(_ name: String) throws {
        let model = try ModelFiles.load(Self.folder(name))
        expectClose(try model.predict(try npy("vit_input.npy")), try npy("\(name)_output.npy"), name)
    }

    /// Dinov2WithRegistersForImageClassification (make_hf_registers_fixtures.py): four registers go in
    /// behind the class token after the position embedding, the head reads the class token and the
    /// patches' mean (registers left out), the table is resized with antialiasing at 48×40.
    @Test func dinov2WithRegistersMatchesTransformers() throws {
        let model = try ModelFiles.load(Self.folder("hf_dinov2_registers"))
        #expect(model.architecture == "dinov2reg4-hf-128x2-p8")
        #expect(model.classNames == ["cat", "dog", "bird"])
        #expect(model.parameterCount == 294_147 - 128, "transformers counts the mask token, which inference never reads")
        expectClose(try model.predict(try npy("vit_input.npy")), try npy("hf_dinov2_registers_output.npy"), "hf_dinov2_registers")
        expectClose(try model.predict(try npy("vit_input_48x40.npy")), try npy("hf_dinov2_registers_48x40_output.npy"), "hf_dinov2_registers at 48×40")
    }

    /// ResNetForImageClassification is torchvision's ResNet under other names (transformers'
    /// outputs are the zoo's check, its sizes too large to commit): a resnet18 graft builds, saved
    /// under Hugging Face's names beside a config.json, opens as resnet18 with the same outputs.
    @Test func aResNetFolderIsTorchvisionsResNetUnderItsNames() throws {
        let original = try Architecture.named("resnet18").build(classes: 3, generator: Generator(seed: 5), name: "r")
        let saved = try SafeTensors.read(try ModelFiles.encoded(original, for: "r.safetensors"), name: "r.safetensors")
        func hf(_ key: String) -> String {
            var p = key.split(separator: ".").map(String.init)
            if p[0] == "fc" { return "classifier.1.\(p[1])" }
            if p[0] == "conv1" || p[0] == "bn1" { return "resnet.embedder.embedder.\(p[0] == "conv1" ? "convolution" : "normalization").\(p[1])" }
            let stage = Int(p[0].dropFirst(5))! - 1, leaf = p.removeLast()
            let head = "resnet.encoder.stages.\(stage).layers.\(p[1])"
            if p[2] == "downsample" { return "\(head).shortcut.\(p[3] == "0" ? "convolution" : "normalization").\(leaf)" }
            let k = Int(p[2].dropFirst(p[2].hasPrefix("conv") ? 4 : 2))! - 1
            return "\(head).layer.\(k).\(p[2].hasPrefix("conv") ? "convolution" : "normalization").\(leaf)"
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hf-resnet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try SafeTensors.encode(StateDict(tensors: saved.tensors.map { (name: hf($0.name), tensor: $0.tensor) }))
            .write(to: folder.appendingPathComponent("model.safetensors"))
        try Data(#"{"model_type": "resnet", "hidden_act": "relu", "layer_type": "basic", "downsample_in_bottleneck": false, "id2label": {"0": "a", "1": "b", "2": "c"}}"#.utf8)
            .write(to: folder.appendingPathComponent("config.json"))
        let loaded = try ModelFiles.load(folder.path)
        #expect(loaded.classNames == ["a", "b", "c"] && loaded.parameterCount == original.parameterCount)
        let x = try Tensor(shape: [2, 3, 64, 64], scalars: (0..<(2 * 3 * 64 * 64)).map { Float(($0 * 7919) % 1000) / 500 - 1 })
        #expect(try loaded.predict(x).scalars == original.predict(x).scalars)
    }

    /// A copy of a folder (the ViT's) with one change to its config.json, loaded: the error's reason.
    func refusal(of folder: String = "hf_vit", _ change: (inout [String: Any]) -> Void) throws -> String? {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("hf-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: Self.folder(folder), toPath: copy.path)
        defer { try? FileManager.default.removeItem(at: copy) }
        let file = copy.appendingPathComponent("config.json")
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        change(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: file)
        return formatMessage { try ModelFiles.load(copy.path) }
    }

    @Test func configsThatAskForCodeOrDoNotFitAreRefusedByName() throws {
        #expect(try refusal { $0["auto_map"] = ["AutoModel": "modeling_evil.EvilModel"] }?.contains("asks to run the model's own code ('auto_map')") == true)
        #expect(try refusal { $0["trust_remote_code"] = true }?.contains("'trust_remote_code'") == true)
        #expect(try refusal { $0["model_type"] = "swin\u{1b}[2J" }?.contains("model_type 'swin\\x1b[2J'") == true)
        #expect(try refusal { $0["num_attention_heads"] = 3 }?.contains("num_attention_heads 3 does not divide hidden_size 128") == true)
        #expect(try refusal { $0["hidden_size"] = 1_000_000_000 }?.contains("hidden_size 1000000000 is not the weights' 128") == true)
        #expect(try refusal { $0["hidden_act"] = "relu" }?.contains("hidden_act 'relu'") == true)
        // A ResNet whose stride sits in the 1×1 convolution, or a ConvNext with another activation,
        // is another network than the one its weights would load into.
        #expect(try refusal(of: "hf_convnext") { $0["hidden_act"] = "relu" }?.contains("hidden_act is 'relu'; graft builds convnext with gelu") == true)
        #expect(try refusal(of: "hf_convnext") { $0["model_type"] = "resnet"; $0["hidden_act"] = "relu" }?.contains("which a ResNet model has not") == true)
        #expect(try refusal(of: "hf_convnext") { $0["model_type"] = "resnet"; $0["hidden_act"] = "relu"; $0["downsample_in_bottleneck"] = true }?
            .contains("downsample_in_bottleneck is 'true'; graft builds resnet with false") == true)
        // Only ConvNext's own 7- and 8-part keys are renamed.
        let convNext = KeyRenaming.huggingFaceConvNext.key
        #expect(convNext("convnext.encoder.stages.1.layers.2.layer_scale_parameter") == "stages.1.blocks.2.gamma")
        #expect(convNext("other.encoder.stages.1.layers.2.layer_scale_parameter") == nil && convNext("convnext.encoder.stages.1.layers.2.dwconv.bias") == "stages.1.blocks.2.conv_dw.bias")
        // A size no Int holds is no size: not converted, so the weights' own stands (and loads).
        #expect(try refusal { $0["num_attention_heads"] = 1e300 } == nil)
        #expect(HuggingFaceFolder.whole(1e300) == nil && HuggingFaceFolder.whole(2.5) == nil && HuggingFaceFolder.whole(true) == nil && HuggingFaceFolder.whole(12) == 12)
        // JSON's 0 and 1 are numbers, its true and false are not (Foundation parses both as NSNumbers).
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(#"{"one": 1, "zero": 0, "yes": true, "no": false}"#.utf8)) as? [String: Any])
        #expect(HuggingFaceFolder.whole(parsed["one"]) == 1 && HuggingFaceFolder.whole(parsed["zero"]) == 0)
        #expect(HuggingFaceFolder.whole(parsed["yes"]) == nil && HuggingFaceFolder.whole(parsed["no"]) == nil)
        // Nested past what a config does: refused before it is parsed.
        #expect(try refusal { config in
            var deep: Any = 1
            for _ in 0..<40 { deep = [deep] }
            config["extra"] = deep
        }?.contains("nests 33+ levels deep") == true)
    }

    @Test func aFolderWithoutWeightsOrConfigSaysWhatIsMissing() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("hf-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        #expect(formatMessage { try ModelFiles.load(empty.path) }?.contains("no config.json") == true)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: Self.folder("hf_vit")).appendingPathComponent("config.json"), to: empty.appendingPathComponent("config.json"))
        #expect(formatMessage { try ModelFiles.load(empty.path) }?.contains("no model.safetensors or pytorch_model.bin") == true)
    }
}
