import Foundation
import Testing
@testable import GraftModels
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

    @Test(arguments: ["hf_deit", "hf_dinov2"])
    func deitAndDinov2FoldersMatchTransformers(_ name: String) throws {
        let model = try ModelFiles.load(Self.folder(name))
        expectClose(try model.predict(try npy("vit_input.npy")), try npy("\(name)_output.npy"), name)
    }

    /// A copy of the ViT folder with one change to its config.json, loaded: the error's reason.
    func refusal(_ change: (inout [String: Any]) -> Void) throws -> String? {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("hf-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: Self.folder("hf_vit"), toPath: copy.path)
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
        // A size no Int holds is no size: not converted, so the weights' own stands (and loads).
        #expect(try refusal { $0["num_attention_heads"] = 1e300 } == nil)
        #expect(HuggingFaceFolder.whole(1e300) == nil && HuggingFaceFolder.whole(2.5) == nil && HuggingFaceFolder.whole(true) == nil && HuggingFaceFolder.whole(12) == 12)
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
