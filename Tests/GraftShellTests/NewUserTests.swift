import Foundation
@testable import GraftTraining
import Testing
@testable import GraftShell
@testable import GraftNN
@testable import GraftFormats
import GraftModels
import GraftData

/// A folder of drawn shapes (a filled circle, square or triangle on a plain background, RGB PNGs):
/// what a new user brings to graft. `classes` are the subfolders; each holds `perClass` images.
func makeShapesFolder(_ root: URL, classes: [String] = ["circle", "square", "triangle"], perClass: Int = 6, size: Int = 32) throws {
    for (c, name) in classes.enumerated() {
        let folder = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for i in 0..<perClass {
            var pixels = [UInt8](repeating: 0, count: size * size * 3)
            let centre = Double(size) / 2 + Double(i % 3) - 1, radius = Double(size) * (0.25 + 0.03 * Double(i % 4))
            for y in 0..<size {
                for x in 0..<size {
                    let (dx, dy) = (Double(x) - centre, Double(y) - centre)
                    let inside: Bool
                    switch c % 3 {
                    case 0: inside = dx * dx + dy * dy <= radius * radius
                    case 1: inside = abs(dx) <= radius && abs(dy) <= radius
                    default: inside = dy <= radius && dy >= -radius && abs(dx) <= (dy + radius) / 2
                    }
                    let base = (y * size + x) * 3
                    let colour: [UInt8] = inside ? [UInt8(200 + 10 * (i % 5)), 60, UInt8(40 * c)] : [20, 30, UInt8(50 + 5 * i)]
                    for k in 0..<3 { pixels[base + k] = colour[k] }
                }
            }
            try PNGEncoder.encode(width: size, height: size, channels: 3, pixels: pixels)
                .write(to: folder.appendingPathComponent(String(format: "%@_%03d.png", name, i)))
        }
    }
}

func temporaryFolder(_ tag: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-\(tag)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// Runs `lines`, expecting each to succeed; a failure shows its line and error, not the whole outcome.
func run(_ shell: Shell, _ lines: String..., sourceLocation: SourceLocation = #_sourceLocation) {
    for line in lines {
        let outcome = shell.execute(line)
        #expect(outcome.succeeded, "\(line): \(outcome.error?.message ?? "")", sourceLocation: sourceLocation)
    }
}

/// Issue 24: what a new user hit in an afternoon. Each test failed before its fix.
@Suite("What a new user hit", .serialized)
struct NewUserTests {
    /// Item 4: a model is not trained or scored on a dataset with other classes, silently.
    @Test func datasetsWithOtherClassesAreRefusedByName() throws {
        let root = try temporaryFolder("classes")
        defer { try? FileManager.default.removeItem(at: root) }
        try makeShapesFolder(root.appendingPathComponent("shapes"))
        try makeShapesFolder(root.appendingPathComponent("mixed"), classes: ["a", "b"])
        try makeShapesFolder(root.appendingPathComponent("renamed"), classes: ["disc", "box", "wedge"])
        let (shell, _) = makeShell()
        run(shell, "new mnist-cnn classes=3 input=3x32x32", "data images \(root.path)/shapes size=32 split=0.34", "head", "train epochs=1 batch=6",
            "data images \(root.path)/mixed size=32 split=0.34")
        let entries = shell.session.entries.count
        let error = shell.execute("train epochs=1").error?.message
        #expect(error == "mnist-cnn: dataset mixed has 2 classes (a, b), the model outputs 3 (circle, square, triangle): graft a new head for them (head classes=2), or say classes=index to train and score label i as output i")
        for line in ["eval", "top-losses 3", "most-confused", "lr-find steps=3", "fine-tune epochs=1"] {
            #expect(shell.execute(line).error?.message == error, "\(line)")
        }
        #expect(shell.session.entries.count == entries)
        run(shell, "eval classes=index", "data images \(root.path)/renamed size=32 split=0.34")
        #expect(shell.execute("eval").error?.message == "mnist-cnn: dataset renamed has the classes box, disc, wedge, the model's are circle, square, triangle: graft a new head for them (head classes=3), or say classes=index to train and score label i as output i")
        run(shell, "train epochs=1 batch=6 classes=index", "predict 0")  // one sample is shown whatever its classes
        run(shell, "head", "train epochs=1 batch=6")
    }

    /// Item 5: a run whose loss grew by orders of magnitude says so, and `undo` goes back.
    @Test func divergenceIsNamedAndUndoGoesBack() throws {
        let (shell, output) = makeShell()
        run(shell, "new mnist-cnn classes=5", "data mnist digits=0-4 per-class=20", "train epochs=1 batch=20")
        let model = try #require(shell.models["mnist-cnn"])
        let trained = Digest.of(model), entries = shell.session.entries.map(\.line), generator = shell.generator.state
        _ = output.take()
        run(shell, "train epochs=3 lr=10 batch=10")
        let printed = output.take()
        #expect(printed.contains("warning: the loss grew from ") && printed.contains("'undo' puts the workspace back as before this run, 'lr-find' suggests a rate"), "\(printed)")
        #expect(Digest.of(model) != trained)
        run(shell, "undo")
        #expect(Digest.of(model) == trained && shell.generator.state == generator && shell.session.entries.map(\.line) == entries)
        #expect(output.take().contains("undone: train epochs=3 lr=10 batch=10"))
        // The same run again gives the same weights as the first time (the generator went back too).
        run(shell, "train epochs=3 lr=10 batch=10")
        let again = Digest.of(model)
        run(shell, "undo", "train epochs=3 lr=10 batch=10")
        #expect(Digest.of(model) == again)
        // undo N: a head, a freeze and a run, back to the trained model; a normal run gives no warning.
        run(shell, "undo", "head classes=5 hidden=8", "freeze conv1")
        _ = output.take()
        run(shell, "train epochs=1 batch=20")
        #expect(!output.take().contains("warning: the loss grew"))
        run(shell, "undo 3")
        #expect(Digest.of(model) == trained && model.trainableParameterCount == model.parameterCount && shell.session.entries.map(\.line) == entries)
        // Five commands are kept: the first one has gone.
        run(shell, "undo 2")
        #expect(shell.session.entries.map(\.line) == ["new mnist-cnn classes=5"] && shell.currentDataset == nil)
        #expect(shell.execute("undo").error?.message == "nothing more to undo: graft keeps the last 5 commands that changed the workspace")
        #expect(shell.execute("undo 9").error != nil)
        let (fresh, _) = makeShell()
        #expect(fresh.execute("undo").error?.message == "nothing to undo: no command has changed the workspace yet")
    }

    /// Item 8: the rate counts the whole run's time, caching included.
    @Test func theTrainingRateCountsTheWholeRun() throws {
        let (shell, output) = makeShell()
        run(shell, "new mnist-cnn classes=5", "data mnist digits=0-4 per-class=20", "freeze conv1 conv2")
        _ = output.take()
        run(shell, "train epochs=2 batch=20")
        let line = try #require(output.take().split(separator: "\n").first { $0.hasPrefix("trained 2 epochs in ") })
        let numbers = line.split(whereSeparator: { " ()".contains($0) }).compactMap { Double($0) }
        // trained 2 epochs in S s (caching C s + training T s) (R images/s)
        #expect(line.contains("caching"), "\(line)")
        let (seconds, rate) = (numbers[1], numbers[4])
        #expect(abs(rate * seconds - 200) <= 0.06 * 200 + rate * 0.006, "\(line)")
    }

    /// Item 3: a replay never destroys what it did not write: the same export is left as it is
    /// (with train.py's out/ beside it), a file with other bytes is kept and the new one goes beside it.
    @Test func replaysKeepFilesTheyDidNotWrite() throws {
        let root = try temporaryFolder("keep")
        defer { try? FileManager.default.removeItem(at: root) }
        let lines = ["new mnist-cnn classes=5", "data mnist digits=0-4 per-class=10", "train epochs=1 batch=25", "export pytorch export1", "save model m.safetensors"]
        let session = root.appendingPathComponent("s.graft")
        try (lines.joined(separator: "\n") + "\n").write(to: session, atomically: true, encoding: .utf8)
        let (first, _) = makeShell()
        run(first, "replay \(session.path)")
        let m = root.appendingPathComponent("m.safetensors"), out = root.appendingPathComponent("export1/out")
        // What train.py and the user did afterwards: a result inside the export, another model file as m.
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: root.appendingPathComponent("export1/weights.safetensors"), to: out.appendingPathComponent("weights.safetensors"))
        let (other, _) = makeShell()
        other.mode = .interactive  // at the prompt, save model replaces the file
        run(other, "new mnist-cnn classes=4", "save model \(m.path)")
        let theirs = try Data(contentsOf: m)
        try (lines + ["load export1/out/weights.safetensors as back", "load m.safetensors as again"]).joined(separator: "\n").write(to: session, atomically: true, encoding: .utf8)
        let (second, output) = makeShell()
        run(second, "replay \(session.path)")
        let printed = output.take()
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("weights.safetensors").path))
        #expect(try Data(contentsOf: m) == theirs)
        let beside = root.appendingPathComponent("m-2.safetensors")
        #expect(printed.contains("note: m.safetensors exists and this run did not write it, so it was kept; this run's is \(beside.path), beside it"), "\(printed)")
        let model = try #require(second.models["mnist-cnn"])
        #expect(Digest.of(try #require(second.models["again"])) == Digest.of(model))
        #expect(Digest.of(try #require(second.models["back"])) == Digest.of(model))
        // Replayed again, nothing new is written: the files this session wrote hold the same bytes.
        let (third, thirdOutput) = makeShell()
        run(third, "replay \(session.path)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("m-3.safetensors").path))
        _ = thirdOutput.take()
        // At the prompt, an export never removes a folder's other files.
        let (typing, _) = makeShell()
        typing.mode = .interactive
        run(typing, "new mnist-cnn classes=5")
        #expect(typing.execute("export pytorch \(root.path)/export1").error?.message
                == "export pytorch: \(root.path)/export1 holds files graft did not write (out); give a new or empty folder (nothing was written)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("weights.safetensors").path))
    }

    /// Item 7: the export holds the weights its recorded training started from, and `train.py`
    /// starts from them; the README says which file is which. A model changed since its training
    /// (a new head) exports only its present weights, and the README says why.
    @Test func theExportStartsWhereTheTrainingStarted() throws {
        let root = try temporaryFolder("initial")
        defer { try? FileManager.default.removeItem(at: root) }
        let (shell, _) = makeShell()
        run(shell, "new mnist-cnn classes=5", "data mnist digits=0-4 per-class=10", "head classes=5", "save model \(root.path)/start.safetensors",
            "fine-tune epochs=1 freeze-epochs=1 batch=25", "export pytorch \(root.path)/e")
        let trained = Digest.of(try #require(shell.models["mnist-cnn"]))
        run(shell, "load \(root.path)/e/initial.safetensors as initial", "load \(root.path)/start.safetensors as start", "load \(root.path)/e/weights.safetensors as final")
        let (initial, start, final) = (try #require(shell.models["initial"]), try #require(shell.models["start"]), try #require(shell.models["final"]))
        #expect(Digest.of(initial) == Digest.of(start))
        #expect(Digest.of(final) == trained && trained != Digest.of(start))
        let readme = try String(contentsOf: root.appendingPathComponent("e/README.md"), encoding: .utf8)
        #expect(readme.contains("| `initial.safetensors` | the weights the recorded training started from: `train.py` starts from these"), "\(readme)")
        #expect(readme.contains("\n| `train.py` |") && readme.contains("`--weights weights.safetensors` trains on from where graft ended"))
        let script = try String(contentsOf: root.appendingPathComponent("e/train.py"), encoding: .utf8)
        #expect(script.contains(#"initial = os.path.join(HERE, "initial.safetensors")"#))
        // A new head since: the trained parameters are gone, so only the present weights go out.
        run(shell, "use mnist-cnn", "head classes=3", "export pytorch \(root.path)/after")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("after/initial.safetensors").path))
        let after = try String(contentsOf: root.appendingPathComponent("after/README.md"), encoding: .utf8)
        #expect(after.contains("the model changed after its recorded training") && !after.contains("initial.safetensors"), "\(after)")
    }

    /// Item 9: no two labels of a picture overlap or run off it: the confusion matrix of the shapes
    /// (whose headers were drawn over each other), one of 40 long class names (numbered columns), the
    /// lr-find chart with its marks, a grid of top-losses captions.
    @Test func picturesKeepTheirLabelsApart() throws {
        func check(_ canvas: Canvas, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(canvas.overlappingLabels.isEmpty, "\(what): \(canvas.overlappingLabels)", sourceLocation: sourceLocation)
            #expect(canvas.clippedLabels.isEmpty, "\(what): \(canvas.clippedLabels)", sourceLocation: sourceLocation)
        }
        let shapes = Pictures.confusion([[5, 1, 0], [0, 6, 0], [2, 0, 4]], names: ["circle", "square", "triangle"], title: "resnet18 on shapes test: confusion matrix")
        check(shapes, "shapes")
        #expect(shapes.labels.contains { $0.text == "triangle" && $0.y == 52 })
        let names = (0..<40).map { "class_with_a_long_name_\($0)" }
        let many = Pictures.confusion((0..<40).map { r in (0..<40).map { $0 == r ? 120 : ($0 + r) % 7 } }, names: names, title: "forty classes")
        check(many, "forty classes")
        #expect(many.width <= 1700 && many.labels.contains { $0.text == "40" } && many.labels.contains { $0.text == "class_…_name_0 1" })
        let rates = (0..<100).map { 1e-7 * pow(10, Double($0) * log10(3.79 / 1e-7) / 99) }
        let chart = LineChart(title: "resnet18 on shapes: learning-rate range test", xTitle: "learning rate (log scale)", yTitle: "loss (smoothed)",
                              series: [.init(name: "smoothed loss", colour: "#d62728", points: rates.map { (x: $0, y: 1 + 1e3 * $0) })],
                              logX: true, marks: [.init(x: 1e-3, label: "steep 0.001"), .init(x: 3e-2, label: "minimum/10 0.03")])
        check(chart.canvas(), "lr-find")
        let tiles = (0..<10).map { i in
            Pictures.Tile(image: Image(channels: 3, height: 32, width: 32, pixels: [Float](repeating: 0.5, count: 3 * 32 * 32)),
                          caption: ["triangle_00\(i).png", "square / triangle", "loss 1.23 p 0.66"])
        }
        check(try Pictures.grid(tiles, columns: 5, title: "top 10 losses on shapes test: predicted / true, loss, probability"), "top-losses")
    }

    /// Items 11 and 12: samples made from image files are named by their files (top-losses'
    /// table, captions and terminal strip, most-confused, predict N), captions are not cut short.
    @Test func samplesAreNamedByTheirFiles() throws {
        let root = try temporaryFolder("files")
        defer { try? FileManager.default.removeItem(at: root) }
        try makeShapesFolder(root.appendingPathComponent("shapes"))
        let (shell, output) = makeShell()
        run(shell, "new mnist-cnn classes=3 input=3x32x32", "data images \(root.path)/shapes size=32 split=0.5", "train epochs=1 batch=6")
        let data = try shell.dataset()
        let test = try #require(data.test)
        #expect(test.sources?.count == test.count && data.train.sources?.count == data.train.count)
        #expect(Set((test.sources ?? []) + (data.train.sources ?? [])).count == 18 && test.source(0)?.hasPrefix("circle/circle_") == true)
        _ = output.take()
        run(shell, "predict 1")
        #expect(output.take().hasPrefix("sample 1 of shapes: \(test.source(1) ?? "?")\n"))
        run(shell, "top-losses 4")
        let table = output.take()
        #expect(table.contains("p(true)  file\n") && (0..<test.count).contains { table.contains("  " + (test.source($0) ?? "?") + "\n") }, "\(table)")
        run(shell, "most-confused")
        let confused = output.take()
        let pairs = confused.split(separator: "\n").filter { $0.contains(" → ") && !$0.hasPrefix("true") }
        #expect(!pairs.isEmpty && pairs.allSatisfy { $0.contains(".png") }, "\(confused)")
        // The terminal strip's captions are whole (they were cut at 16 characters: "#30: square / tr").
        let tile = Pictures.Tile(image: test.image(0), caption: ["triangle_004.png", "square / triangle", "loss 1.23 p 0.66"])
        let strip = try Pictures.terminalStrip([tile, tile])
        #expect(strip.contains("square / triangle  square / triangle") && strip.contains("triangle_004.png"), "\(strip)")
        #expect(Terminal.fitted("a_very_long_file_name_0042.png", width: 16) == "a_very_…0042.png" && Terminal.fitted("short.png", width: 16) == "short.png")
    }

    /// Item 11: Ctrl-C during `compare` keeps the recipes that finished and says which did not run;
    /// the session records the command with those alone, which replays to the same figures.
    @Test func ctrlCInCompareKeepsTheRecipesThatFinished() throws {
        let (shell, output) = makeShell()
        run(shell, "new mnist-cnn classes=5", "data mnist digits=0-4 per-class=10")
        shell.interruptRequested = { output.text.contains("── fine-tune") }
        let outcome = shell.execute("compare epochs=1 batch=25")
        #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
        #expect(output.text.contains("interrupted in fine-tune: kept what finished (feature-extract); not run: fine-tune, scratch"), "\(output.text)")
        #expect(shell.models["mnist-cnn-feature-extract"] != nil && shell.models["mnist-cnn-fine-tune"] == nil && shell.currentModel == "mnist-cnn")
        #expect(shell.session.entries.last?.line == "compare feature-extract epochs=1 batch=25")
        let (again, _) = makeShell()
        run(again, "new mnist-cnn classes=5", "data mnist digits=0-4 per-class=10")
        #expect(again.execute("compare feature-extract epochs=1 batch=25").figures == outcome.figures && !outcome.figures.isEmpty)
        // Interrupted in its first recipe, nothing finished: nothing changes.
        let (first, firstOutput) = makeShell()
        run(first, "new mnist-cnn classes=5", "data mnist digits=0-4 per-class=10")
        first.interruptRequested = { firstOutput.text.contains("── feature-extract") }
        #expect(first.execute("compare epochs=1 batch=25").error != nil && first.models.count == 1)
    }

    /// Item 11: one rule for the cell number: a line that does not parse takes a cell as a failing
    /// command does (the prompt showed the same number again after a parse error).
    @Test func everyLineRunTakesACell() {
        let (shell, _) = makeShell()
        run(shell, "new mnist-cnn")
        #expect(shell.cell == 1)
        #expect(shell.execute("train epochs=").error != nil && shell.cell == 2)        // does not parse
        #expect(shell.execute("freeze nothing_here").error != nil && shell.cell == 3)  // parses, fails
        #expect(shell.execute("# a comment").succeeded && shell.execute("   ").succeeded && shell.cell == 3)
    }

    /// Item 6: a session's relative paths are its own folder's, from wherever it is replayed, and
    /// `save session` writes them relative to where the session goes.
    @Test func sessionPathsAreTheSessionsFolders() throws {
        let root = try temporaryFolder("paths")
        defer { try? FileManager.default.removeItem(at: root) }
        try makeShapesFolder(root.appendingPathComponent("shapes"))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sessions"), withIntermediateDirectories: true)
        let (shell, _) = makeShell()
        FileManager.default.changeCurrentDirectoryPath(root.path)
        defer { FileManager.default.changeCurrentDirectoryPath(repositoryRoot().path) }
        run(shell, "new mnist-cnn classes=3 input=3x32x32", "data images shapes size=32 split=0.34", "train epochs=1 batch=6",
            "save model shapes.safetensors", "predict shapes/circle/circle_001.png top=1", "save session sessions/s.graft")
        let text = try String(contentsOf: root.appendingPathComponent("sessions/s.graft"), encoding: .utf8)
        #expect(text.contains("\ndata images ../shapes size=32 split=0.34\n") && text.contains("\nsave model ../shapes.safetensors\n")
                && text.contains("\npredict ../shapes/circle/circle_001.png top=1\n"), "\(text)")
        FileManager.default.changeCurrentDirectoryPath(repositoryRoot().path)
        let (replayed, output) = makeShell()
        run(replayed, "replay \(root.path)/sessions/s.graft verify")
        #expect(output.take().contains("figures: "))
        // Paths with spaces and quotes are written as tokens that read back.
        #expect(Lexer.quoted("my \"photos\"/a b.png") == #""my \"photos\"/a b.png""#)
        #expect(try Lexer.tokens(Lexer.quoted("my \"photos\"/a\\b c.png")!).first?.word == "my \"photos\"/a\\b c.png")
        #expect(Lexer.quoted("bad\nname") == nil)
        #expect(Shell.relativePath("/a/b/c.png", from: "/a/d") == "../b/c.png" && Shell.relativePath("/a/b", from: "/a/b") == ".")
    }

    /// Item 1: a model trained on images at a size takes image files as its training data was made
    /// (size, crop, 8-bit pixels, normalization): `predict FILE` sees what `predict N` sees, and the
    /// size is in `summary`, `load`, the saved file and the ONNX export.
    @Test func trainingSetsTheModelsPreprocessing() throws {
        let root = try temporaryFolder("size")
        defer { try? FileManager.default.removeItem(at: root) }
        try makeShapesFolder(root.appendingPathComponent("shapes"), size: 40)
        let (shell, output) = makeShell()
        run(shell, "new resnet18 classes=3", "data images \(root.path)/shapes size=32")
        _ = output.take()
        run(shell, "train epochs=1 batch=6")
        #expect(output.take().contains("preprocessing: resnet18 now takes 3×32×32 (it was 3×224×224): image files are RGB, shorter side to 32, central 32×32, 8-bit, normalized imagenet, as the samples of shapes were"))
        // undo puts the input size back with the weights.
        run(shell, "undo")
        #expect(shell.models["resnet18"]?.inputShape == [3, 224, 224] && shell.models["resnet18"]?.preprocessing == nil)
        run(shell, "train epochs=1 batch=6")
        // Sample 2 of the training split is circle_002.png: the same logits, bit for bit.
        run(shell, "predict 2 save=\(root.path)/a.npy", "predict \(root.path)/shapes/circle/circle_002.png save=\(root.path)/b.npy")
        #expect(try Data(contentsOf: root.appendingPathComponent("a.npy")) == Data(contentsOf: root.appendingPathComponent("b.npy")))
        _ = output.take()
        run(shell, "cam \(root.path)/shapes/circle/circle_002.png", "cam 2")
        let maps = output.take().split(separator: "\n").filter { $0.hasPrefix("Grad-CAM") }.map { $0.split(separator: "(").last ?? "" }
        #expect(maps.count == 2 && maps[0] == maps[1], "\(maps)")
        run(shell, "summary", "save model \(root.path)/r.safetensors", "save model \(root.path)/r.onnx")
        #expect(output.take().contains("preprocessing: image files RGB, shorter side to 32, central 32×32, 8-bit (its training data's); normalization imagenet"))
        run(shell, "load \(root.path)/r.safetensors as back", "load \(root.path)/r.onnx as exported")
        #expect(output.take().contains("back: preprocessing: image files RGB, shorter side to 32, central 32×32, 8-bit (its training data's); normalization imagenet"))
        #expect(shell.models["back"]?.preprocessing == shell.models["resnet18"]?.preprocessing && shell.models["back"]?.inputShape == [3, 32, 32])
        // The ONNX export carries the preprocessing and normalization too (graft's metadata).
        let exported = try #require(shell.models["exported"])
        #expect(exported.inputShape == [3, 32, 32] && exported.preprocessing == shell.models["resnet18"]?.preprocessing && exported.normalization == .imagenet)
    }

    /// Item 10: errors that carry the help a user needs.
    @Test func errorsSayWhatToDoInstead() throws {
        let root = try temporaryFolder("help")
        defer { try? FileManager.default.removeItem(at: root) }
        let (shell, _) = makeShell()
        run(shell, "new mnist-cnn classes=3", "save model \(root.path)/r18.safetensors")
        #expect(shell.execute("load \(root.path)/r19.safetensors").error?.message == "cannot load \(root.path)/r19.safetensors: no such file; did you mean '\(root.path)/r18.safetensors'?")
        try makeShapesFolder(root.appendingPathComponent("shapes"))
        #expect(shell.execute("data images \(root.path)/shape").error?.message == "cannot read \(root.path)/shape: no such folder; did you mean '\(root.path)/shapes'?")
        #expect(shell.execute("train learning_rate=0.01").error?.message.hasPrefix("unknown option 'learning_rate' for 'train'; did you mean 'lr='?") == true)
        #expect(shell.execute("train batch_size=8").error?.message.hasPrefix("unknown option 'batch_size' for 'train'; did you mean 'batch='?") == true)
        #expect(shell.execute("new mobilevit_s").error?.message
                == "architecture: 'mobilevit_s' is not a built-in architecture ('models' lists the \(Architecture.allCases.count); closest: mobilenetv2, mobilenet_v3_large, mobilenet_v3_small, mobilenetv3_large_100); a checkpoint of it loads with 'load FILE'")
        #expect(shell.execute("new swin_l").error?.message == "architecture: unknown 'swin_l'; did you mean 'swin_t'?")
        // backbone and head are selectors: before a head is grafted (after the last pooling), and after.
        run(shell, "freeze backbone")
        let model = try shell.model()
        #expect(model.parameters.filter { $0.parameter.trainable }.map(\.key).allSatisfy { $0.hasPrefix("fc") } && model.trainableParameterCount < model.parameterCount)
        run(shell, "unfreeze all", "head classes=3 hidden=8", "freeze head")
        #expect(model.nodes.filter(\.isHead).allSatisfy { $0.layer.parameters.allSatisfy { !$0.parameter.trainable } })
        #expect(model.nodes.filter { !$0.isHead }.allSatisfy { $0.layer.parameters.allSatisfy(\.parameter.trainable) })
        // A whole pickled model: how to save its weights instead.
        var pickled = PickleMachine(bytes: [0x80, 0x02, 0x63] + Array("torchvision.models.resnet\nResNet\n".utf8) + [0x2e], source: "whole.pth", file: "whole.pth")
        do { _ = try pickled.load { $0 }; Issue.record("a pickled class loaded") } catch {
            #expect("\(error)".contains("save them with torch.save(model.state_dict(), 'model.pth')"), "\(error)")
        }
    }

    /// Items 12, 11 and 8: `predict FOLDER` with file names and a CSV; a class with one image is
    /// named when the data loads; a model without class names says how to give them.
    @Test func predictAFolderAndWarnAboutTinyClasses() throws {
        let root = try temporaryFolder("folder")
        defer { try? FileManager.default.removeItem(at: root) }
        try makeShapesFolder(root.appendingPathComponent("shapes"), perClass: 4)
        try makeShapesFolder(root.appendingPathComponent("tiny"), classes: ["many", "onlyone"], perClass: 1)
        let (shell, output) = makeShell()
        run(shell, "new mnist-cnn classes=3 input=3x32x32", "data images \(root.path)/shapes size=32", "train epochs=1 batch=6")
        _ = output.take()
        run(shell, "predict \(root.path)/shapes save=\(root.path)/preds.csv")
        let printed = output.take()
        #expect(printed.contains("circle/circle_000.png  ") && printed.contains("triangle/triangle_003.png  ") && printed.contains("12 images: "), "\(printed)")
        let csv = try String(contentsOf: root.appendingPathComponent("preds.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 13 && csv[0] == "file,circle,square,triangle" && csv[1].hasPrefix("circle/circle_000.png,"))
        // Sample 0 and the first file agree (the same preprocessing).
        let first = try #require(Double(csv[1].split(separator: ",")[1]))
        let outcome = shell.execute("predict 0 top=3")
        #expect(outcome.figures.first?.hasPrefix("top ") == true)
        #expect(first >= 0 && first <= 1)
        #expect(shell.execute("predict \(root.path)/shapes save=\(root.path)/p.npy").error?.message.contains("give a .csv file name") == true)
        #expect(CSV.field("a,b") == "\"a,b\"" && CSV.field("say \"hi\"") == "\"say \"\"hi\"\"\"" && CSV.field("=cmd()") == "'=cmd()" && CSV.field("x\u{7}y") == "x?y"
                && CSV.field("two\nlines") == "\"two\nlines\"" && CSV.field("`tick`") == "`tick`")
        #expect(Terminal.visible("a\u{1B}[2Jb\rc\u{202E}d") == #"a\x1b[2Jb\x0dc\u202ed"# && Terminal.visible("naïve ✓") == "naïve ✓")
        run(shell, "data images \(root.path)/tiny size=32")
        #expect(output.take().contains("warning: class onlyone has 1 training image: too few to learn it"))
        run(shell, "new mnist-cnn as plain classes=3 input=3x32x32", "data images \(root.path)/shapes size=32 as shapes2")
        _ = output.take()
        run(shell, "predict \(root.path)/shapes/circle/circle_000.png on=tiny")
        #expect(output.take().contains("the model carries no class names, so classes show as numbers: load it with labels=NAME,NAME,… to name its 3 outputs"))
    }

    /// Item 9 (part): the lr-find chart's log axis is labelled up to where the run went (3.79: 1e0).
    @Test func aLogAxisIsLabelledToItsEnd() {
        let ticks = LineChart.ticks(log10(1e-7)...log10(3.79), log: true, count: 5)
        #expect(ticks.last == 0 && ticks.first.map { $0 >= -7 } == true && ticks.count <= 6, "\(ticks)")
        #expect(LineChart.ticks(-7...(-2), log: true, count: 5).last == -2)
    }
}
