import Foundation
import GraftFormats
@testable import GraftTraining
import Testing
@testable import GraftShell
@testable import GraftModels
@testable import GraftNN
import GraftTensor
import GraftData

/// Issue 14: `export pytorch DIR`. What PyTorch makes of the files is checked by
/// scripts/check-pytorch-export.sh (CI); these tests check what graft writes, and what it refuses.
@Suite("PyTorch export", .serialized)
struct PyTorchExportTests {
    func folder(_ name: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("graft-export-\(getpid())-\(name)").path
        try? FileManager.default.removeItem(atPath: path)
        return path
    }

    /// The `put(self, NAME, …)` lines of a model.py, by name.
    func registered(_ source: String) -> [String: String] {
        var found: [String: String] = [:]
        for line in source.split(separator: "\n") where line.hasPrefix("        put(self, \"") {
            let rest = line.dropFirst("        put(self, \"".count)
            guard let end = rest.firstIndex(of: "\"") else { continue }
            found[String(rest[..<end])] = String(rest[rest.index(after: end)...])
        }
        return found
    }

    @Test(arguments: ["mnist-cnn", "resnet18", "mobilenetv2", "efficientnet-lite0", "convnext_tiny", "mobilenet_v3_small", "densenet121",
                      "inception_v3", "googlenet", "shufflenet_v2_x0_5", "regnet_y_400mf", "squeezenet1_1", "efficientnet_b0"])
    func everyKeyIsUnderARegisteredLayerAndEveryLayerRuns(_ architecture: String) throws {
        let (shell, _) = makeShell(seed: 1)
        let input = architecture == "mnist-cnn" ? "" : " input=3x96x96"
        #expect(shell.execute("new \(architecture) classes=4\(input)").succeeded)
        let model = try shell.model()
        let source = try PyTorchExporter.source(model, header: "test")
        let layers = registered(source)
        #expect(layers.count == model.nodes.count - 1, "one module per layer")
        // Every state_dict key is a registered layer's name plus the layer's own key.
        for node in model.nodes.dropFirst() where !(node.layer.parameters.isEmpty && node.layer.buffers.isEmpty) {
            #expect(layers[node.name] != nil, "\(node.name) keeps its graft name")
        }
        // The forward pass calls each layer once, in graft's order, and returns the last value.
        let calls = source.split(separator: "\n").filter { $0.hasPrefix("        x") && $0.contains(" = self") }
        #expect(calls.count == model.nodes.count - 1)
        #expect(source.contains("class GraftModel(Block):"))
        #expect(!source.contains("PaddedConv2d(") || source.contains("class PaddedConv2d"), "helpers used are defined")
    }

    @Test func modulePathsReadLikeTorchvision() {
        #expect(PyTorchExporter.access("layer1.0.conv1") == "self.layer1[0].conv1")
        #expect(PyTorchExporter.access("_blocks.15._bn1") == "self._blocks[15]._bn1")
        #expect(PyTorchExporter.access("/features/features.0/Conv") == #"self["/features/features"]["0/Conv"]"#)
        #expect(PyTorchExporter.access("features.1.0.block.0", leaves: ["features.1.0"]) == "self.features[1][0].block[0]", "a Block inside a layer")
        #expect(PyTorchExporter.access("stem.0", leaves: ["stem"]) == #"self.stem._modules["0"]"#, "a number directly under a layer")
        #expect(PyTorchExporter.access("in.lambda") == #"self["in"]["lambda"]"#, "Python keywords are keys")
        #expect(PyLiteral.dict([("a", .list([.int(1), .float(0.5)])), ("b", .none), ("c", .string("x\"y"))]).rendered()
                == "{\n    \"a\": [1, 0.5],\n    \"b\": None,\n    \"c\": \"x\\\"y\",\n}")
    }

    @Test func aLayerNamedLikeAModuleAttributeIsRefusedAndNothingIsWritten() throws {
        var builder = try GraphBuilder(inputShape: [4])
        try builder.add(try Dense(4, 3, generator: Generator(seed: 1)), name: "head.training")
        let model = builder.build(name: "odd", architecture: "test")
        let target = folder("refused")
        #expect(throws: PyTorchExporter.Refusal.self) { _ = try PyTorchProject(model: model, recipe: nil, dataset: nil, seed: 1, graftVersion: "t").write(to: target) }
        #expect(!FileManager.default.fileExists(atPath: target))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path).filter { $0.contains("graft-export-\(getpid())-refused") }
        #expect(leftovers.isEmpty, "no staging folder is left behind")

        // The same name on a layer without state is registered under another name (no state_dict key depends on it).
        var free = try GraphBuilder(inputShape: [4])
        try free.add(try Dense(4, 3, generator: Generator(seed: 1)), name: "fc")
        try free.add(Activation(.relu), name: "act.training")
        let source = try PyTorchExporter.source(free.build(name: "ok", architecture: "test"), header: "t")
        #expect(source.contains(#"put(self, "layer_act_training", nn.ReLU())  # graft's name: "act.training""#), "\(source)")
    }

    @Test func theExportIsTheRecipeTheDataAndGraftsRun() throws {
        let (shell, output) = makeShell(seed: 42)
        for line in ["new mnist-cnn as base classes=5", "data mnist digits=0-4 per-class=20 as low", "freeze conv1 conv2 dropout1", "head classes=5",
                     "train epochs=2 batch=16 lr=0.05 smoothing=0.1 clip=1 schedule=cosine warmup=1 val=0.2"] {
            let outcome = shell.execute(line)
            #expect(outcome.succeeded, "\(line): \(outcome.error?.message ?? "")")
        }
        let target = folder("recipe")
        defer { try? FileManager.default.removeItem(atPath: target) }
        _ = output.take()
        let outcome = shell.execute("export pytorch \(target)")
        #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
        let text = output.take()
        #expect(text.contains("exported base to \(target): model.py, weights.safetensors, initial.safetensors, train.py, graft_run.json, README.md, data/ (low: 80 train, 20 val, 500 test)"), "\(text)")
        #expect(text.contains("recipe: train epochs=2 batch=16 lr=0.05 smoothing=0.1 clip=1 schedule=cosine warmup=1 val=0.2 on low (1 phase)"))

        let train = try String(contentsOfFile: "\(target)/train.py", encoding: .utf8)
        for expected in [#""trainable": ["head.fc.weight", "head.fc.bias"]"#, #""label_smoothing": 0.1"#, #""clip_norm": 1.0"#, #""warmup_epochs": 1"#,
                         #""name": "cosine""#, #""batch_size": 16"#, #""lr": 0.05"#, #""seed": 42"#, #""train_mode": []"#, #""head": ["head.fc"]"#,
                         "from model import GraftModel", "DistributedDataParallel", "--deterministic"] {
            #expect(train.contains(expected), "train.py holds \(expected)")
        }
        // graft's run: each epoch's order over the 80 training samples, each step's loss.
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(target)/graft_run.json"))) as? [String: Any]
        let phase = (run?["phases"] as? [[String: Any]])?.first
        let orders = phase?["orders"] as? [[Int]] ?? []
        #expect(orders.count == 2 && orders.allSatisfy { $0.sorted() == Array(0..<80) })
        #expect((phase?["step_losses"] as? [Double])?.count == 10)
        // The data as graft holds it: bytes, 80 training images, labels as int64.
        let images = try NumPyArray(data: Data(contentsOf: URL(fileURLWithPath: "\(target)/data/train_x.npy")))
        #expect(images.shape == [80, 1, 28, 28] && images.dtype == .uint8)
        let labels = try NumPyArray(data: Data(contentsOf: URL(fileURLWithPath: "\(target)/data/train_y.npy")))
        #expect(labels.integers == shell.datasets["low"]?.train.labels)
        // The weights are graft's own file: they load back as the same model.
        #expect(shell.execute("load \(target)/weights.safetensors as back").succeeded)
        #expect(Digest.of(try shell.model()) == Digest.of(try #require(shell.models["base"])))

        // A second export replaces the first; a folder graft did not write is refused, untouched.
        #expect(shell.execute("use base").succeeded)
        #expect(shell.execute("export pytorch \(target) data=no").succeeded)
        #expect(!FileManager.default.fileExists(atPath: "\(target)/data"))
        let foreign = folder("foreign")
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: false)
        try Data("mine".utf8).write(to: URL(fileURLWithPath: "\(foreign)/notes.txt"))
        defer { try? FileManager.default.removeItem(atPath: foreign) }
        shell.mode = .interactive  // a replay would write beside it instead (NewUserTests)
        let refused = shell.execute("export pytorch \(foreign)")
        #expect(refused.error?.message.contains("holds files graft did not write") == true, "\(refused.error?.message ?? "")")
        #expect(try FileManager.default.contentsOfDirectory(atPath: foreign) == ["notes.txt"])
    }

    @Test func fineTuneExportsBothPhasesWithTheirTrainableSetsAndRates() throws {
        let (shell, _) = makeShell(seed: 3)
        for line in ["new mnist-cnn", "data mnist digits=0-4 per-class=10", "head classes=5", "fine-tune epochs=1 freeze-epochs=1 batch=25 unfreeze=conv2"] {
            #expect(shell.execute(line).succeeded, "\(line)")
        }
        let recipe = try #require(shell.recipes[shell.currentModel ?? ""])
        #expect(recipe.phases.count == 2)
        #expect(recipe.phases[0].trainable == ["head.fc.weight", "head.fc.bias"])
        #expect(Set(recipe.phases[1].trainable) == ["conv2.weight", "conv2.bias", "head.fc.weight", "head.fc.bias"])
        #expect(recipe.phases[1].options.backboneLearningRate != nil)
        let train = try PyTorchProject(model: try shell.model(), recipe: recipe, dataset: nil, seed: 3, graftVersion: "t").trainScript(recipe.phases)
        #expect(train.contains(#""name": "onecycle""#) && train.contains(#""name": "adam""#) && train.contains(#""backbone_lr": 0.0001"#), "\(train.prefix(3000))")
    }

    @Test func aFailedCommandKeepsTheRecipeItFound() throws {
        let (shell, _) = makeShell(seed: 5)
        for line in ["new mnist-cnn classes=5", "data mnist digits=0-4 per-class=10", "train epochs=1 batch=25"] { #expect(shell.execute(line).succeeded) }
        let before = shell.recipes.mapValues(\.command)
        #expect(!shell.execute("train epochs=1 batch=25 on=nothing").succeeded)
        #expect(shell.recipes.mapValues(\.command) == before)
    }
}
