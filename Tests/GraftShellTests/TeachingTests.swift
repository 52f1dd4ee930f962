import Foundation
import GraftFormats
@testable import GraftTraining
import Testing
@testable import GraftShell
@testable import GraftNN
import GraftTensor
import GraftData
import GraftModels

/// Issue 12: the teacher's commands — fine-tune, lr-find, top losses, the pictures.
@Suite("Teaching commands", .serialized)
struct TeachingTests {
    /// The digest of every BatchNorm buffer of the current model.
    func normStatistics(_ shell: Shell) throws -> [UInt64] {
        try shell.model().nodes.compactMap { $0.layer as? BatchNorm }.flatMap { $0.buffers.map { Digest.of($0.tensor) } }
    }

    @Test func fineTuneIsTheTwoPhaseRecipeStepByStep() throws {
        let setup = ["new mnist-cnn", "data mnist digits=0-4 per-class=20", "head classes=5"]
        let (shell, output) = makeShell(seed: 3)
        for line in setup { #expect(shell.execute(line).succeeded) }
        _ = output.take()
        let outcome = shell.execute("fine-tune epochs=2 freeze-epochs=1 batch=25")
        #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
        let text = output.take()
        #expect(text.contains("phase 1 of 2 — the head alone, the backbone frozen: 1 epoch at lr 0.002; trainable params 23,045 of 32,613"), "\(text)")
        #expect(text.contains("frozen: 4 tensors unchanged"))
        #expect(text.contains("phase 2 of 2 — unfrozen all: 2 epochs, head at lr 0.001, backbone at 0.0001; trainable params 32,613 of 32,613"))
        #expect(text.contains("moved: head 2 of 2 tensors (lr 0.001), backbone 4 of 4 (backbone-lr 0.0001)"))
        #expect(text.contains("── phase 2: backbone unfrozen"))
        #expect(outcome.figures.count == 2 && outcome.figures[0].hasPrefix("phase 1 epoch 1 loss ") && outcome.figures[1].hasPrefix("phase 2 epoch 2 loss "))
        #expect(shell.lastTraining.map(\.epoch) == [1, 2, 3])
        #expect(shell.session.entries.last?.line == "fine-tune epochs=2 freeze-epochs=1 batch=25")

        // The same thing by hand, from the same seed: the same weights, bit for bit.
        let (manual, _) = makeShell(seed: 3)
        for line in setup + ["freeze all", "unfreeze head", "train epochs=1 batch=25 lr=0.002 optimizer=adam schedule=onecycle", "unfreeze all",
                             "train epochs=2 batch=25 lr=0.001 backbone-lr=0.0001 optimizer=adam schedule=onecycle"] {
            #expect(manual.execute(line).succeeded, "\(line)")
        }
        #expect(Digest.of(try manual.model()) == Digest.of(try shell.model()))
        #expect(try shell.model().trainableParameterCount == 32_613, "phase 2's trainable set stays")
    }

    @Test func fineTuneUnfreezesWhatItIsToldAndKeepsPretrainedBatchNormInInference() throws {
        let (shell, output) = makeShell(seed: 4)
        for line in ["new resnet18 classes=3 input=3x28x28", "data mnist digits=0-2 per-class=8 channels=3", "freeze all", "head classes=3"] {
            #expect(shell.execute(line).succeeded, "\(line)")
        }
        let model = try shell.model()
        // Frozen before: these BatchNorm layers count as pretrained, and keep their statistics.
        let before = try normStatistics(shell)
        let layer1 = model.nodes.filter { $0.name.hasPrefix("layer1.") }.flatMap { $0.layer.parameters.map { Digest.of($0.parameter.value) } }
        _ = output.take()
        #expect(shell.execute("fine-tune epochs=1 freeze-epochs=1 batch=12 unfreeze=layer4").succeeded)
        let text = output.take()
        #expect(text.contains("phase 2 of 2 — unfrozen layer4:"), "\(text)")
        #expect(text.contains("BatchNorm: 5 of 5 unfrozen keep their running statistics"), "\(text)")
        #expect(try normStatistics(shell) == before, "pretrained BatchNorm keeps its running statistics")
        #expect(model.nodes.filter { $0.name.hasPrefix("layer1.") }.flatMap { $0.layer.parameters.map { Digest.of($0.parameter.value) } } == layer1)
        #expect(model.nodes.filter { $0.name.hasPrefix("layer4.") && !$0.layer.parameters.isEmpty }.allSatisfy { $0.layer.parameters.allSatisfy(\.parameter.trainable) })
        #expect(model.nodes.filter { $0.name.hasPrefix("layer3.") }.allSatisfy { $0.layer.parameters.allSatisfy { !$0.parameter.trainable } })

        // bn=train updates them; a fresh model's BatchNorm (never frozen) trains on batch statistics anyway.
        #expect(shell.execute("fine-tune epochs=1 freeze-epochs=0 batch=12 unfreeze=layer4 bn=train").succeeded)
        #expect(output.take().contains("BatchNorm: 0 of 5 unfrozen keep their running statistics"))
        let afterTrain = try normStatistics(shell)
        #expect(afterTrain != before)
        #expect(shell.execute("new resnet18 classes=3 input=3x28x28 as fresh").succeeded && shell.execute("head classes=3").succeeded)
        let fresh = try normStatistics(shell)
        #expect(shell.execute("fine-tune epochs=1 freeze-epochs=1 batch=12").succeeded)
        #expect(output.take().contains("BatchNorm: 0 of 20 unfrozen keep their running statistics"))
        #expect(try normStatistics(shell) != fresh)
    }

    @Test func fineTuneRefusesBadRequestsAndChangesNothing() throws {
        let (shell, output) = makeShell(seed: 5)
        for line in ["new mnist-cnn classes=5", "data mnist digits=0-4 per-class=10"] { #expect(shell.execute(line).succeeded) }
        #expect(shell.execute("fine-tune").error?.message == "fine-tune trains a new head, then the backbone; mnist-cnn has no head of its own: graft one first with 'head classes=N'")
        #expect(shell.execute("head classes=5").succeeded)
        let model = try shell.model()
        let digest = Digest.of(model), trainable = model.trainableParameterCount, entries = shell.session.entries.count
        let bad = shell.execute("fine-tune unfreeze=conv9")
        #expect(bad.error?.message == "unfreeze: no layer named 'conv9'; did you mean 'conv1'?")
        #expect(bad.error?.column == 10)
        #expect(shell.execute("fine-tune epochs=0").error != nil)
        #expect(shell.execute("fine-tune on=nothing").error?.message.hasPrefix("no dataset named 'nothing'") == true)
        // Ctrl-C in phase 2: the whole command is undone, phase 1 included.
        var polls = 0
        shell.interruptRequested = { output.text.contains("phase 2 of 2") && { polls += 1; return polls == 30 }() }
        let interrupted = shell.execute("fine-tune epochs=3 batch=10")
        shell.interruptRequested = { false }
        #expect(interrupted.error?.message.hasPrefix("fine-tune was interrupted in phase 2") == true, "\(interrupted.error?.message ?? "")")
        #expect(Digest.of(model) == digest && model.trainableParameterCount == trainable && shell.session.entries.count == entries)
        _ = output.take()
        #expect(shell.execute("help fine-tune").succeeded)
        #expect(output.take().contains("example: fine-tune epochs=3 freeze-epochs=1 lr=0.002 unfreeze=layer4"))
    }

    /// PyTorch (EfficientNet-Lite0), Keras (the FER net) and ONNX (PP-OCR's classifier) models.
    @Test(arguments: [("load Examples/models/efficientnet-lite0.pth input=3x32x32", "size=32 channels=3"),
                      ("load Examples/models/fer-emotion.h5", "size=48"),
                      ("load Examples/models/ppocr-cls.onnx", "size=48x192 channels=3")])
    func fineTuneWorksOnImportedModels(load: String, data: String) throws {
        let (shell, output) = makeShell(seed: 8)
        for line in [load + " as m", "data mnist digits=0-2 per-class=4 " + data, "head classes=3"] {
            #expect(shell.execute(line).succeeded, "\(line): \(output.take())")
        }
        let before = Digest.of(try shell.model())
        #expect(shell.execute("lr-find steps=12 batch=6").succeeded)
        #expect(Digest.of(try shell.model()) == before)
        #expect(shell.execute("top-losses 3").succeeded && shell.execute("most-confused").succeeded)
        let model = try shell.model()
        let spatial = try #require(model.lastSpatialNode)
        #expect(shell.execute("filters").succeeded && shell.execute("activations \(model.nodes[spatial].name) on=1 max=4").succeeded)
        #expect(shell.execute("cam 1").succeeded && shell.execute("cam 1 class=2").succeeded)
        #expect(Digest.of(model) == before)
        let compared = shell.execute("compare feature-extract fine-tune scratch epochs=1 batch=6")
        #expect(compared.succeeded && compared.figures.count == 3, "\(compared.error?.message ?? "")")
        #expect(shell.currentModel == "m" && Digest.of(model) == before)
        let outcome = shell.execute("fine-tune epochs=1 batch=6 unfreeze=last=2")
        #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
        #expect(Digest.of(try shell.model()) != before)
        let script = shell.session.script(seed: 8, threads: 2)
        let (replay, _) = makeShell(seed: 1)
        let report = ScriptRunner(shell: replay, verify: true, echo: false).run(text: script, name: "fine-tune.graft")
        #expect(report.succeeded && report.mismatched == 0 && report.identical >= 12, "\(report.summary)")
    }

    // MARK: lr-find

    @Test func lrFindChangesNothingAndFollowsFastaisRules() throws {
        let setup = ["new mnist-cnn", "data mnist digits=0-4 per-class=20", "head classes=5", "train epochs=1 batch=25"]
        let (shell, output) = makeShell(seed: 11)
        for line in setup { #expect(shell.execute(line).succeeded) }
        let model = try shell.model()
        let digest = Digest.of(model), generator = shell.generator.state
        _ = output.take()
        let outcome = shell.execute("lr-find steps=40 batch=10 optimizer=sgd")
        #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
        let text = output.take()
        #expect(Digest.of(model) == digest && shell.generator.state == generator)
        #expect(text.contains("lr-find: 40 steps at rates from 1e-07 to 10 (exponential), sgd (momentum 0.9), batch 10, on mnist (32,613 trainable params)"), "\(text)")
        #expect(text.contains("learning rate (log scale)") && text.contains("▲ steep "))
        #expect(text.contains("the weights, statistics and optimizer are as before (weights \(digest))"))
        let figure = try #require(outcome.figures.first)
        #expect(figure.firstMatch(of: /^steps \d+ steep_lr [0-9.e-]+ minimum\/10_lr [0-9.e-]+ min_loss \d\.\d{4}$/) != nil, "\(figure)")
        // The optimizer's state is kept too: the next train is the one it would have been.
        #expect(shell.execute("train epochs=1 batch=25").succeeded)
        let (plain, _) = makeShell(seed: 11)
        for line in setup + ["train epochs=1 batch=25"] { #expect(plain.execute(line).succeeded) }
        #expect(Digest.of(try plain.model()) == Digest.of(model))
        // Recorded, and replays to the same figures.
        let report = ScriptRunner(shell: makeShell(seed: 1).0, verify: true, echo: false).run(text: shell.session.script(seed: 11, threads: 2), name: "lr.graft")
        #expect(report.succeeded && report.identical == 3, "\(report.summary)")
    }

    @Test func lrFindRecordsTheRangeTestTheWayFastaiDoes() throws {
        let (shell, _) = makeShell(seed: 12)
        for line in ["new mnist-cnn", "data mnist digits=0-4 per-class=20", "head classes=5", "freeze all", "unfreeze head"] { #expect(shell.execute(line).succeeded) }
        let data = try shell.dataset()
        var o = LRFinderOptions()
        (o.start, o.end, o.steps, o.batchSize) = (1e-5, 1, 30, 10)
        o.optimizer = .sgd(momentum: 0, nesterov: false)
        let result = try #require(shell.trainer(for: "mnist-cnn")).findLearningRate(data, options: o, generator: shell.generator, log: RecordingTrainingLog())
        #expect(result.rates.count == 30 && result.stoppedEarly == nil)
        for (i, rate) in result.rates.enumerated() {
            let want = 1e-5 * pow(1e5, Double(i) / 29)
            #expect(abs(Double(rate) - want) <= want * 1e-5)
        }
        var average = 0.0
        for (i, loss) in result.losses.enumerated() {
            average = 0.98 * average + 0.02 * Double(loss)
            #expect(abs(Double(result.smoothed[i]) - average / (1 - pow(0.98, Double(i + 1)))) < 1e-5)
        }
        // Suggestions among steps [planned/10, taken − 5): the steepest slope against log(rate), and the minimum / 10.
        #expect(result.considered == 3..<25)
        let (rates, smoothed) = (result.rates, result.smoothed)
        func slope(_ i: Int) -> Float { (smoothed[i + 1] - smoothed[i]) / (log(rates[i + 1]) - log(rates[i])) }
        let slopes = (3..<24).map { (index: $0, slope: slope($0)) }
        #expect(result.steepest == result.rates[slopes.min { $0.slope < $1.slope }!.index])
        #expect(result.minimumTenth == result.rates[(3..<25).min { result.smoothed[$0] < result.smoothed[$1] }!] / 10)

        // A rate that reaches 1000 with plain SGD diverges: it stops once the smoothed loss passes 4× its minimum.
        (o.start, o.end, o.steps) = (1e-3, 1e4, 60)
        let diverged = try #require(shell.trainer(for: "mnist-cnn")).findLearningRate(data, options: o, generator: shell.generator, log: RecordingTrainingLog())
        let stop = try #require(diverged.stoppedEarly)
        #expect(diverged.rates.count < 60 && (stop.contains("passed 4× its minimum") || stop.contains("became")), "\(stop)")
        if stop.contains("passed") { #expect(diverged.smoothed.last! > 4 * diverged.smoothed.min()!) }
    }

    @Test func lrFindWritesItsPlotAndRefusesBadRequests() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-teach-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (shell, output) = makeShell(seed: 13)
        for line in ["new mnist-cnn", "data mnist digits=0-4 per-class=10", "head classes=5"] { #expect(shell.execute(line).succeeded) }
        var pictures: [(String, String, Data)] = []
        shell.pictureSink = { pictures.append(($0, $1, $2)) }
        #expect(shell.execute("lr-find steps=20 batch=10 save=\(folder.path)/lr.png").succeeded)
        let image = try Image.load(folder.appendingPathComponent("lr.png").path)
        #expect(image.width == 900 && image.height == 500 && image.channels == 3)
        #expect(image.pixels.contains { $0 < 0.5 }, "the plot is drawn, not blank")
        #expect(shell.execute("lr-find steps=20 batch=10 save=\(folder.path)/lr.svg").succeeded)
        let svg = try String(contentsOf: folder.appendingPathComponent("lr.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("learning rate (log scale)") && svg.contains("smoothed loss"))
        #expect(pictures.count == 2 && pictures.allSatisfy { $0.1 == "lr-find.svg" && String(decoding: $0.2, as: UTF8.self).hasPrefix("<svg") })

        let entries = shell.session.entries.count
        #expect(shell.execute("lr-find save=\(folder.path)/lr.jpg").error?.message == "save= takes a .png or .svg file name, got '\(folder.path)/lr.jpg'")
        #expect(shell.execute("lr-find save=/nonexistent/lr.png").error?.message == "save=/nonexistent/lr.png: no folder /nonexistent")
        #expect(shell.execute("lr-find start=0.1 end=0.01").error?.message == "end=0.01 must be above start=0.1")
        #expect(shell.execute("freeze all").succeeded)
        #expect(shell.execute("lr-find").error?.message == "lr-find: no trainable parameters; unfreeze some layers first (unfreeze last=1)")
        #expect(shell.execute("unfreeze all").succeeded)
        let digest = Digest.of(try shell.model())
        var polls = 0
        shell.interruptRequested = { polls += 1; return polls == 25 }
        #expect(shell.execute("lr-find steps=20 batch=10").error != nil)
        shell.interruptRequested = { false }
        #expect(Digest.of(try shell.model()) == digest && shell.session.entries.count == entries + 2)
        _ = output.take()
    }

    // MARK: top losses, most confused

    @Test func topLossesAreThePerSampleLossesSortedAndMostConfusedTheMatrix() throws {
        let (shell, output) = makeShell(seed: 21)
        for line in ["new mnist-cnn", "data mnist digits=0-4 per-class=20", "head classes=5", "train epochs=1 batch=20"] { #expect(shell.execute(line).succeeded) }
        let model = try shell.model(), data = try shell.dataset()
        let test = try #require(data.test)
        let result = try Evaluation.evaluate(model, test, normalization: data.normalization, classNames: data.classNames, batchSize: 7, keepSamples: true)
        #expect(result.samples.count == test.count && result.samples.map(\.index) == Array(0..<test.count))
        // The per-sample losses average to the batch cross-entropy; the probabilities agree with the loss.
        let mean = result.samples.reduce(0.0) { $0 + Double($1.loss) } / Double(test.count)
        #expect(abs(mean - Double(result.loss)) < 1e-4)
        for s in result.samples {
            #expect(abs(exp(-s.loss) - s.trueProbability) < 1e-5 && s.predictedProbability >= s.trueProbability - 1e-6)
            #expect((s.predicted == s.label) == (abs(s.predictedProbability - s.trueProbability) < 1e-6) || s.predictedProbability == s.trueProbability)
        }
        _ = output.take()
        let outcome = shell.execute("top-losses 4")
        #expect(outcome.succeeded)
        let worst = result.samples.sorted { ($0.loss, $1.index) > ($1.loss, $0.index) }.prefix(4)
        #expect(outcome.figures == ["top sample \(worst[0].index) loss \(String(format: "%.4f", worst[0].loss)) samples " + worst.map { String($0.index) }.joined(separator: ",")])
        let table = output.take()
        #expect(table.contains("top 4 losses on mnist test (\(test.count) samples; loss \(String(format: "%.4f", result.loss)) on average):"), "\(table)")
        #expect(table.contains(String(format: "%.4f", worst[3].loss)))

        let confused = shell.execute("most-confused min=2")
        #expect(confused.succeeded)
        var pairs: [(Int, Int, Int)] = []
        for t in 0..<5 { for p in 0..<5 where t != p && result.confusion[t][p] >= 2 { pairs.append((t, p, result.confusion[t][p])) } }
        pairs.sort { ($0.2, $1.0, $1.1) > ($1.2, $0.0, $0.1) }
        let wrong = test.count - (0..<5).reduce(0) { $0 + result.confusion[$1][$1] }
        #expect(confused.figures == ["misclassified \(wrong) pairs " + (pairs.isEmpty ? "none" : pairs.map { "\($0.0)>\($0.1):\($0.2)" }.joined(separator: ","))])
        let text = output.take()
        if let first = pairs.first { #expect(text.contains("\(first.0) → \(first.1)")) }
        // eval losses=K shows the same table.
        #expect(shell.execute("eval losses=4").succeeded)
        #expect(output.take().contains(table.split(separator: "\n")[2]))
        // Replays verified.
        let report = ScriptRunner(shell: makeShell(seed: 1).0, verify: true, echo: false).run(text: shell.session.script(seed: 21, threads: 2), name: "tl.graft")
        #expect(report.succeeded && report.mismatched == 0 && report.identical >= 4, "\(report.summary)")
    }

    @Test func topLossesDrawsAGridAndRefusesBadRequests() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-teach-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (shell, _) = makeShell(seed: 22)
        for line in ["new mnist-cnn classes=3", "data mnist digits=0-2 per-class=10"] { #expect(shell.execute(line).succeeded) }
        var pictures: [String] = []
        shell.pictureSink = { _, name, _ in pictures.append(name) }
        #expect(shell.execute("top-losses 7 columns=3 save=\(folder.path)/grid.png").succeeded)
        let grid = try Image.load(folder.appendingPathComponent("grid.png").path)
        // Three columns of 112-pixel images (28 × 4) in 124-pixel cells (or as wide as the title), three rows of 146 (two caption lines).
        #expect(grid.width >= 3 * 124 + 12 && grid.height == 3 * 146 + 40, "\(grid.width)×\(grid.height)")
        #expect(pictures == ["top-losses.png"])
        #expect(shell.execute("top-losses 0").error?.message == "top-losses K: K must be a whole number in 1–1000, got '0'")
        #expect(shell.execute("top-losses nine").error?.message == "top-losses K: K must be a whole number in 1–1000, got 'nine'")
        #expect(shell.execute("top-losses split=val").error?.message == "mnist has no val split (make one with train val=F)")
        #expect(shell.execute("top-losses save=\(folder.path)/grid.svg").error?.message == "save= takes a .png file name, got '\(folder.path)/grid.svg'")
        #expect(shell.execute("data mnist digits=0-4 per-class=3").succeeded)
        #expect(shell.execute("most-confused").error?.message == "mnist-cnn: dataset mnist has 5 classes (0, 1, 2, 3, 4), the model outputs 3 (0, 1, 2): graft a new head for them (head classes=5), or say classes=index to train and score label i as output i")
    }

    @Test func halfBlocksDrawTwoPixelsACell() throws {
        let image = Image(channels: 3, height: 2, width: 2, pixels: [1, 0, 0, 0, /* g */ 0, 1, 0, 0, /* b */ 0, 0, 1, 0])
        let lines = try Pictures.halfBlocks(image, width: 2)
        #expect(lines == ["\u{1B}[38;2;255;0;0m\u{1B}[48;2;0;0;255m▀\u{1B}[38;2;0;255;0m\u{1B}[48;2;0;0;0m▀\u{1B}[0m"])
    }

    // MARK: what the network sees

    /// Grad-CAM's channel weights are the mean gradient of the class logit over each feature map:
    /// checked against central differences of the rest of the network run from the perturbed maps.
    @Test func gradCAMWeightsAreTheMeanGradientByFiniteDifferences() throws {
        let (shell, _) = makeShell(seed: 31)
        for line in ["new mnist-cnn classes=4", "data mnist digits=0-3 per-class=10", "train epochs=1 batch=10"] { #expect(shell.execute(line).succeeded) }
        let model = try shell.model()
        let input = try CommandTable.modelInput(shell, "3", dataset: nil).batch
        let layer = try model.index(of: "pool")
        let cam = try model.gradCAM(input, at: layer, classIndex: 2)
        let features = try model.activations(input, at: layer)
        let (c, h, w) = (features.shape[1], features.shape[2], features.shape[3])
        func logit(_ maps: [Float]) throws -> Double {
            var values = [Tensor?](repeating: nil, count: model.nodes.count)
            values[layer] = try Tensor(shape: features.shape, scalars: maps)
            try withoutGradients { () throws(ModelError) in try model.run(&values, from: layer + 1, through: model.logitsNode, ForwardContext(training: false)) }
            return Double(try #require(values[model.logitsNode]).scalars[2])
        }
        let a = features.scalars
        let epsilon: Float = 1e-3
        for k in 0..<c {
            var plus = a, minus = a
            for i in 0..<(h * w) { plus[k * h * w + i] += epsilon; minus[k * h * w + i] -= epsilon }
            let numeric = (try logit(plus) - logit(minus)) / (2 * Double(epsilon) * Double(h * w))
            #expect(abs(numeric - Double(cam.weights[k])) <= 2e-3 * max(1, abs(numeric)), "channel \(k): \(numeric) vs \(cam.weights[k])")
        }
        for i in 0..<(h * w) {
            let sum = (0..<c).reduce(0.0) { $0 + Double(cam.weights[$1]) * Double(a[$1 * h * w + i]) }
            #expect(abs(Double(cam.values[i]) - max(sum, 0)) < 1e-4)
        }
        #expect(model.parameters.allSatisfy { $0.parameter.grad == nil }, "no parameter keeps a gradient")
    }

    /// On a vision transformer Grad-CAM weighs the tokens entering the last attention, read back
    /// onto the patch grid (the class token left out): each channel's weight is the mean gradient
    /// over the patch tokens, checked against central differences of the rest of the network.
    @Test func gradCAMOnAVisionTransformerReadsPatchTokensAsTheGrid() throws {
        let (shell, output) = makeShell(seed: 33)
        #expect(shell.execute("new vit_tiny_patch16_224 classes=4 input=3x64x64").succeeded)
        let model = try shell.model()
        let layer = try #require(model.defaultCAMNode)
        #expect(model.nodes[layer].name == "blocks.11.norm1")
        let grid = try #require(model.tokenGrid(at: layer, forInput: model.inputShape))
        #expect(grid.prefix == 1 && grid.height == 4 && grid.width == 4)
        #expect(model.tokenGrid(at: try model.index(of: "head"), forInput: model.inputShape) == nil)
        _ = output.take()
        #expect(shell.execute("cam Examples/images/chelsea.png class=3").succeeded)
        let shown = output.take()
        #expect(shown.hasPrefix("Grad-CAM of class 3 (p "), "\(shown)")
        #expect(shown.contains("through blocks.11.norm1 (192 maps of 4×4, its patch tokens read as the grid)"), "\(shown)")

        let input = try CommandTable.modelInput(shell, "Examples/images/chelsea.png", dataset: nil).batch
        let cam = try model.gradCAM(input, at: layer, classIndex: 3)
        let features = try model.activations(input, at: layer)
        let (tokens, c, patches) = (features.shape[1], features.shape[2], 16)
        #expect(tokens == 17 && cam.values.count == patches)
        func logit(_ values: [Float]) throws -> Double {
            var outputs = [Tensor?](repeating: nil, count: model.nodes.count)
            outputs[layer] = try Tensor(shape: features.shape, scalars: values)
            // The residual stream (the last block's input) is read after the norm too: kept as computed.
            let residual = try #require(model.nodes[layer].inputs.first)
            outputs[residual] = try model.activations(input, at: residual)
            try withoutGradients { () throws(ModelError) in try model.run(&outputs, from: layer + 1, through: model.logitsNode, ForwardContext(training: false)) }
            return Double(try #require(outputs[model.logitsNode]).scalars[3])
        }
        let a = features.scalars
        let epsilon: Float = 1e-2
        for k in stride(from: 0, to: c, by: 23) {
            var plus = a, minus = a
            for i in 1..<tokens { plus[i * c + k] += epsilon; minus[i * c + k] -= epsilon }
            let numeric = (try logit(plus) - logit(minus)) / (2 * Double(epsilon) * Double(patches))
            #expect(abs(numeric - Double(cam.weights[k])) <= 3e-2 * max(abs(numeric), 1e-4), "channel \(k): \(numeric) vs \(cam.weights[k])")
        }
        #expect(cam.weights.contains { abs($0) > 1e-4 })
        #expect(cam.values.allSatisfy { $0 > 1e-3 }, "this class's map is positive everywhere: \(cam.values)")
        for i in 0..<patches {
            let sum = (0..<c).reduce(0.0) { $0 + Double(cam.weights[$1]) * Double(a[(1 + i) * c + $1]) }
            #expect(abs(Double(cam.values[i]) - max(sum, 0)) < 1e-6, "position \(i)")
        }
    }

    @Test func filtersActivationsAndCAMDescribeWhatTheyShowAndRefuseWhatTheyCannot() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-teach-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (shell, output) = makeShell(seed: 32)
        for line in ["new mnist-cnn classes=4", "data mnist digits=0-3 per-class=10"] { #expect(shell.execute(line).succeeded) }
        let model = try shell.model()
        _ = output.take()
        #expect(shell.execute("filters save=\(folder.path)/f.png").succeeded)
        #expect(output.take().hasPrefix("conv1: 32 filters of 1×3×3; showing 32, each scaled from its minimum (dark) to its maximum (bright)"))
        let grid = try Image.load(folder.appendingPathComponent("f.png").path)
        #expect(grid.width == 16 * (48 + 12) + 12, "16 columns of 48-pixel kernels (3 × 16)")
        #expect(shell.execute("filters conv2 max=4").succeeded)
        #expect(output.take().hasPrefix("conv2: 32 filters of 32×3×3 (averaged over 32 input channels); showing 4"))
        #expect(shell.execute("filters fc1").error?.message == "'fc1' is a Linear, not a convolution; filters shows convolution kernels (here: conv1, conv2)")
        #expect(shell.execute("filters conv3").error?.message == "no layer named 'conv3'; did you mean 'conv1'?")

        let outcome = shell.execute("activations relu1 on=5 max=8 save=\(folder.path)/a.png")
        #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
        let maps = try model.activations(try CommandTable.modelInput(shell, "5", dataset: nil).batch, at: try model.index(of: "relu1"))
        let mean = maps.scalars.reduce(0, +) / Float(maps.count)
        #expect(outcome.figures.first?.hasPrefix("maps 32 mean \(String(format: "%.4f", mean)) silent ") == true, "\(outcome.figures)")
        #expect(try Image.load(folder.appendingPathComponent("a.png").path).width == 8 * (104 + 12) + 12, "26-pixel maps scaled 4×")
        #expect(shell.execute("activations fc1 on=5").error?.message.hasPrefix("'fc1' has output 128, not feature maps (channels × height × width); layers with them: conv1, relu1") == true)
        #expect(shell.execute("activations relu1 on=5000").error?.message.hasPrefix("sample 5000 is outside 0…") == true)

        let cam = shell.execute("cam 5 save=\(folder.path)/c.png")
        #expect(cam.succeeded, "\(cam.error?.message ?? "")")
        let text = output.take()
        #expect(text.contains("through dropout1 (32 maps of 12×12)"), "the default is the last layer with feature maps: \(text)")
        #expect(try Image.load(folder.appendingPathComponent("c.png").path).height > 224)
        #expect(shell.execute("cam 5 class=2 layer=conv2").succeeded)
        #expect(output.take().contains("Grad-CAM of class 2 (p "))
        #expect(shell.execute("cam 5 class=9").error?.message == "class=9 is outside 0…3")
        #expect(shell.execute("cam 5 class=cat").error?.message.hasPrefix("no class named 'cat'") == true)
        #expect(shell.execute("cam 5 layer=fc2").error?.message.hasPrefix("'fc2' has output 4; Grad-CAM needs a layer with feature maps") == true)
        #expect(shell.execute("cam 5 layer=nowhere").error?.message.hasPrefix("no layer named 'nowhere'") == true)
        #expect(shell.execute("cam /nonexistent.png").error != nil)
        #expect(model.parameters.allSatisfy { $0.parameter.grad == nil })
    }

    // MARK: compare

    @Test func compareRunsEachRecipeOnACopyFromOneSeedAndTablesIt() throws {
        let (shell, output) = makeShell(seed: 41)
        for line in ["new resnet18 classes=3 input=3x16x16", "data mnist digits=0-2 per-class=6 channels=3 size=16", "freeze all"] { #expect(shell.execute(line).succeeded) }
        let base = try shell.model()
        let digest = Digest.of(base)
        _ = output.take()
        let outcome = shell.execute("compare feature-extract fine-tune scratch bn-trap epochs=2 batch=6 per-class=4")
        #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
        let text = output.take()
        #expect(Digest.of(base) == digest && shell.currentModel == "resnet18", "the current model is unchanged")
        #expect(text.contains("recipe             trainable     time  cached  train acc  test acc  test loss"), "\(text)")
        #expect(text.contains("12 training samples"))
        #expect(outcome.figures.count == 4)
        for (figure, recipe) in zip(outcome.figures, ["feature-extract", "fine-tune", "scratch", "bn-trap"]) {
            #expect(figure.firstMatch(of: /^\S+ trainable \d+ train_accuracy \d\.\d{4} test_accuracy \d\.\d{4} test_loss \d+\.\d{4}$/) != nil && figure.hasPrefix(recipe + " "), "\(figure)")
            let model = try #require(shell.models["resnet18-\(recipe)"])
            let data = try shell.dataset()
            let test = try Evaluation.evaluate(model, try #require(data.test), normalization: model.normalization ?? data.normalization, classNames: data.classNames)
            #expect(figure.hasSuffix("test_accuracy \(String(format: "%.4f", test.accuracy)) test_loss \(String(format: "%.4f", test.loss))"), "the table's cells are the kept models' figures")
        }
        let extract = try #require(shell.models["resnet18-feature-extract"]), scratch = try #require(shell.models["resnet18-scratch"])
        #expect(extract.trainableParameterCount == 1_539 && outcome.figures[0].contains("trainable 1539 "))
        #expect(scratch.trainableParameterCount == scratch.parameterCount)
        // The frozen backbone of feature-extract is the base's, bit for bit; scratch's is not.
        let conv = { (m: Model) in Digest.of(m.nodes.first { $0.name == "conv1" }!.layer.parameters[0].parameter.value) }
        #expect(conv(extract) == conv(base) && conv(scratch) != conv(base))
        // bn-trap's BatchNorm updated its statistics; fine-tune's (frozen before: pretrained) kept them.
        let stats = { (m: Model) in m.buffers.map { Digest.of($0.tensor) } }
        #expect(stats(try #require(shell.models["resnet18-fine-tune"])) == stats(base))
        #expect(stats(try #require(shell.models["resnet18-bn-trap"])) != stats(base))

        // Recorded; a replay verifies every cell.
        let report = ScriptRunner(shell: makeShell(seed: 1).0, verify: true, echo: false).run(text: shell.session.script(seed: 41, threads: 2), name: "compare.graft")
        #expect(report.succeeded && report.identical == 4, "\(report.summary)")
        #expect(shell.execute("compare fine-tuning").error?.message == "unknown recipe 'fine-tuning'; did you mean 'fine-tune'? (recipes: feature-extract, fine-tune, scratch, bn-trap)")
    }

    @Test func theFeatureExtractRecipeIsTrainingTheNewHeadByHand() throws {
        let (shell, _) = makeShell(seed: 42)
        for line in ["new mnist-cnn classes=3", "data mnist digits=0-2 per-class=10"] { #expect(shell.execute(line).succeeded) }
        let base = try shell.model(), data = try shell.dataset()
        let recipe = try CommandTable.run(.featureExtract, base: base, data: data, epochs: 2, lr: 0.002, batch: 10, seed: 99, shell: shell)
        let generator = Generator(seed: 99)
        let manual = try ModelFiles.copy(base)
        _ = try manual.replaceHead(classes: 3, classNames: data.classNames, generator: generator)
        try manual.setTrainable(false, ["all"])
        try manual.setTrainable(true, ["head"])
        var o = TrainingOptions()
        (o.epochs, o.learningRate, o.batchSize, o.optimizer, o.schedule) = (2, 0.002, 10, .adamDefaults, .oneCycle)
        _ = try Trainer(model: manual).fit(data, options: o, generator: generator, log: RecordingTrainingLog())
        #expect(Digest.of(manual) == Digest.of(recipe.model))
    }

    // MARK: dry-run

    @Test func aDryRunMeasuresAndChangesNothing() throws {
        let setup = ["new mnist-cnn", "data mnist digits=0-4 per-class=20", "head classes=5", "freeze all", "unfreeze head"]
        let (shell, output) = makeShell(seed: 51)
        for line in setup { #expect(shell.execute(line).succeeded) }
        let model = try shell.model()
        let digest = Digest.of(model), entries = shell.session.entries.count, generator = shell.generator.state
        _ = output.take()
        #expect(shell.execute("train epochs=4 batch=25 optimizer=adam val=0.2 dry-run").succeeded)
        let text = output.take()
        #expect(text.contains("dry run of train epochs=4 batch=25 on mnist: 80 samples, 4 batches an epoch, 4 epochs; measured on a batch or two, nothing changed"), "\(text)")
        #expect(text.contains("features cached: yes — the prefix runs once ("))
        #expect(Digest.of(model) == digest && shell.generator.state == generator && shell.session.entries.count == entries)
        #expect(try shell.dataset().validation == nil, "the val= split is not kept by a dry run")
        // What it counted: the weights, the head's gradients and Adam's two moments, the cached features.
        let data = try shell.dataset()
        var o = TrainingOptions()
        (o.epochs, o.batchSize, o.optimizer) = (4, 25, .adamDefaults)
        let e = try #require(shell.trainer(for: "mnist-cnn")).estimate(data, options: o, generator: shell.generator)
        #expect(e.cached && e.frozenPrefix == 7 && e.batchesPerEpoch == 4 && e.samples == 100)
        #expect(e.weightBytes == model.parameterCount * 4 && e.gradientBytes == 23_045 * 4 && e.optimizerBytes == 2 * 23_045 * 4)
        #expect(e.cacheBytes == 4608 * 4 * 100 && e.frozenForwardPerSample > 0 && e.trainablePerSample > 0)
        #expect(abs(e.totalSeconds - (e.cacheSeconds + 4 * e.epochSeconds)) < 1e-9 && e.uncachedSeconds >= e.totalSeconds - e.cacheSeconds)
        // The next train is the one it would have been without the dry run.
        #expect(shell.execute("train epochs=1 batch=25").succeeded)
        let (plain, _) = makeShell(seed: 51)
        for line in setup + ["train epochs=1 batch=25"] { #expect(plain.execute(line).succeeded) }
        #expect(Digest.of(try plain.model()) == Digest.of(model))

        // fine-tune dry-run: each phase's trainable set, then the flags as they were.
        #expect(shell.execute("unfreeze all").succeeded)
        let trainable = model.trainableParameterCount
        _ = output.take()
        #expect(shell.execute("fine-tune epochs=2 batch=25 dry-run").succeeded)
        let phases = output.take()
        #expect(phases.contains("dry run of phase 1 (the head alone)") && phases.contains("dry run of phase 2 (unfrozen all)") && phases.contains("fine-tune in all: about "))
        #expect(phases.contains("features cached: no — "), "phase 2 trains the first layer: \(phases)")
        #expect(model.trainableParameterCount == trainable)
        #expect(shell.execute("freeze all").succeeded && shell.execute("train dry-run").error?.message == "train: no trainable parameters; unfreeze some layers first (unfreeze last=1)")
        // compare dry-run: a line per recipe, nothing kept, nothing recorded, the generator where it was.
        let (models, state, recorded) = (shell.models.count, shell.generator.state, shell.session.entries.count)
        _ = output.take()
        #expect(shell.execute("compare feature-extract fine-tune scratch bn-trap epochs=2 batch=25 dry-run").succeeded)
        let table = output.take()
        for recipe in ["feature-extract       23,045     yes", "fine-tune             32,613     yes", "scratch               32,613      no", "bn-trap               32,613     yes"] {
            #expect(table.contains(recipe), "\(recipe): \(table)")
        }
        #expect(shell.models.count == models && shell.generator.state == state && shell.session.entries.count == recorded)
    }
}
