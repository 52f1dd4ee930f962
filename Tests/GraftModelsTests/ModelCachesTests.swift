import Foundation
import Testing
@testable import GraftModels
import GraftNN
import GraftTensor

/// The frameworks' caches, built in a temporary HOME as torch hub, the Hugging Face hub (snapshots
/// whose files link into blobs) and Keras lay them out: listed with sizes, found by name, loaded.
@Suite("Models in the frameworks' caches")
struct ModelCachesTests {
    /// A temporary HOME holding one model in each cache; its environment.
    static func home() throws -> (URL, [String: String]) {
        let files = FileManager.default
        let home = files.temporaryDirectory.appendingPathComponent("graft-home-\(UUID().uuidString)")
        let torch = home.appendingPathComponent(".cache/torch/hub/checkpoints")
        try files.createDirectory(at: torch, withIntermediateDirectories: true)
        try files.copyItem(at: formatsFixtures.appendingPathComponent("vit_timm.pth"), to: torch.appendingPathComponent("vit_tiny_test-5c9dd274.pth"))
        // transformers' layout: snapshots/REVISION/FILE → ../../blobs/HASH
        func hub(_ model: String, _ files: [(String, URL)]) throws {
            let root = home.appendingPathComponent(".cache/huggingface/hub/models--\(model)")
            let blobs = root.appendingPathComponent("blobs"), snapshot = root.appendingPathComponent("snapshots/0123abcd")
            try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
            for (index, (name, source)) in files.enumerated() {
                try FileManager.default.copyItem(at: source, to: blobs.appendingPathComponent("blob\(index)"))
                try FileManager.default.createSymbolicLink(atPath: snapshot.appendingPathComponent(name).path, withDestinationPath: "../../blobs/blob\(index)")
            }
        }
        let vit = formatsFixtures.appendingPathComponent("hf_vit")
        try hub("google--vit-test", ["config.json", "model.safetensors", "preprocessor_config.json"].map { ($0, vit.appendingPathComponent($0)) })
        // timm's own config.json beside timm's keys.
        let timmConfig = home.appendingPathComponent("timm-config.json")
        let config: [String: Any] = ["architecture": "vit_test_patch8_32.random", "num_classes": 5, "label_names": ["a", "b", "c", "d", "e"],
                                     "pretrained_cfg": ["mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]]]
        try JSONSerialization.data(withJSONObject: config).write(to: timmConfig)
        try hub("timm--vit_test_patch8_32.random", [("config.json", timmConfig), ("model.safetensors", formatsFixtures.appendingPathComponent("vit_timm.safetensors"))])
        let keras = home.appendingPathComponent(".keras/models")
        try files.createDirectory(at: keras, withIntermediateDirectories: true)
        try files.copyItem(at: formatsFixtures.appendingPathComponent("groupnorm_keras.h5"), to: keras.appendingPathComponent("groupnorm_keras.h5"))
        return (home, ["HOME": home.path])
    }

    @Test func theCachesAreListedWithSizesAndFoundByName() throws {
        let (home, environment) = try Self.home()
        defer { try? FileManager.default.removeItem(at: home) }
        let entries = ModelCaches.list(environment)
        #expect(entries.map(\.name) == ["vit_tiny_test-5c9dd274.pth", "google/vit-test", "timm/vit_test_patch8_32.random", "groupnorm_keras.h5"])
        #expect(entries.map(\.cache) == ["torch hub", "Hugging Face hub", "Hugging Face hub", "Keras"])
        // A snapshot's size is its blobs' (its links followed).
        let snapshot = try #require(entries.first { $0.name == "google/vit-test" })
        let folder = formatsFixtures.appendingPathComponent("hf_vit")
        let blobs = try ["config.json", "model.safetensors", "preprocessor_config.json"].reduce(0) {
            $0 + ((try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent($1).path)[.size] as? NSNumber)?.intValue ?? 0)
        }
        #expect(snapshot.bytes == blobs)
        #expect(ModelCaches.find("vit_tiny_test", environment: environment)?.name == "vit_tiny_test-5c9dd274.pth")
        #expect(ModelCaches.find("Google/ViT-Test", environment: environment)?.name == "google/vit-test")
        #expect(ModelCaches.find("groupnorm_keras", environment: environment)?.cache == "Keras")
        #expect(ModelCaches.find("../etc/passwd", environment: environment) == nil)
        #expect(ModelCaches.find("nothing", environment: environment) == nil)
        // Other caches' locations: TORCH_HOME and HF_HOME are honoured.
        #expect(ModelCaches.list(["HOME": "/nonexistent", "TORCH_HOME": home.appendingPathComponent(".cache/torch").path]).map(\.name) == ["vit_tiny_test-5c9dd274.pth"])
        #expect(ModelCaches.list(["HOME": "/nonexistent", "HF_HOME": home.appendingPathComponent(".cache/huggingface").path]).count == 2)
    }

    @Test func cachedModelsLoadAndMatchTheirFrameworks() throws {
        let (home, environment) = try Self.home()
        defer { try? FileManager.default.removeItem(at: home) }
        let input = try npy("vit_input.npy")
        let torch = try ModelFiles.load(try #require(ModelCaches.find("vit_tiny_test", environment: environment)).path)
        let want = try npy("vit_timm_output.npy")
        let hub = try ModelFiles.load(try #require(ModelCaches.find("google/vit-test", environment: environment)).path)
        #expect(hub.classNames == ["cat", "dog", "bird"])
        let timm = try ModelFiles.load(try #require(ModelCaches.find("timm/vit_test_patch8_32.random", environment: environment)).path)
        #expect(timm.classNames == ["a", "b", "c", "d", "e"] && timm.normalization == .symmetric || timm.normalization == .custom(mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]))
        for (model, expected) in [(torch, want), (hub, try npy("hf_vit_output.npy")), (timm, want)] {
            let got = try model.predict(input)
            let worst = zip(got.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(got.shape == expected.shape && worst <= 1e-4 * (1 + (expected.scalars.map(abs).max() ?? 0)), "\(model.name): max |Δ| \(worst)")
        }
    }
}
