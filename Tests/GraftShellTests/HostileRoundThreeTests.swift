import Foundation
import Testing
@testable import GraftShell
@testable import GraftNN
@testable import GraftFormats
@testable import GraftModels
import GraftData
import GraftTensor

/// Issue 25, from the shell: layers declared too big to build are refused within the memory limit,
/// the workspace has a ceiling, names reach the terminal and transcripts escaped, and the whole
/// malformed corpus is refused by a process whose address space is capped.
@Suite("Hostile input, round three", .serialized)
struct HostileRoundThreeTests {
    static let corpus = repositoryRoot().appendingPathComponent("Tests/Fixtures/malformed").path

    /// Graph descriptions that declare giants (a Dense of 2³¹ × 2, of 2⁶³−1 units, of 10⁹; a BatchNorm
    /// of 10⁹ channels) are refused, by size or by the memory limit, before anything is allocated.
    @Test func declaredGiantsAreRefusedWithinTheMemoryLimit() throws {
        let (shell, _) = makeShell()
        run(shell, "set memory=2")
        let cases = [
            ("st_dense_2g.safetensors", "memory limit of 2.0 GB"), ("st_dense_intmax.safetensors", "features must be 1…2147483648"),
            ("st_dense_1e9.safetensors", "memory limit of 2.0 GB"), ("st_batchnorm_1e9.safetensors", "memory limit of 2.0 GB"),
        ]
        for (file, reason) in cases {
            let error = shell.execute("load \(Self.corpus)/\(file)").error?.message ?? "loaded"
            #expect(error.contains(reason), "\(file): \(error)")
        }
        #expect(shell.models.isEmpty)
    }

    /// The workspace has a ceiling: models are added until the limit, then refused by name, saying
    /// what holds the memory; `models` shows each model's size.
    @Test func theWorkspaceHasACeiling() throws {
        let (shell, output) = makeShell()
        run(shell, "set memory=1")
        var refusal: String? = nil
        for n in 0..<60 {
            let outcome = shell.execute("new resnet18 as r\(n)")
            if let error = outcome.error { refusal = error.message; break }
        }
        let message = try #require(refusal)
        #expect(message.contains("more than the memory limit of 1.0 GB") && message.contains("the workspace holds models ") && message.contains("the largest r"), "\(message)")
        #expect(shell.workspace.total <= 1_000_000_000)
        _ = output.take()
        run(shell, "models")
        let listing = output.take()
        #expect(listing.contains("classes, 47 MB") && listing.contains("memory: "), "\(listing)")
    }

    /// Names with every C0 control, DEL, C1 controls, bidi overrides and newlines reach the terminal
    /// escaped: through summary, models, data info, eval's confusion matrix, top-losses, history.
    @Test func namesReachTheTerminalEscaped() throws {
        let hostile = (0..<32).map { "c\(String(UnicodeScalar(UInt8($0))))" } + ["del\u{7F}", "csi\u{9B}2J", "bidi\u{202E}txt", "nl\nfake row", "title\u{1B}]0;T\u{7}"]
        var builder = try GraphBuilder(inputShape: [4])
        try builder.add(try Dense(4, 6, generator: Generator(seed: 1)), name: hostile[27] + hostile[35])
        try builder.add(Activation(.relu), name: hostile[36])
        try builder.add(try Dense(6, hostile.count, generator: Generator(seed: 2)), name: "out" + hostile[34], head: true)
        let (shell, output) = makeShell()
        shell.store(model: builder.build(name: "m", architecture: "arch\u{1B}[2J", classNames: hostile), as: "m")
        let samples = Samples(sampleShape: [4], labels: (0..<hostile.count).map { $0 }, floats: (0..<(4 * hostile.count)).map { Float($0 % 5) })
        shell.store(dataset: Dataset(name: "d", classNames: hostile, train: samples, test: samples), as: "d")
        _ = output.take()
        run(shell, "summary", "models", "data info", "eval confusion", "top-losses 3", "most-confused", "history", "show outbidi\u{202E}txt")
        let printed = output.take()
        let raw = printed.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || (0x202A...0x202E).contains($0.value) }
        let bad = printed.split(separator: "\n").filter { $0.unicodeScalars.contains { ($0.value < 0x20) || (0x7F...0x9F).contains($0.value) || (0x202A...0x202E).contains($0.value) } }
        #expect(raw.isEmpty, "raw controls reached the terminal: \(bad.prefix(5).map(\.debugDescription))")
        #expect(printed.contains(#"\x1b]0;T\x07"#) && printed.contains(#"bidi\u202etxt"#), "\(printed)")
        #expect(!printed.contains("\nfake row"), "\(printed.split(separator: "\n").filter { $0.hasPrefix("fake row") })")
    }

    /// Re-exporting into a folder graft exported earlier replaces only what it wrote there: a file
    /// added beside the data, a note, a symlink make it refuse, naming them; nothing is removed.
    @Test func aReExportKeepsWhatTheUserAdded() throws {
        let folder = try temporaryFolder("reexport")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (shell, _) = makeShell()
        shell.mode = .interactive
        run(shell, "new mnist-cnn classes=5", "data mnist digits=0-4 per-class=10", "export pytorch \(folder.path)/e")
        let marker = try String(contentsOf: folder.appendingPathComponent("e/.graft-export"), encoding: .utf8)
        #expect(marker.contains("\ndata/train_x.npy\n") && marker.contains("\nmodel.py\n"))
        run(shell, "export pytorch \(folder.path)/e")  // its own files only: replaced
        let fm = FileManager.default
        try Data("mine".utf8).write(to: folder.appendingPathComponent("e/data/mine.npy"))
        try Data("notes".utf8).write(to: folder.appendingPathComponent("e/notes.txt"))
        try fm.createSymbolicLink(atPath: folder.appendingPathComponent("e/link").path, withDestinationPath: "/etc")
        let error = shell.execute("export pytorch \(folder.path)/e").error?.message ?? "exported"
        #expect(error.contains("holds files graft did not write (data/mine.npy, link, notes.txt)"), "\(error)")
        #expect(fm.fileExists(atPath: folder.appendingPathComponent("e/data/mine.npy").path) && fm.fileExists(atPath: folder.appendingPathComponent("e/notes.txt").path))
    }

    /// Markdown transcripts: output holding a code fence and HTML cannot close the block.
    @Test func transcriptsCannotBeBrokenOutOf() throws {
        let folder = try temporaryFolder("fence")
        defer { try? FileManager.default.removeItem(at: folder) }
        let transcript = try Transcript(path: folder.appendingPathComponent("t.md").path, title: "t ``` <b>")
        transcript.begin()
        transcript.sink.write("> summary\nrow\n```\n<img src=x onerror=alert(1)>\n````\nend\n")
        transcript.cell(number: 1, command: "summary", failed: false)
        try transcript.write()
        let markdown = try String(contentsOf: folder.appendingPathComponent("t.md"), encoding: .utf8)
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let open = try #require(lines.firstIndex { $0.hasPrefix("```") })
        let fence = String(lines[open].prefix { $0 == "`" })
        let close = try #require(lines[(open + 1)...].firstIndex { $0 == fence })
        let inside = lines[(open + 1)..<close].joined(separator: "\n")
        #expect(fence.count == 5 && inside.contains("<img src=x onerror=alert(1)>") && lines[(close + 1)...].allSatisfy { !$0.contains("<img") }, "\(markdown)")
        #expect(lines[0] == "# t \\`\\`\\` &lt;b&gt;")
    }

    /// Every writer refuses a symlink at its target (it is never followed out to what it names), at
    /// the prompt and in a replay: `save model`, `save session`, a picture's `save=`, `export
    /// pytorch` into a link to a folder, a `--transcript`, its pictures' folder and its `--html`. The
    /// file and the folder the links name are unchanged and nothing is left beside them.
    @Test func writersDoNotFollowASymlinkAtTheirTarget() throws {
        let fm = FileManager.default
        let folder = try temporaryFolder("links")
        defer { try? fm.removeItem(at: folder) }
        let outside = folder.appendingPathComponent("outside.txt"), elsewhere = folder.appendingPathComponent("elsewhere")
        try Data("someone else's".utf8).write(to: outside)
        try fm.createDirectory(at: elsewhere, withIntermediateDirectories: false)
        for name in ["m.safetensors", "s.graft", "f.png", "t.md", "t.html", "dangling.safetensors"] {
            try fm.createSymbolicLink(atPath: folder.appendingPathComponent(name).path, withDestinationPath: name.hasPrefix("dangling") ? folder.appendingPathComponent("nowhere").path : outside.path)
        }
        for name in ["e", "p.files"] { try fm.createSymbolicLink(atPath: folder.appendingPathComponent(name).path, withDestinationPath: elsewhere.path) }
        let commands = ["save model \(folder.path)/m.safetensors", "save model \(folder.path)/dangling.safetensors", "save session \(folder.path)/s.graft",
                        "filters conv1 save=\(folder.path)/f.png", "export pytorch \(folder.path)/e"]
        for mode in [Shell.Mode.interactive, .script] {
            let (shell, _) = makeShell()
            shell.mode = mode
            run(shell, "new mnist-cnn classes=3")
            for command in commands {
                let error = shell.execute(command).error?.message ?? "written"
                #expect(error.contains("is a symbolic link (graft never writes through one"), "\(mode) \(command): \(error)")
            }
        }
        let binary = repositoryRoot().appendingPathComponent(".build/debug/graft").path
        let script = folder.appendingPathComponent("run.graft")
        try "new mnist-cnn classes=3\nsummary\nfilters conv1\n".write(to: script, atomically: true, encoding: .utf8)
        for flags in [["--transcript", folder.appendingPathComponent("t.md").path],
                      ["--transcript", folder.appendingPathComponent("p.md").path],
                      ["--transcript", folder.appendingPathComponent("u.md").path, "--html", folder.appendingPathComponent("t.html").path]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["run", script.path] + flags
            let pipe = Pipe()
            (process.standardOutput, process.standardError) = (pipe, pipe)
            try process.run()
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus != 0 && text.contains("is a symbolic link (graft never writes through one"), "\(flags): \(text.suffix(500))")
        }
        #expect(try String(contentsOf: outside, encoding: .utf8) == "someone else's")
        #expect(try fm.contentsOfDirectory(atPath: elsewhere.path).isEmpty && !fm.fileExists(atPath: folder.appendingPathComponent("nowhere").path))
        let left = try fm.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") || $0.contains("-2") }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// The whole malformed corpus, replayed by the graft executable with its address space capped at
    /// 4 GiB (`ulimit -v`, as in a container): every file refused with an error, none kills the process.
    @Test func theCorpusIsRefusedUnderAnAddressSpaceLimit() throws {
        let binary = repositoryRoot().appendingPathComponent(".build/debug/graft").path
        try #require(FileManager.default.isExecutableFile(atPath: binary))
        // (onnx_long_name.onnx is a valid graph: it loads, and its summary is the test.)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus).filter { !$0.hasSuffix(".py") && $0 != "onnx_long_name.onnx" }.sorted()
        let folder = try temporaryFolder("ulimit")
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("corpus.graft")
        try files.map { "load \"\(Self.corpus)/\($0)\"" }.joined(separator: "\n").appending("\n").write(to: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -v 4194304 && exec \"$0\" run --keep-going \"$1\"", binary, script.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1, "graft ended by \(process.terminationReason) \(process.terminationStatus): \(text.suffix(2000))")
        let refused = text.split(separator: "\n").filter { $0.contains(": error: ") }.count
        #expect(refused == files.count && !text.contains("Fatal error"), "\(refused) of \(files.count) refused: \(text.suffix(3000))")

        // The fuzz targets' seed corpora (the fuzzers run under libFuzzer's malloc and RSS limits:
        // AddressSanitizer's shadow memory rules out an address-space cap there), likewise: each file
        // loads or is refused, and the process lives to the end.
        let seeds = repositoryRoot().appendingPathComponent("Fuzz/corpus")
        let models = try ["onnx", "safetensors", "pth", "hdf5", "keras"].flatMap { target in
            try FileManager.default.contentsOfDirectory(atPath: seeds.appendingPathComponent(target).path).sorted().map { "\(seeds.path)/\(target)/\($0)" }
        }
        try models.map { "load \"\($0)\"" }.joined(separator: "\n").appending("\nmodels\n").write(to: script, atomically: true, encoding: .utf8)
        let seeded = Process()
        seeded.executableURL = URL(fileURLWithPath: "/bin/sh")
        seeded.arguments = ["-c", "ulimit -v 4194304 && exec \"$0\" run --keep-going \"$1\"", binary, script.path]
        let seededPipe = Pipe()
        (seeded.standardOutput, seeded.standardError) = (seededPipe, seededPipe)
        try seeded.run()
        let seededText = String(decoding: seededPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        seeded.waitUntilExit()
        let answered = seededText.split(separator: "\n").filter { $0.contains(": error: ") || $0.contains(": loaded ") }.count
        #expect(seeded.terminationReason == .exit && answered == models.count && seededText.contains("loaded models:"),
                "\(answered) of \(models.count) answered, ended by \(seeded.terminationReason): \(seededText.suffix(2000))")
    }
}

/// Issue 25's misleading messages, each with what it now says.
@Suite("Hostile input, round three: messages")
struct HostileMessagesTests {
    /// A pool whose padding exceeds half its kernel is refused when built (as PyTorch and ONNX
    /// Runtime refuse it), not at the first `predict`.
    @Test func aPoolPaddedPastHalfItsKernelIsRefusedAtLoad() {
        #expect(throws: ModelError.self) { try Pool2d(.max, kernel: (2, 2), padding: .explicit(Padding2D(top: 2, bottom: 0, left: 0, right: 0))) }
        #expect(throws: Never.self) { try Pool2d(.max, kernel: (3, 3), stride: (2, 2), padding: .explicit(Padding2D(top: 1, bottom: 1, left: 1, right: 1))) }
    }

    /// A config nested deeper than graft reads says so (it said "not valid JSON").
    @Test func deepNestingIsNamed() {
        let deep = String(repeating: "{\"a\":[", count: 600) + String(repeating: "]}", count: 600)
        do { _ = try KerasImporter.json(deep, what: "config.json"); Issue.record("parsed") } catch {
            #expect("\(error)".contains("nested 257+ levels deep, more than graft reads (256)"), "\(error)")
        }
        #expect(JSONDepth.beyond(Array(#"{"s": "[[[[[[[["}"#.utf8), limit: 2) == nil)
    }

    /// An image class whose every file is unreadable (a 30000×30000 PNG) names the file and why.
    @Test func anEmptiedClassNamesWhatWasSkipped() throws {
        let root = try temporaryFolder("skipped")
        defer { try? FileManager.default.removeItem(at: root) }
        try makeShapesFolder(root, classes: ["ok"], perClass: 2)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("big"), withIntermediateDirectories: true)
        // A PNG header that declares 30000×30000 (the decoder refuses it by its size before decoding).
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
        for side in [30000, 30000] { png.append(contentsOf: withUnsafeBytes(of: UInt32(side).bigEndian, Array.init)) }
        png.append(contentsOf: [8, 2, 0, 0, 0, 0, 0, 0, 0])
        try png.write(to: root.appendingPathComponent("big/huge.png"))
        let (shell, _) = makeShell()
        let error = shell.execute("data images \(root.path) size=16").error?.message ?? "loaded"
        #expect(error.contains("class 'big' has no readable images (skipped big/huge.png: "), "\(error)")
    }

    /// `dry-run` counts a batch of at most the training split (batch=8192 on 12 images is a batch of 12).
    @Test func aDryRunCountsTheBatchItCanHave() throws {
        let (shell, output) = makeShell()
        run(shell, "new mnist-cnn classes=3", "data mnist digits=0-2 per-class=4")
        _ = output.take()
        run(shell, "train dry-run batch=8192")
        let huge = output.take().split(separator: "\n").first { $0.contains("peak memory") }
        run(shell, "train dry-run batch=12")
        let actual = output.take().split(separator: "\n").first { $0.contains("peak memory") }
        #expect(huge != nil && huge == actual, "\(huge ?? "") vs \(actual ?? "")")
    }

    /// A script's lines are echoed with controls escaped (a NUL was echoed raw).
    @Test func aScriptsEchoEscapesControls() {
        let (shell, output) = makeShell()
        _ = ScriptRunner(shell: shell, keepGoing: true).run(text: "seed 1\u{0}2\n", name: "s.graft")
        #expect(output.text.contains(#"> seed 1\x002"#) && !output.text.contains("\u{0}"), "\(output.text.debugDescription)")
    }
}
