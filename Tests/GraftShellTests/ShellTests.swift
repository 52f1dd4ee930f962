import Foundation
@testable import GraftTraining
import Testing
@testable import GraftShell
@testable import GraftNN
import GraftTensor

func repositoryRoot() -> URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// A shell writing into a string, run from the repository root (where Examples/ and Sessions/ are).
func makeShell(seed: UInt64 = 42) -> (Shell, CapturedOutput) {
    FileManager.default.changeCurrentDirectoryPath(repositoryRoot().path)
    let output = CapturedOutput()
    return (Shell(seed: seed, output: output), output)
}

/// Shell tests change the working directory and thread count: one at a time.
@Suite("The shell", .serialized)
struct ShellTests {
    /// `profile`: a table of the slowest steps (names escaped), the rest and the pass; never recorded,
    /// and the session's generator untouched (the next draw is the same as without it).
    @Test func profilePrintsTheSlowestStepsAndIsNotRecorded() throws {
        let (shell, output) = makeShell()
        run(shell, "new resnet18 classes=10 input=3x32x32")
        let entries = shell.session.entries.count
        let state = shell.generator.state
        _ = output.take()
        run(shell, "profile batch=2 repeats=2 top=3")
        let lines = output.take().split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("step") == true && lines.first?.hasSuffix("%") == true && lines.first?.contains(" ms ") == true, "\(lines)")
        #expect(lines.count == 7, "header, rule, three rows, the rest, the pass: \(lines)")
        #expect(lines.contains { $0.contains("Conv2d+BatchNorm2d+ReLU") || $0.contains("MaxPool2d") })
        #expect(lines.last?.hasPrefix("pass: ") == true && lines.last?.contains("for 2 samples") == true)
        #expect(lines[5].contains("more steps: "))
        #expect(shell.session.entries.count == entries && shell.generator.state.words == state.words)
        #expect(shell.execute("profile batch=0").error?.message.contains("batch") == true)
        #expect(shell.execute("profile nothing").error != nil)
        #expect(shell.execute("profile input=3x16x16 repeats=1").succeeded, "another input size")
        #expect(shell.execute("profile input=7x16x16").error != nil, "a sample the model cannot take")
        #expect(shell.session.entries.count == entries)
    }

    @Test func failedCommandsChangeNothingAndAreNotRecorded() throws {
        let (shell, output) = makeShell()
        #expect(shell.execute("new mnist-cnn classes=5").succeeded)
        let model = try #require(shell.models["mnist-cnn"])
        let digest = Digest.of(model), nodes = model.nodes.count
        for bad in ["freeze conv1 nonsense", "head classes=3 at=nowhere", "unfreeze layer9", "head classes=1", "train epochs=1", "use nothing"] {
            let outcome = shell.execute(bad)
            #expect(!outcome.succeeded, "\(bad) should fail")
        }
        #expect(Digest.of(model) == digest && model.nodes.count == nodes && model.trainableParameterCount == model.parameterCount)
        #expect(shell.session.entries.map(\.line) == ["new mnist-cnn classes=5"])
        #expect(shell.execute("head classes=3 at=nowhere").error?.message == "no layer named 'nowhere'")
        #expect(shell.execute("freeze conv3").error?.message == "no layer named 'conv3'; did you mean 'conv1'?")
        #expect(shell.execute("train").error?.message == "no dataset yet: load one with 'data mnist' or 'data images DIR'")
        #expect(shell.execute("data images /nonexistent/photos").error?.message == "cannot read /nonexistent/photos: no such folder")
        #expect(shell.execute("load /nonexistent.safetensors").error?.message == "cannot load /nonexistent.safetensors: no such file or unreadable")
        _ = output.take()
    }

    /// `set precision=bf16`: a transaction like every setting — recorded and undoable where the CPU
    /// has AVX-512 BF16, refused by name (nothing recorded, nothing changed) where it has not.
    @Test func precisionIsRecordedAndUndoneOrRefused() throws {
        defer { try? Precision.set(.float32) }
        let (shell, output) = makeShell()
        #expect(shell.execute("new mnist-cnn classes=5").succeeded)
        #expect(shell.execute("set").succeeded)
        #expect(output.take().contains("precision float32 (set precision=float32|bf16"))
        let outcome = shell.execute("set precision=bf16")
        guard Precision.available else {
            #expect(outcome.error?.message.contains("bf16 needs a CPU with AVX-512 BF16") == true, "\(String(describing: outcome.error))")
            #expect(Precision.current == .float32 && shell.session.entries.map(\.line) == ["new mnist-cnn classes=5"])
            return
        }
        #expect(outcome.succeeded && Precision.current == .bf16)
        #expect(shell.session.entries.map(\.line) == ["new mnist-cnn classes=5", "set precision=bf16"])
        #expect(shell.session.script(seed: 42, threads: 2).contains("\nset precision=bf16\n"))
        #expect(shell.execute("data mnist digits=0-4 per-class=10").succeeded)
        #expect(shell.execute("train epochs=1 batch=25").succeeded)
        #expect(shell.execute("undo 2").succeeded)
        #expect(Precision.current == .bf16, "undoing the training and the data keeps the setting")
        #expect(shell.execute("undo").succeeded)
        #expect(Precision.current == .float32 && shell.session.entries.map(\.line) == ["new mnist-cnn classes=5"])
        #expect(shell.execute("set precision=half").error != nil)
    }

    @Test func modelsThatCannotTakeTheDataSaySo() throws {
        let (shell, _) = makeShell()
        #expect(shell.execute("new resnet18 classes=5 input=3x32x32").succeeded)
        #expect(shell.execute("data mnist digits=0-4 per-class=5").succeeded)
        let error = shell.execute("train epochs=1").error?.message
        #expect(error == "resnet18: dataset mnist has samples 1×28×28, the model expects 3×32×32 (load the data with size=32 and 3 channels, or build the model with input=1x28x28)")
        #expect(shell.execute("data mnist digits=0-4 per-class=5 size=32 channels=3").succeeded)
        #expect(shell.execute("train epochs=1 batch=10").succeeded)
    }

    @Test func recordSaveReplayGivesIdenticalOutput() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-shell-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let lines = ["new mnist-cnn classes=5", "data mnist digits=0-4 per-class=30", "train epochs=2 batch=32", "freeze conv1",
                     "head classes=5 hidden=16", "train epochs=1 lr=0.02", "eval top=2", "predict 3 top=2"]
        let (first, firstOutput) = makeShell(seed: 9)
        for line in lines { #expect(first.execute(line).succeeded, "\(line)") }
        let recordedOutput = firstOutput.take()
        #expect(first.execute("summary").succeeded && first.execute("models").succeeded)
        let path = folder.appendingPathComponent("s.graft").path
        #expect(first.execute("save session \(path)").succeeded)
        let script = try String(contentsOfFile: path, encoding: .utf8)
        #expect(script.contains("\nseed 9\nset threads="))
        #expect(script.contains("#=> loss "))
        #expect(!script.contains("\nsummary"), "commands that change nothing are not recorded")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["s.graft"], "no temporary file left")

        let (second, secondOutput) = makeShell(seed: 1)
        let report = ScriptRunner(shell: second, verify: true, echo: false).run(text: script, name: "s.graft")
        #expect(report.succeeded && report.mismatched == 0 && report.identical == 4, "\(report.summary)")
        let replayed = secondOutput.take()
        func normalize(_ text: String) -> String {
            text.replacingOccurrences(of: #"in [0-9.]+ s \(caching [0-9.]+ s \+ training [0-9.]+ s\) \([0-9]+ images/s\)"#, with: "in T s", options: .regularExpression)
                .replacingOccurrences(of: #"in [0-9.]+ s \([0-9]+ images/s\)"#, with: "in T s", options: .regularExpression)
                .replacingOccurrences(of: #", [0-9.]+ s\n"#, with: ", T s\n", options: .regularExpression)
                .split(separator: "\n").filter { !$0.hasPrefix("seed ") && !$0.hasPrefix("threads ") && !$0.hasPrefix("ran ") }.joined(separator: "\n")
        }
        #expect(normalize(replayed) == normalize(recordedOutput))
        #expect(Digest.of(try second.model()) == Digest.of(try first.model()))
    }

    @Test func verifyCatchesAChangedFigure() throws {
        let (shell, _) = makeShell()
        let script = """
        # machine: \(MachineFingerprint.current)
        new mnist-cnn classes=5
        data mnist digits=0-4 per-class=10
        eval
        #=> loss 9.9999 accuracy 0.5000
        """
        let report = ScriptRunner(shell: shell, verify: true, echo: false).run(text: script, name: "bad.graft")
        #expect(!report.succeeded && report.mismatched == 1)
        #expect(report.failure?.hasPrefix("bad.graft:4: figure differs: got 'loss ") == true)
        // On another machine, figures within tolerance pass and say so.
        let runner = ScriptRunner(shell: shell, verify: true)
        #expect(runner.compare("loss 0.2010 accuracy 0.9380 weights aa", "loss 0.2000 accuracy 0.9360 weights bb", exact: false)
                == .within("loss 0.2010 vs recorded 0.2000: within 5 %; accuracy 0.9380 vs recorded 0.9360: within 0.5 pt (no sample count recorded); weights digest differs (not compared across machines)"))
        #expect(runner.compare("accuracy 0.9300", "accuracy 0.9400", exact: false) == .different("accuracy 0.9300 vs recorded 0.9400: more than 0.5 pt apart (no sample count recorded)"))
        // With what the figures are over: an accuracy as a count of samples (⌈√n/4⌉), a loss against its standard error.
        let scales: [String: FigureScale] = ["accuracy": .samples(100), "loss": .standardError(0.004)]
        #expect(runner.compare("loss 0.2010 accuracy 0.7900", "loss 0.2000 accuracy 0.8000", exact: false, scales: scales)
                == .within("loss 0.2010 vs recorded 0.2000: 0.001 apart, bound 3 × its standard error 0.004 = 0.012; accuracy 0.7900 vs recorded 0.8000: 1 of 100 samples apart, bound ⌈√100/4⌉ = 3"))
        #expect(runner.compare("accuracy 0.7600", "accuracy 0.8000", exact: false, scales: scales)
                == .different("accuracy 0.7600 vs recorded 0.8000: 4 of 100 samples apart, bound ⌈√100/4⌉ = 3"))
        #expect(runner.compare("loss 0.2200", "loss 0.2000", exact: false, scales: scales)
                == .different("loss 0.2200 vs recorded 0.2000: 0.02 apart, bound 3 × its standard error 0.004 = 0.012"))
        #expect(ScriptRunner.sampleBound(16) == 1 && ScriptRunner.sampleBound(500) == 6 && ScriptRunner.sampleBound(2000) == 12 && ScriptRunner.sampleBound(10_000) == 25)
        // The teaching commands' figures: rates within a factor of 2, other decimals within 5 %, sample lists not compared, counts exact.
        #expect(runner.compare("steps 40 steep_lr 0.36 min_loss 0.5100", "steps 40 steep_lr 0.23 min_loss 0.5000", exact: false)
                == .within("steep_lr 0.36 vs recorded 0.23: within a factor of 2; min_loss 0.5100 vs recorded 0.5000: within 5 %"))
        #expect(runner.compare("steep_lr 0.5", "steep_lr 0.23", exact: false) == .different("steep_lr 0.5 vs recorded 0.23: more than a factor of 2 apart"))
        #expect(runner.compare("top sample 4 loss 3.0000 samples 4,9", "top sample 9 loss 3.0100 samples 9,4", exact: false)
                == .within("sample differs (not compared across machines); loss 3.0000 vs recorded 3.0100: within 5 %; samples differs (not compared across machines)"))
        #expect(runner.compare("class 3 p 0.9000 peak 1,2", "class 3 p 0.9100 peak 2,2", exact: false)
                == .within("p 0.9000 vs recorded 0.9100: within 5 %; peak differs (not compared across machines)"))
        #expect(runner.compare("maps 32 silent 7", "maps 32 silent 8", exact: false) == .different("silent 7 vs recorded 8"))
        #expect(runner.compare("accuracy 0.9380", "accuracy 0.9381", exact: true) == .different("got 'accuracy 0.9380', recorded 'accuracy 0.9381'"))
    }

    @Test func scriptsStopAtTheFirstErrorWithFileAndLine() throws {
        let (shell, output) = makeShell()
        let report = ScriptRunner(shell: shell, echo: false).run(text: "new mnist-cnn\n\nfreeze conv9\nsummary\n", name: "s.graft")
        #expect(report.commands == 2 && report.errors == 1)
        #expect(output.take().hasSuffix("s.graft:3: error: no layer named 'conv9'; did you mean 'conv1'?\n"))
        let going = ScriptRunner(shell: shell, keepGoing: true, echo: false).run(text: "frob\nmodels\n", name: "t.graft")
        #expect(going.commands == 2 && going.errors == 1)
        #expect(output.take().contains("frob\n^^^^\nt.graft:1: error: unknown command 'frob'"))
    }

    @Test func saveSessionIsAtomicAndKeepsTheOldFileOnFailure() throws {
        let (shell, _) = makeShell()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer {
            chmod(folder.path, 0o755)
            try? FileManager.default.removeItem(at: folder)
        }
        let path = folder.appendingPathComponent("keep.graft").path
        try "old contents\n".write(toFile: path, atomically: false, encoding: .utf8)
        shell.mode = .interactive  // at the prompt, save session replaces the file it names
        #expect(shell.execute("new mnist-cnn").succeeded)
        // A folder that cannot be written: the save fails, the old file stays whole.
        chmod(folder.path, 0o555)
        if getuid() != 0 {
            #expect(!shell.execute("save session \(path)").succeeded)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "old contents\n")
        }
        chmod(folder.path, 0o755)
        #expect(shell.execute("save session \(path)").succeeded)
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("new mnist-cnn"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["keep.graft"])
    }

    @Test func modelFilesRoundTripBitExactly() throws {
        let (shell, _) = makeShell()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("graft-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(shell.execute("new resnet18 as r classes=10 input=3x32x32").succeeded)
        #expect(shell.execute("freeze layer1 layer2").succeeded)
        #expect(shell.execute("head classes=3 hidden=8 dropout=0.1").succeeded)
        #expect(shell.execute("save model \(path)").succeeded)
        #expect(shell.execute("load \(path) as back").succeeded)
        let (a, b) = (try shell.model("r"), try shell.model("back"))
        #expect(Digest.of(a) == Digest.of(b))
        #expect(a.summary().replacingOccurrences(of: "model r ", with: "model back ") == b.summary())
        #expect(a.classNames == b.classNames && b.trainableParameterCount == a.trainableParameterCount)
        #expect(b.nodes.filter(\.isHead).count == 5)
    }

    @Test func completion() throws {
        let (shell, _) = makeShell()
        let completer = Completer(shell: shell)
        #expect(completer.candidates(before: "fr").words == ["freeze"])
        #expect(completer.candidates(before: "save ").words == ["model", "session"])
        #expect(completer.candidates(before: "train ep").words == ["epochs="])
        #expect(completer.candidates(before: "train optimizer=a").words == ["optimizer=adam", "optimizer=adamw"])
        #expect(completer.candidates(before: "new resnet").words == ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet18d", "resnet34d", "resnet50d", "resnet101d"])
        #expect(completer.candidates(before: "new conv").words == ["convnext_tiny", "convnext_small", "convnext_base", "convnext_large", "convnext_atto", "convnext_femto", "convnext_pico", "convnext_nano"])
        #expect(completer.candidates(before: "load ").wantsPaths)
        #expect(completer.candidates(before: "eval con").words == ["confusion"])
        #expect(shell.execute("new mnist-cnn").succeeded)
        #expect(completer.candidates(before: "freeze co").words == ["conv1", "conv2"])
        #expect(completer.candidates(before: "show fc").words == ["fc1", "fc2"])
        #expect(shell.execute("data mnist digits=0-1 per-class=2 as tiny").succeeded)
        #expect(completer.candidates(before: "data info t").words == ["tiny"])
        #expect(completer.candidates(before: "use ").words.contains("tiny"))
        #expect(completer.candidates(before: "help sa").words == ["save"])
    }

    @Test func helpListsEveryCommand() throws {
        let (shell, output) = makeShell()
        #expect(shell.execute("help").succeeded)
        let text = output.take()
        for spec in CommandTable.all { #expect(text.contains("  " + spec.name)) }
        #expect(shell.execute("help save").succeeded)
        let save = output.take()
        #expect(save.contains("usage: save model PATH") && save.contains("usage: save session PATH"))
        #expect(shell.execute("help trian").error?.message == "no command 'trian'; did you mean 'train'?")
    }
}

@Suite("The graft executable")
struct ExecutableTests {
    let binary = repositoryRoot().appendingPathComponent(".build/debug/graft").path

    /// Runs graft (or `executable`) with `arguments` in `folder` (default: the repository): its exit
    /// status and its output and errors together.
    func run(_ arguments: [String], input: String? = nil, executable: String? = nil, in folder: URL? = nil,
             environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? binary)
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.arguments = arguments
        process.currentDirectoryURL = folder ?? repositoryRoot()
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs graft on `script` in a child process: its exit status, output and peak resident memory.
    func peak(_ script: String) throws -> (status: Int32, output: String, kilobytes: Int) {
        // Spawned directly (posix_spawn) to keep the child's memory its own from the start.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-peak-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("s.graft").path, log = folder.appendingPathComponent("out").path
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let arguments = [binary, "run", "--keep-going", path]
        var argv = arguments.map { strdup($0) } + [nil]
        // (The child's own high-water mark: getrusage's would include this test process, whose
        // memory the child shares until it runs graft.)
        let settings: [String] = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" } + ["GRAFT_PEAK_MEMORY=1"]
        var environment: [UnsafeMutablePointer<CChar>?] = settings.map { strdup($0) } + [nil]
        defer { for pointer in argv + environment { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, binary, &actions, nil, &argv, &environment) == 0 else { throw CocoaError(.executableLoad) }
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let peak = output.split(separator: "\n").last { $0.hasPrefix("peak memory: ") }.flatMap { Int($0.dropFirst("peak memory: ".count).split(separator: " ").first ?? "") } ?? Int.max
        return ((status >> 8) & 0xFF, output, peak)
    }

    @Test func hostileFilesAreRefusedWithinAMemoryCeiling() throws {
        // Each bomb of the corpus is refused by a process that stays under 200 MB (graft itself
        // takes about 30 MB); before, these took 0.3–4 GB.
        let corpus = repositoryRoot().appendingPathComponent("Tests/Fixtures/malformed").path
        for file in ["pth_storage_bomb.pth", "pth_pickle_bomb.pth", "pth_many_values.pth", "keras_bomb.keras", "legacy_lying_count.pth", "st_huge_dims.safetensors"] {
            let result = try peak("load \"\(corpus)/\(file)\"\n")
            #expect(result.output.contains("error: "), "\(file): \(result.output)")
            #expect(result.kilobytes < 200_000, "\(file) took \(result.kilobytes) KB")
        }
        // The biggest shipped checkpoint loads within 1.5× its tensors plus graft's own ~30 MB
        // (EfficientNet-Lite0: 18.6 MB of tensors).
        let lite = try peak("load \"\(repositoryRoot().path)/Examples/models/efficientnet-lite0.pth\"\n")
        #expect(lite.status == 0 && lite.kilobytes < 30_000 + 28_000 + 30_000, "efficientnet-lite0 took \(lite.kilobytes) KB: \(lite.output)")
    }

    @Test func killedSavesNeverTearTheTargetAndLeaveNothingBehind() throws {
        // SIGKILL at random moments while graft saves a model (EfficientNet-Lite0, 18 MB; ResNet-34,
        // 81 MB) and a session, 30 trials each: the target is always the previous version or a
        // complete new file, and the next start removes the temporary files the killed processes left.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let lite = repositoryRoot().appendingPathComponent("Examples/models/efficientnet-lite0.pth").path
        let cases = [("m.graft", "load \"\(lite)\"\nsave model m.safetensors\n", "m.safetensors"),
                     ("r.graft", "load r0.safetensors\nsave model r.safetensors\n", "r.safetensors"),
                     ("s.graft", "new mnist-cnn classes=3\nseed 3\nsave session s.graft\n", "Sessions/s.graft")]
        func launch(_ script: String) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["run", script]
            process.currentDirectoryURL = folder
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        // The ResNet-34 to save (built once: drawing its 21 M weights takes longer than saving them).
        try "new resnet34 classes=10\nsave model r0.safetensors\n".write(to: folder.appendingPathComponent("r0.graft"), atomically: true, encoding: .utf8)
        let setup = try launch("r0.graft")
        setup.waitUntilExit()
        try #require(setup.terminationStatus == 0)
        var generator = SystemRandomNumberGenerator()
        for (script, text, target) in cases {
            try text.write(to: folder.appendingPathComponent(script), atomically: true, encoding: .utf8)
            // A first, whole run: the previous version, and how long a run takes.
            let start = Date()
            let first = try launch(script)
            first.waitUntilExit()
            #expect(first.terminationStatus == 0)
            let duration = Date().timeIntervalSince(start)
            let previous = try Data(contentsOf: folder.appendingPathComponent(target))
            for _ in 0..<30 {
                let process = try launch(script)
                usleep(UInt32(Double.random(in: 0...(duration * 1.1), using: &generator) * 1e6))
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                let now = try Data(contentsOf: folder.appendingPathComponent(target))
                #expect(now == previous, "\(target) changed or was torn by a kill")
            }
        }
        // One more start in that folder removes every temporary file left behind.
        let clean = try launch("s.graft")
        clean.waitUntilExit()
        let left = try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// A real full disk (a 1 MiB tmpfs) and a read-only folder (a tmpfs remounted read-only), in a
    /// mount namespace of their own (`unshare -rm`: no privileges needed, nothing to clean up): the
    /// model and session saves fail with the system's reason, the previous files are intact, and no
    /// temporary file is left behind.
    @Test func savesToAFullDiskOrAReadOnlyFolderFailCleanly() throws {
        let unshare = "/usr/bin/unshare"
        try #require(FileManager.default.isExecutableFile(atPath: unshare))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-mounts-\(UUID().uuidString)")
        for sub in ["full", "ro"] { try FileManager.default.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true) }
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("s.graft")
        try """
            new resnet18 classes=10
            save model full/m.safetensors
            save session full/s.graft
            save model ro/m.safetensors
            save session ro/s.graft
            """.write(to: script, atomically: true, encoding: .utf8)
        let shell = """
            set -e
            mount -t tmpfs -o size=1m tmpfs full && mount -t tmpfs tmpfs ro
            for d in full ro; do echo previous > $d/m.safetensors; echo previous > $d/s.graft; done
            mount -o remount,ro ro
            "$0" run --keep-going s.graft || true
            for d in full ro; do echo "$d: $(ls -A $d | tr '\n' ' ')$(cat $d/m.safetensors $d/s.graft | tr '\n' ' ')"; done
            """
        let text = try run(["-rm", "sh", "-c", shell, binary], executable: unshare, in: folder).output
        try #require(!text.contains("unshare: "), "no mount namespace here: \(text)")
        // A replay keeps the files it did not write: it writes beside them (m-2, s-2), and fails cleanly where it cannot.
        #expect(text.contains("error: cannot save \(folder.path)/full/m-2.safetensors: No space left on device (nothing was changed)"), "\(text)")
        #expect(text.contains("error: cannot save \(folder.path)/ro/m-2.safetensors: Read-only file system (nothing was changed)"), "\(text)")
        #expect(text.contains("error: cannot save \(folder.path)/ro/s-2.graft: Read-only file system (nothing was changed)"), "\(text)")
        // The session is small: it fits the full disk's last free pages, beside the old one.
        #expect(text.contains("full: m.safetensors s-2.graft s.graft previous previous "), "\(text)")
        #expect(text.contains("ro: m.safetensors s.graft previous previous "), "\(text)")
    }

    /// Every writer on a disk with no free page at all (a 1 MiB tmpfs filled up, in a mount namespace
    /// of its own): `save model`, `save session`, a picture's `save=`, `export pytorch`, and the run's
    /// `--transcript` (with its pictures' folder) and `--html` each fail with the system's reason; the
    /// files that were there are whole and nothing else is left behind (no temporary file, no half
    /// export, no empty folder).
    @Test func everyWriterOnAFullDiskFailsCleanly() throws {
        let unshare = "/usr/bin/unshare"
        try #require(FileManager.default.isExecutableFile(atPath: unshare))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-packed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("packed"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("s.graft")
        try """
            new mnist-cnn classes=3
            data mnist digits=0-2 per-class=4
            filters conv1 save=packed/f.png
            filters conv1
            save model packed/m.safetensors
            save session packed/s.graft
            export pytorch packed/e
            """.write(to: script, atomically: true, encoding: .utf8)
        let shell = """
            mount -t tmpfs -o size=1m tmpfs packed || exit 0
            echo previous > packed/m.safetensors; echo previous > packed/s.graft
            dd if=/dev/zero of=packed/filler bs=4k 2>/dev/null
            "$0" run --keep-going s.graft --transcript packed/t.md --html packed/t.html
            echo "status $?"
            echo "packed: $(ls -A packed | tr '\n' ' ')$(cat packed/m.safetensors packed/s.graft | tr '\n' ' ')"
            """
        let text = try run(["-rm", "sh", "-c", shell, binary], executable: unshare, in: folder).output
        try #require(!text.contains("unshare: ") && text.contains("packed: "), "no mount namespace here: \(text)")
        for what in ["f.png", "m-2.safetensors", "s-2.graft"] {
            #expect(text.contains("error: cannot save \(folder.path)/packed/\(what): No space left on device (nothing was changed)"), "\(what): \(text)")
        }
        #expect(text.contains("s.graft:7: error: export pytorch: cannot write \(folder.path)/packed/e: No space left on device (nothing was changed)"), "\(text)")
        #expect(text.contains("No space left on device") && !text.contains("status 0"), "\(text)")
        #expect(text.contains("packed: filler m.safetensors s.graft previous previous "), "\(text)")
    }

    @Test func aSaveThatCannotBeWrittenLosesNothingAndLeavesNothing() throws {
        // A file-size limit of 1 MiB stands in for a full disk: the write fails part-way.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let target = folder.appendingPathComponent("m.safetensors")
        try Data("previous version".utf8).write(to: target)
        // A temporary file a killed save left behind (its process, pid 2^22 + 1, is gone). The replay
        // keeps m.safetensors (it did not write it) and saves beside it, as m-2.safetensors.
        let stale = folder.appendingPathComponent(".m-2.safetensors.4194305.tmp")
        try Data(count: 100).write(to: stale)
        let script = folder.appendingPathComponent("s.graft")
        try "new resnet18 classes=10\nsave model \(target.path)\n".write(to: script, atomically: true, encoding: .utf8)
        let (status, text) = try run(["-c", "trap '' XFSZ; ulimit -f 1024; exec \"$0\" run \"$1\"", binary, script.path], executable: "/bin/sh")
        #expect(status != 0)
        #expect(text.contains("error: cannot save \(folder.path)/m-2.safetensors: File too large (nothing was changed)"), "\(text)")
        // The stale temporary file is removed before the save, and the run says so.
        #expect(text.contains("note: removed \(stale.path): temporary file of a save that was killed before it finished"), "\(text)")
        #expect(try String(contentsOf: target, encoding: .utf8) == "previous version")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["m.safetensors", "s.graft"])
    }

    @Test func exportPyTorchReplaysTheSessionThenExports() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-export-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("s.graft")
        try "seed 2\nnew mnist-cnn classes=3\ndata mnist digits=0-2 per-class=10\nfreeze conv1\ntrain epochs=1 batch=10\n".write(to: script, atomically: true, encoding: .utf8)
        let target = folder.appendingPathComponent("out dir").path
        let result = try run(["export-pytorch", script.path, target])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("recipe: train epochs=1 batch=10 on mnist (1 phase)"), "\(result.output)")
        for file in ["model.py", "weights.safetensors", "train.py", "README.md", "graft_run.json", "data/train_x.npy"] {
            #expect(FileManager.default.fileExists(atPath: "\(target)/\(file)"), "\(file)")
        }
        let train = try String(contentsOfFile: "\(target)/train.py", encoding: .utf8)
        #expect(train.contains(#""trainable": ["conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]"#), "\(train.prefix(2500))")
        // A session that fails exports nothing and exits non-zero.
        try "new nothing\n".write(to: script, atomically: true, encoding: .utf8)
        let failed = try run(["export-pytorch", script.path, folder.appendingPathComponent("never").path])
        #expect(failed.status != 0 && !FileManager.default.fileExists(atPath: folder.appendingPathComponent("never").path))
    }

    @Test func transcriptWithChartsAndExitCodes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-transcript-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("t.graft")
        try "new mnist-cnn classes=3\ndata mnist digits=0-2 per-class=10\ntrain epochs=2\neval\n".write(to: script, atomically: true, encoding: .utf8)
        let transcript = folder.appendingPathComponent("t.md")
        let result = try run(["run", script.path, "--transcript", transcript.path])
        #expect(result.status == 0, "\(result.output)")
        let markdown = try String(contentsOf: transcript, encoding: .utf8)
        #expect(markdown.contains("**[3]** `train epochs=2`"))
        #expect(markdown.contains("![mnist-cnn on mnist: loss and accuracy per epoch](<t.files/training-1.svg>)"), "\(markdown)")
        let svg = try String(contentsOf: folder.appendingPathComponent("t.files/training-1.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.contains("accuracy"))

        // A failing script stops at its line, names it, and exits non-zero.
        try "new mnist-cnn\nfreeze nothing\nsummary\n".write(to: script, atomically: true, encoding: .utf8)
        let failed = try run(["run", script.path])
        #expect(failed.status != 0)
        #expect(failed.output.contains("t.graft:2: error: no layer named 'nothing'"))
        #expect(!failed.output.contains("total params"), "it stopped at the error")

        // Piped standard input: plain lines, no prompt, errors with <stdin>:LINE, non-zero exit.
        let piped = try run([], input: "new mnist-cnn\nsummry\n")
        #expect(piped.output.contains("<stdin>:2: error: unknown command 'summry'; did you mean 'summary'?"))
        #expect(!piped.output.contains("graft[-]"))
        #expect(piped.status != 0)
        let version = try run(["--version"])
        #expect(version.output.trimmingCharacters(in: .whitespacesAndNewlines) == graftVersion)
        #expect(try run(["--help"]).output.contains("USAGE: graft <subcommand>"))
    }
}
