import Foundation
@testable import GraftTraining
import Testing
@testable import GraftShell
@testable import GraftModels
@testable import GraftNN
import GraftFormats
import GraftTensor

/// Checkpoints and resume: a run stopped part-way — by `steps=`, by Ctrl-C, by `kill -9` of the
/// process — and resumed from its last checkpoint ends with the digests of every parameter and
/// buffer of the run that never stopped.
@Suite("Checkpoints and resume", .serialized)
struct ResumeTests {
    /// Dropout, augmentation drawn per batch, a validation split with early stopping, Adam, a cosine schedule.
    static let setup = ["seed 11", "new mnist-cnn as cnn classes=4", "data mnist digits=0-3 per-class=25 as small"]
    static let run = "train epochs=5 batch=20 lr=0.01 optimizer=adam schedule=cosine val=0.2 patience=4 augment=shift"
    /// 80 training samples in batches of 20.
    static let batchesPerEpoch = 4

    static func folder(_ name: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("graft-resume-\(name)-\(UUID().uuidString)").path
        return path
    }

    func shell(seed: UInt64 = 1) -> (Shell, CapturedOutput) {
        let (shell, output) = makeShell(seed: seed)
        for line in Self.setup { #expect(shell.execute(line).succeeded, "\(line)") }
        return (shell, output)
    }

    /// The run that never stopped: its digest over every parameter and buffer.
    func uninterrupted() throws -> String {
        let (shell, _) = shell()
        let outcome = shell.execute(Self.run)
        #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
        return Digest.of(try shell.model())
    }

    @Test func aRunStoppedBySteps_resumesToTheBitsOfOneThatNeverStopped() throws {
        let expected = try uninterrupted()
        let folder = Self.folder("steps")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (first, _) = shell()
        let stop = 2 * Self.batchesPerEpoch + 2  // two batches into epoch 3
        #expect(first.execute(Self.run + " checkpoint=\(folder) steps=\(stop)").succeeded)
        #expect(Digest.of(try first.model()) != expected)
        let steps = Checkpoints.files(in: folder).map(\.step)
        #expect(steps == [4, 8, 10], "\(steps)")
        // From the stop itself, part-way through epoch 3, and from the end of epoch 2, each in a fresh shell
        // that has nothing loaded: the checkpoint's session rebuilds the model and the data.
        for file in [Checkpoints.fileName(step: 10), Checkpoints.fileName(step: 8)] {
            let (fresh, output) = makeShell(seed: 99)
            let outcome = fresh.execute("train resume=\(folder)/\(file)")
            #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
            #expect(output.text.contains("resume: rebuilding model cnn and dataset small"))
            #expect(Digest.of(try fresh.model()) == expected, "resumed from \(file)")
            // The session holds the rebuilt commands and the resume line, and replays to the same figures.
            #expect(fresh.session.entries.map(\.line).last == "train resume=\(folder)/\(file)")
            let (replay, _) = makeShell(seed: 3)
            let report = ScriptRunner(shell: replay, verify: true, echo: false).run(text: fresh.session.script(seed: 99, threads: 2), name: "resumed.graft")
            #expect(report.succeeded, "\(report.summary)")
            #expect(Digest.of(try replay.model()) == expected)
        }
        // The resumed runs wrote on into the folder (the same run); its end is there and says so.
        #expect(Checkpoints.files(in: folder).last?.step == 5 * Self.batchesPerEpoch)
        let (again, _) = makeShell()
        let outcome = again.execute("train resume=\(folder)")
        #expect(outcome.error?.message.contains("nothing is left to continue") == true, "\(outcome.error?.message ?? "")")
    }

    @Test func ctrlCWritesACheckpointWhereItStopped_andResumingInTheSameShellEndsTheSame() throws {
        let expected = try uninterrupted()
        let folder = Self.folder("ctrlc")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (shell, _) = shell()
        // In epoch 3 (after the second checkpoint), some batches in: inside a batch (which is undone) or between two.
        var polls = 0
        shell.interruptRequested = {
            if Checkpoints.files(in: folder).count >= 2 { polls += 1 }
            return polls >= 25
        }
        let outcome = shell.execute(Self.run + " checkpoint=\(folder)")
        shell.interruptRequested = { false }
        #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
        let recorded = try #require(shell.session.entries.last?.line)
        let step = try #require(recorded.firstMatch(of: /steps=(\d+)$/).flatMap { Int($0.1) })
        #expect(step >= 2 * Self.batchesPerEpoch && step <= 3 * Self.batchesPerEpoch, "\(recorded)")
        #expect(Checkpoints.files(in: folder).last?.step == step)
        #expect(shell.execute("train resume=\(folder)").succeeded)
        #expect(Digest.of(try shell.model()) == expected)
        // The session (the interrupted run as steps=, then the resume) replays to the same bits.
        let (replay, _) = makeShell(seed: 5)
        let report = ScriptRunner(shell: replay, verify: true, echo: false).run(text: shell.session.script(seed: 1, threads: 2), name: "ctrl-c.graft")
        #expect(report.succeeded && report.identical == 2, "\(report.summary)")
        #expect(Digest.of(try replay.model()) == expected)
    }

    @Test func killedWithSIGKILLDuringEpoch3_itResumesFromItsLastCheckpoint() throws {
        let expected = try uninterrupted()
        let folder = Self.folder("kill")
        let script = folder + ".graft"
        defer { try? FileManager.default.removeItem(atPath: folder); try? FileManager.default.removeItem(atPath: script) }
        try ((Self.setup + [Self.run + " checkpoint=\(folder)"]).joined(separator: "\n") + "\n").write(toFile: script, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ExecutableTests().binary)
        process.arguments = ["run", script]
        process.currentDirectoryURL = repositoryRoot()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Checkpoints.files(in: folder).last.map({ $0.step < 2 * Self.batchesPerEpoch }) ?? true, process.isRunning, Date() < deadline {
            usleep(2_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "graft finished before it could be killed")
        let newest = try #require(Checkpoints.files(in: folder).last)
        #expect(newest.step >= 2 * Self.batchesPerEpoch && newest.step < 5 * Self.batchesPerEpoch)
        // Nothing half-written under a checkpoint's name: every one opens.
        for file in Checkpoints.files(in: folder) { #expect(throws: Never.self) { _ = try Checkpoints.open(file.path, for: "train") } }
        // A new process resumes from the folder, and ends with the digests of the run that never stopped.
        let session = folder + "-resumed.graft"
        defer { try? FileManager.default.removeItem(atPath: session) }
        let resume = folder + "-resume.graft"
        defer { try? FileManager.default.removeItem(atPath: resume) }
        try "train resume=\(folder)\nsave session \(session)\n".write(toFile: resume, atomically: true, encoding: .utf8)
        let (status, output) = try ExecutableTests().run(["run", resume])
        #expect(status == 0, "\(output.suffix(800))")
        let text = try String(contentsOfFile: session, encoding: .utf8)
        #expect(text.contains("weights \(expected)"), "\(text.suffix(400))")
    }

    @Test func fineTuneResumesInEitherPhase_toTheSameBitsAndTheSameRecipe() throws {
        let line = "fine-tune epochs=3 freeze-epochs=2 batch=20 val=0.2"
        let (whole, _) = shell()
        #expect(whole.execute("head classes=4 hidden=16").succeeded)
        #expect(whole.execute(line).succeeded)
        let expected = Digest.of(try whole.model())
        let recipe = try #require(whole.recipes["cnn"])
        let folder = Self.folder("fine-tune")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (first, _) = shell()
        #expect(first.execute("head classes=4 hidden=16").succeeded)
        #expect(first.execute(line + " checkpoint=\(folder)").succeeded)
        #expect(Digest.of(try first.model()) == expected)
        // Phase 1 has 4 steps an epoch; phase 2's files go on from the command's step 8.
        #expect(Checkpoints.files(in: folder).map(\.step) == [4, 8, 12, 16, 20])
        // Inside phase 1, at its end, inside phase 2: each in a fresh shell.
        for step in [4, 8, 16] {
            let (fresh, _) = makeShell(seed: 2)
            let outcome = fresh.execute("fine-tune resume=\(folder)/\(Checkpoints.fileName(step: step))")
            #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
            #expect(Digest.of(try fresh.model()) == expected, "from step \(step)")
            #expect(outcome.figures == whole.session.entries.last?.figures, "from step \(step)")
            let resumed = try #require(fresh.recipes["cnn"])
            #expect(resumed.phases.map(\.stepLosses) == recipe.phases.map(\.stepLosses) && resumed.phases.map(\.orders) == recipe.phases.map(\.orders))
            #expect(resumed.phases.map(\.trainable) == recipe.phases.map(\.trainable) && resumed.phases.map(\.options.epochs) == recipe.phases.map(\.options.epochs))
        }
    }

    @Test func everyAndKeep() throws {
        let folder = Self.folder("keep")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (shell, _) = shell()
        #expect(shell.execute("train epochs=5 batch=20 checkpoint=\(folder) every=2 keep=2").succeeded)
        // 100 samples, 5 batches an epoch: after epochs 2 and 4 (steps 10, 20) and the end (25); the oldest removed.
        #expect(Checkpoints.files(in: folder).map(\.step) == [20, 25])
        #expect(shell.execute("train epochs=1 every=2").error?.message == "every= and keep= belong to checkpoint=DIR")
    }

    @Test func checkpointFoldersAndResumesRefuseWhatIsNotTheirs() throws {
        let folder = Self.folder("refuse")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: folder + "/notes.txt"))
        let (shell, _) = shell()
        let before = Digest.of(try shell.model())
        let outcome = shell.execute("train epochs=1 checkpoint=\(folder)")
        #expect(outcome.error?.message.contains("holds other files ('notes.txt')") == true, "\(outcome.error?.message ?? "")")
        #expect(Digest.of(try shell.model()) == before && shell.session.entries.count == Self.setup.count)
        try FileManager.default.removeItem(atPath: folder + "/notes.txt")
        #expect(shell.execute("train epochs=2 batch=40 checkpoint=\(folder) steps=1").succeeded)
        // Another run's checkpoints in the folder: refused, not overwritten.
        #expect(shell.execute("train epochs=2 batch=20 checkpoint=\(folder)").error?.message.contains("holds checkpoints of another run") == true)
        // Options besides steps= do not go with resume=; a plain model file is not a checkpoint.
        #expect(shell.execute("train resume=\(folder) lr=0.1").error?.message.contains("leave out lr=") == true)
        let model = folder + "-model.safetensors"
        defer { try? FileManager.default.removeItem(atPath: model) }
        #expect(shell.execute("save model \(model)").succeeded)
        #expect(shell.execute("train resume=\(model)").error?.message.contains("without a run's checkpoint") == true)
        // Another model than the run's: refused, nothing changed.
        #expect(shell.execute("new mnist-cnn as cnn classes=3").succeeded)
        let other = Digest.of(try shell.model())
        let refused = shell.execute("train resume=\(folder)").error?.message ?? ""
        #expect(refused.contains("is not the one the checkpoint's run trained"), "\(refused)")
        #expect(Digest.of(try shell.model()) == other)
    }

    @Test func aHostileCheckpointIsRefusedByName() throws {
        let folder = Self.folder("hostile")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (shell, _) = shell()
        #expect(shell.execute("train epochs=2 batch=40 checkpoint=\(folder) steps=1").succeeded)
        let path = try #require(Checkpoints.files(in: folder).last).path
        let original = try SafeTensors.read(try Data(contentsOf: URL(fileURLWithPath: path)), name: path)
        let json = try #require(original.metadata["graft.checkpoint"])
        let edits: [(String, String, String)] = [
            ("\"bestTensors\":0", "\"bestTensors\":1000000000", "best-weights tensor 0 is missing"),
            ("\"epoch\":1", "\"epoch\":-5", "does not add up"),
            ("\"format\":\"graft-checkpoint-1\"", "\"format\":\"x\"", "format 'x'"),
            ("\"generator\":[", "\"generator\":[1,", "wrong number of words"),
            ("\"model\":\"cnn\"", "\"model\":\"cnn\\u001b[2J\"", "holds a control character"),
        ]
        for (find, replace, message) in edits {
            #expect(json.contains(find), "\(find)")
            var state = original
            state.metadata["graft.checkpoint"] = json.replacingOccurrences(of: find, with: replace)
            let bad = folder + "/bad.safetensors"
            try SafeTensors.encode(state).write(to: URL(fileURLWithPath: bad))
            let outcome = shell.execute("train resume=\(bad)")
            #expect(outcome.error?.message.contains(message) == true, "\(replace): \(outcome.error?.message ?? "")")
            try FileManager.default.removeItem(atPath: bad)
        }
        // JSON nested far deeper than any description: refused, not a stack overflow.
        var deep = original
        deep.metadata["graft.checkpoint"] = String(repeating: "[", count: 200_000)
        let nested = folder + "/nested.safetensors"
        try SafeTensors.encode(deep).write(to: URL(fileURLWithPath: nested))
        #expect(shell.execute("train resume=\(nested)").error?.message.contains("is not valid") == true)
        try FileManager.default.removeItem(atPath: nested)
        // An order index outside the split, or a batch count that is not the run's: refused when resuming.
        var state = original
        state.metadata["graft.checkpoint"] = json.replacingOccurrences(of: #""order":\[\d+"#, with: "\"order\":[999999", options: .regularExpression)
        let bad = folder + "/bad.safetensors"
        try SafeTensors.encode(state).write(to: URL(fileURLWithPath: bad))
        #expect(shell.execute("train resume=\(bad)").error != nil)
    }

    /// A checkpoint's session comes from a file: rebuilding from it writes nothing and reaches no other file.
    @Test func rebuildingFromACheckpointsSessionWritesNoFiles() throws {
        let folder = Self.folder("writes")
        let written = [folder + "-model.safetensors", folder + "-session.graft", folder + "-filters.png", folder + "-export"]
        defer { for path in [folder] + written { try? FileManager.default.removeItem(atPath: path) } }
        let (shell, _) = shell()
        #expect(shell.execute("train epochs=2 batch=40 checkpoint=\(folder) steps=1").succeeded)
        let path = try #require(Checkpoints.files(in: folder).last).path
        var state = try SafeTensors.read(try Data(contentsOf: URL(fileURLWithPath: path)), name: path)
        let json = try #require(state.metadata["graft.checkpoint"])
        var contents = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let session = try #require(contents["session"] as? [String])
        contents["session"] = session + ["save model \(written[0])", "save session \(written[1])", "filters save=\(written[2])",
                                         "export pytorch \(written[3])", "replay \(path)", "quit"]
        state.metadata["graft.checkpoint"] = String(decoding: try JSONSerialization.data(withJSONObject: contents), as: UTF8.self)
        let edited = folder + "/step-00000001.safetensors"
        try SafeTensors.encode(state).write(to: URL(fileURLWithPath: edited))
        let (fresh, _) = makeShell()
        let outcome = fresh.execute("train resume=\(edited)")
        #expect(outcome.succeeded, "\(outcome.error?.message ?? "")")
        for file in written { #expect(!FileManager.default.fileExists(atPath: file), "\(file)") }
        #expect(!fresh.quitRequested)
        #expect(fresh.session.entries.map(\.line).contains("filters"))
    }

    @Test func saveModelWithTheOptimizer_continuesWithItsMoments() throws {
        let file = Self.folder("optimizer") + ".safetensors", plain = Self.folder("plain") + ".safetensors"
        defer { for path in [file, plain] { try? FileManager.default.removeItem(atPath: path) } }
        let (shell, output) = shell()
        #expect(shell.execute("save model \(file) optimizer=yes").error?.message.contains("has no optimizer state yet") == true)
        #expect(shell.execute("train epochs=2 batch=20 optimizer=adam lr=0.005").succeeded)
        #expect(shell.execute("save model \(file) optimizer=yes").succeeded)
        #expect(output.take().contains("optimizer: adam after 10 steps, for 8 tensors"))
        #expect(shell.execute("save model \(plain)").succeeded)
        let generator = shell.generator.state
        #expect(shell.execute("train epochs=1 batch=20 optimizer=adam lr=0.005").succeeded)
        let continued = Digest.of(try shell.model())

        func reloaded(_ path: String, carries: Bool) throws -> String {
            // The same data (drawn after the same seed and model), then the file in place of the model.
            let (other, output) = self.shell(seed: 4)
            #expect(other.execute("load \(path) as cnn").succeeded)
            #expect(output.text.contains("the file carries the optimizer's state (adam after 10 steps, for 8 tensors)") == carries)
            other.generator.state = generator
            #expect(other.execute("train epochs=1 batch=20 optimizer=adam lr=0.005").succeeded)
            #expect(output.text.contains("continues with the state saved in") == carries, "\(output.text.suffix(500))")
            return Digest.of(try other.model())
        }
        #expect(try reloaded(file, carries: true) == continued)
        // Without the moments (a fresh Adam) the same epoch ends elsewhere.
        #expect(try reloaded(plain, carries: false) != continued)
    }
}
