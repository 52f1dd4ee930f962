import Foundation
import GraftFormats
@testable import GraftTraining
import Testing
@testable import GraftShell
@testable import GraftNN
import GraftTensor

/// Issue 9: what a new user hit in an hour — each case failed before the change.
@Suite("Trustworthy numbers and sessions", .serialized)
struct TrustworthyShellTests {
    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-trust-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// A command that trains, freezes, reseeds, splits and then fails: the shell must put everything back.
    static let sabotage = CommandSpec(["sabotage"], summary: "test only", example: "sabotage", recording: .stateChange) { shell, _ in
        let model = try shell.model()
        var o = TrainingOptions()
        o.epochs = 1
        o.batchSize = 16
        _ = try shell.trainer(for: shell.currentModel ?? "")?.fit(try shell.dataset(), options: o, generator: shell.generator, log: RecordingTrainingLog())
        try model.setTrainable(false, ["conv1"])
        try model.replaceHead(classes: 3, generator: shell.generator)
        var data = try shell.dataset()
        data.train = data.train.subset([0, 1])
        shell.datasets[shell.currentDataset ?? ""] = data
        throw ShellError("sabotaged")
    }

    @Test func aFailedCommandChangesNothing() throws {
        FileManager.default.changeCurrentDirectoryPath(repositoryRoot().path)
        let setup = ["seed 3", "new mnist-cnn classes=5", "data mnist digits=0-4 per-class=20", "train epochs=1 batch=16"]
        let after = ["train epochs=1 batch=16", "eval"]
        let witness = Shell(seed: 3, output: CapturedOutput(), commands: CommandTable.all + [Self.sabotage])
        let victim = Shell(seed: 3, output: CapturedOutput(), commands: CommandTable.all + [Self.sabotage])
        for line in setup { #expect(witness.execute(line).succeeded && victim.execute(line).succeeded) }
        let before = Digest.of(try victim.model()), nodes = try victim.model().nodes.count
        #expect(victim.execute("sabotage").error?.message == "sabotaged")
        let model = try victim.model()
        #expect(Digest.of(model) == before && model.trainableParameterCount == model.parameterCount && model.nodes.count == nodes)
        #expect(try victim.dataset().train.count == 100)
        #expect(victim.session.entries.map(\.line) == setup)
        // Optimizer moments and the generator are back too: the next commands give the same digits.
        for line in after { #expect(witness.execute(line).figures == victim.execute(line).figures) }
    }

    @Test func trainingWithALastBatchOfOneSucceedsAndIsRecorded() throws {
        let (shell, output) = makeShell(seed: 4)
        #expect(shell.execute("new resnet18 classes=4 input=3x32x32").succeeded)
        #expect(shell.execute("data mnist digits=0-3 per-class=9 size=32 channels=3").succeeded)
        let outcome = shell.execute("train batch=35 epochs=1")
        #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
        #expect(output.take().contains("dropping the last batch of each epoch: 36 samples in batches of 35 leave 1"))
        #expect(shell.session.entries.last?.line == "train batch=35 epochs=1")
    }

    /// Ctrl-C is polled between batches and between the layers of each batch's forward and backward
    /// passes: the P-th poll lands at a batch's end, or inside one (which is undone: BatchNorm
    /// statistics, dropout draws, gradients). Either way the session records the step reached and
    /// replays to the same weights — and the generator stands where the replay's does, so the
    /// commands after it agree too.
    @Test(arguments: [("mnist-cnn classes=3", 700), ("mnist-cnn classes=3", 333), ("resnet18 classes=3 input=3x28x28", 900),
                      ("resnet18 classes=3 input=3x28x28", 1_501)])
    func anInterruptedTrainIsRecordedSoThatItReplays(model: String, poll: Int) throws {
        let (shell, output) = makeShell(seed: 6)
        var polls = 0
        let setup = ["new \(model)", "data mnist digits=0-2 per-class=40" + (model.hasPrefix("resnet") ? " channels=3" : "")]
        for line in setup { #expect(shell.execute(line).succeeded) }
        shell.interruptRequested = { polls += 1; return polls == poll }
        let outcome = shell.execute("train epochs=4 batch=16 schedule=cosine")
        #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
        shell.interruptRequested = { false }
        let recorded = try #require(shell.session.entries.last?.line)
        let step = try #require(recorded.firstMatch(of: /^train epochs=4 batch=16 schedule=cosine steps=(\d+)$/)?.1)
        #expect(output.take().contains("interrupted after step \(step): the model keeps the weights reached; recorded as '\(recorded)'"))
        #expect(shell.execute("train epochs=1 batch=16").succeeded)
        let script = shell.session.script(seed: 6, threads: 2)
        let (replay, _) = makeShell(seed: 1)
        let report = ScriptRunner(shell: replay, verify: true, echo: false).run(text: script, name: "interrupted.graft")
        #expect(report.succeeded && report.identical == 2, "\(report.summary)")
        #expect(Digest.of(try replay.model()) == Digest.of(try shell.model()))
    }

    @Test func aTrainInterruptedInsideItsFirstBatchChangesNothing() throws {
        let (shell, _) = makeShell(seed: 6)
        let (witness, _) = makeShell(seed: 6)
        for line in ["new resnet18 classes=3 input=3x28x28", "data mnist digits=0-2 per-class=40 channels=3"] {
            #expect(shell.execute(line).succeeded && witness.execute(line).succeeded)
        }
        let before = Digest.of(try shell.model())
        var polls = 0
        shell.interruptRequested = { polls += 1; return polls == 40 }  // inside the first forward pass
        let outcome = shell.execute("train epochs=1 batch=16")
        #expect(outcome.error?.message == "interrupted while training (0 of 8); nothing changed")
        #expect(Digest.of(try shell.model()) == before && shell.session.entries.count == 2)
        shell.interruptRequested = { false }
        #expect(shell.execute("train epochs=1 batch=16").figures == witness.execute("train epochs=1 batch=16").figures)
    }

    @Test func ctrlCStopsAReplayAtTheCommandItCameDuring() throws {
        let (shell, output) = makeShell()
        var interrupted = false
        shell.interruptRequested = { interrupted }
        let text = "new mnist-cnn classes=3\nseed 5\nmodels\nsummary\n"
        var runner = ScriptRunner(shell: shell, echo: false)
        runner.didRun = { number, _, _ in if number == 2 { interrupted = true } }
        let report = runner.run(text: text, name: "long.graft")
        #expect(report.commands == 2 && !report.succeeded)
        #expect(report.failure == "long.graft:2: interrupted; the lines after it were not run")
        #expect(output.take().contains("long.graft:2: interrupted (Ctrl-C); the script stops here, the lines after it were not run"))
    }

    @Test func copyLeavesTheCurrentModelWhereItIs() throws {
        let (shell, output) = makeShell()
        #expect(shell.execute("new mnist-cnn as base classes=5").succeeded)
        #expect(shell.execute("copy base as fewshot").succeeded)
        #expect(shell.currentModel == "base")
        #expect(output.take().contains("fewshot: a copy of base (600,165 parameters); the current model is still base: 'use fewshot' to switch"))
    }

    @Test func messagesSayWhatIsWrong() throws {
        let (shell, output) = makeShell()
        #expect(shell.execute("load Examples/images/coffee.png").error?.message
                == "cannot load Examples/images/coffee.png: coffee.png is a PNG image, not a model file (load reads .safetensors, .pth/.pt, .h5, .keras, .onnx)")
        #expect(shell.execute("new mnist-cnn classes=4").succeeded)
        #expect(shell.execute("save model /nonexistent/dir/x.safetensors").error?.message
                == "cannot save /nonexistent/dir/x.safetensors: folder /nonexistent/dir does not exist (create it first)")
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent"))
        // A model without class names of its own shows the dataset's on both sides.
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (index, name) in ["ant", "bee", "cat", "dog"].enumerated() {
            let classFolder = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: classFolder, withIntermediateDirectories: true)
            for copy in 0..<2 {
                try FileManager.default.copyItem(atPath: repositoryRoot().appendingPathComponent("Tests/Fixtures/data/images/gray8.png").path,
                                                 toPath: classFolder.appendingPathComponent("\(index)-\(copy).png").path)
            }
        }
        #expect(shell.execute("data images \(folder.path) size=28 channels=1").succeeded)
        _ = output.take()
        #expect(shell.execute("predict 2 on=\(folder.lastPathComponent) top=4").succeeded)
        let shown = output.take()
        #expect(shown.contains("true class: bee"), "\(shown)")
        #expect(["ant", "bee", "cat", "dog"].allSatisfy { name in shown.contains("  \(name)  ") }, "\(shown)")
        // NaN in an input array is named with its index.
        var values = [Float](repeating: 0.5, count: 28 * 28)
        values[30] = .nan
        let npy = folder.appendingPathComponent("nan.npy").path
        try NumPyArray(shape: [1, 1, 28, 28], values: values).encoded().write(to: URL(fileURLWithPath: npy))
        #expect(shell.execute("predict \(npy)").error?.message == "\(npy) holds NaN at index [0, 0, 1, 2]; the model needs finite numbers")
    }

    @Test func theValidationSplitStaysWithTheDataset() throws {
        let (shell, output) = makeShell(seed: 8)
        for line in ["new mnist-cnn classes=3", "data mnist digits=0-2 per-class=20"] { #expect(shell.execute(line).succeeded) }
        #expect(shell.execute("train epochs=1 val=0.3 batch=16").succeeded)
        #expect(output.take().contains("mnist: held out 18 of 60 training samples for validation (val=0.3, stratified)"))
        let split = try #require(try shell.dataset().validation)
        #expect(shell.execute("eval split=val").succeeded)
        #expect(shell.execute("data info").succeeded)
        #expect(output.take().contains("val: 30 % of the training samples, held out by train val=0.3"))
        #expect(shell.execute("train epochs=1 val=0.3 batch=16 patience=2").succeeded)
        #expect(try shell.dataset().validation?.labels == split.labels && (try shell.dataset().train.count) == 42)
        #expect(!output.take().contains("held out"), "the same split is reused")
        // Too few samples: an error naming the counts, and nothing changes.
        #expect(shell.execute("data mnist digits=0-3 per-class=1 as tiny").succeeded)
        #expect(shell.execute("new mnist-cnn classes=4 as m4").succeeded)
        #expect(shell.execute("train val=0.5").error?.message == "train: dataset tiny has no training samples left (train 0, val 4); hold out a smaller val= or add samples")
        #expect(try shell.dataset().validation == nil, "the failed train left the dataset as it was")
    }

    @Test func aPretrainedBatchNormKeepsItsStatisticsWhenUnfrozen() throws {
        let (shell, output) = makeShell()
        #expect(shell.execute("load Examples/models/fer-emotion.h5 as fer").succeeded)
        #expect(shell.execute("freeze all").succeeded)
        _ = output.take()
        #expect(shell.execute("unfreeze conv2d_1 batch_normalization_1").succeeded)
        #expect(output.take().contains("BatchNorm: 1 layer keeps normalizing with its running statistics (mode infer; γ and β train); bn=train updates them"))
        #expect(shell.execute("summary layers=batch_normalization_1").succeeded)
        let summary = output.take()
        #expect(summary.contains("yes        infer"), "\(summary)")
        #expect(summary.contains("trainable BatchNorm keeping its statistics: 1 layer"))
        #expect(shell.execute("unfreeze batch_normalization_1 bn=train").succeeded)
        #expect(output.take().contains("BatchNorm: 1 layer trains on batch statistics (mode train)"))
        // The flags survive save and load.
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(shell.execute("unfreeze batch_normalization_2").succeeded)
        #expect(shell.execute("save model \(folder.path)/fer.safetensors").succeeded)
        #expect(shell.execute("load \(folder.path)/fer.safetensors as back").succeeded)
        let back = try shell.model()
        let modes = back.nodes.filter { $0.layer is BatchNorm }.prefix(2).map { $0.layer.mode(training: true) }
        #expect(modes == ["train", "infer"])
    }

    @Test func theDefaultCutFindsAFullyConvolutionalClassifier() throws {
        let (shell, output) = makeShell()
        #expect(shell.execute("load Examples/models/fer-emotion.h5 as fer").succeeded)
        _ = output.take()
        #expect(shell.execute("head classes=3").succeeded)
        let text = output.take()
        #expect(text.hasPrefix("cut after add_4\nremoved 3 layers: conv2d_7 (Conv2d), global_average_pooling2d_1 (GlobalAvgPool2d), predictions (Softmax)\n"), "\(text)")
        #expect(shell.execute("new mnist-cnn classes=5").succeeded && shell.execute("head classes=3").succeeded)
        #expect(output.take().contains("cut after flatten\nremoved 4 layers: fc1 (Linear), relu3 (ReLU), dropout2 (Dropout), fc2 (Linear)"))
    }

    @Test func completionGivesLinesTheParserAccepts() throws {
        let (shell, _) = makeShell()
        #expect(shell.execute("new mnist-cnn classes=5").succeeded && shell.execute("data mnist digits=0-4 per-class=5").succeeded)
        let completer = Completer(shell: shell)
        // libedit breaks words at '=': it must be handed only the part after it.
        let line = "train optimizer=ad"
        let words = completer.candidates(before: line).words
        #expect(Completer.insertions(words, line: line, libeditStart: line.count - 2) == ["adam", "adamw"])
        #expect(Completer.insertions(completer.candidates(before: "summary layers=co").words, line: "summary layers=co", libeditStart: 15) == ["conv1", "conv2"])
        #expect(completer.candidates(before: "use ").words == ["mnist-cnn", "mnist"])
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("dir with space"), withIntermediateDirectories: true)
        let typed = "data images \(folder.path)/dir"
        let candidates = completer.candidates(before: typed).words
        #expect(candidates == ["\"\(folder.path)/dir with space/\""])
        #expect(try shell.parser.parse("data images " + candidates[0])?.argument("dir") == "\(folder.path)/dir with space/")
        #expect(Completer.insertions(candidates, line: typed, libeditStart: 12) == candidates)
    }

    @Test func smallExpectations() throws {
        let (shell, output) = makeShell()
        #expect(shell.execute("new mnist-cnn classes=5").succeeded && shell.execute("data mnist digits=0-4 per-class=10").succeeded)
        _ = output.take()
        // quit at a terminal asks once; from a pipe it says how to save.
        shell.mode = .interactive
        #expect(shell.execute("quit").succeeded && !shell.quitRequested)
        #expect(output.take().contains("2 commands of this session are not saved: 'save session NAME' keeps them; 'quit' again leaves without saving"))
        #expect(shell.execute("quit").succeeded && shell.quitRequested)
        // models lists datasets; set shows the settings and is not recorded.
        #expect(shell.execute("models").succeeded && output.take().contains("datasets:\n * mnist: 5 classes, samples 1×28×28, train 50, test 500"))
        #expect(shell.execute("set").succeeded && output.take().hasPrefix("threads "))
        #expect(shell.session.entries.count == 2)
        #expect(shell.parser.commands.first { $0.name == "save model" }?.help.contains(".onnx") == true)
        // schedule=step takes PyTorch's step_size and gamma.
        #expect(shell.execute("train epochs=3 schedule=step step=2 gamma=0.5 lr=0.1").succeeded)
        #expect(shell.lastTraining.map(\.learningRate) == [0.1, 0.1, 0.05])
        #expect(shell.execute("train epochs=1 step=2").error?.message == "step= and gamma= belong to schedule=step")
        // Non-square sizes.
        #expect(shell.execute("data mnist digits=0-1 per-class=2 size=16x40 channels=3 as wide").succeeded)
        #expect(try shell.dataset().sampleShape == [3, 16, 40])
        // Augmentation with magnitudes and colour jitter.
        #expect(shell.execute("use mnist").succeeded)
        #expect(shell.execute("train epochs=1 augment=flip,crop=0.8,rotate=5,brightness=0.3,contrast=0.2,saturation=0.1").succeeded)
        #expect(shell.execute("train epochs=1 augment=hue").error?.message == "augment takes none, or flip, vflip, crop, rotate, shift, brightness, contrast, saturation; got 'hue'")
        #expect(shell.execute("train epochs=1 augment=none,flip").error?.message == "augment takes none, or flip, vflip, crop, rotate, shift, brightness, contrast, saturation; got 'none'")
    }
}
