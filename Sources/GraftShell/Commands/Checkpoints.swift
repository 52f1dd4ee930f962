import Foundation
import GraftData
import GraftFormats
import GraftModels
import GraftNN
import GraftTensor
import GraftTraining

/// `train … checkpoint=DIR [every=N] [keep=K]` and `train resume=DIR|FILE`: a run's checkpoints in a
/// folder of their own, written atomically (graft model files that also carry the optimizer and the
/// run's progress), and continuing from one to the bits of the run that never stopped.
enum Checkpoints {
    /// Checkpoint files are named by the step they stand at, so a folder sorts in run order.
    static func fileName(step: Int) -> String { String(format: "step-%08d.safetensors", step) }

    /// The step a checkpoint file's name gives (nil: not a name graft gives checkpoints).
    static func step(ofName name: String) -> Int? {
        name.hasPrefix("step-") && name.hasSuffix(".safetensors") ? Int(name.dropFirst(5).dropLast(12)) : nil
    }

    static func isCheckpointName(_ name: String) -> Bool { step(ofName: name) != nil }

    /// Names one run: its session before the command and the command (without `steps=` and `resume=`,
    /// which only say where it stops and where it starts).
    static func runName(session: [String], command: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (session + [command]).joined(separator: "\n").utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return String(hash, radix: 16)
    }

    /// The training command as its checkpoints keep it: without `steps=` and `resume=`.
    static func runCommand(_ line: String) -> String {
        line.replacingOccurrences(of: #"\s+(steps|resume)=\S+"#, with: "", options: .regularExpression)
    }

    /// The session so far as commands (what `save session` would write, without comments and figures).
    static func sessionLines(_ shell: Shell) -> [String] {
        // Paths made absolute: a fresh shell may rebuild from it in any folder.
        shell.session.script(seed: shell.initialSeed, threads: Threads.count) { shell.relocated($0.line, from: $0.folder, to: nil) }.split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    /// A digest of the splits a run trains and validates on: counts, labels and every value.
    static func dataDigest(_ data: Dataset) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ word: UInt64) { hash = (hash ^ word) &* 0x0000_0100_0000_01B3; hash ^= hash >> 29 }
        for samples in [data.train] + (data.validation.map { [$0] } ?? []) {
            mix(UInt64(samples.count))
            for label in samples.labels { mix(UInt64(bitPattern: Int64(label))) }
            func words(_ buffer: UnsafeRawBufferPointer) {
                var offset = 0
                while offset + 8 <= buffer.count { mix(buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)); offset += 8 }
                while offset < buffer.count { mix(UInt64(buffer[offset])); offset += 1 }
            }
            if let bytes = samples.storedBytes { bytes.withUnsafeBytes(words) } else if let floats = samples.storedFloats { floats.withUnsafeBytes(words) }
        }
        return String(hash, radix: 16)
    }

    /// The checkpoints in `folder`, by step (only files named as graft names them).
    static func files(in folder: String) -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.compactMap { name in step(ofName: name).map { ($0, folder + "/" + name) } }.sorted { $0.step < $1.step }
    }

    /// The run a checkpoint file belongs to, read from its header alone (nil: not a checkpoint).
    static func runOf(_ path: String) -> String? {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped),
              let state = try? SafeTensors.read(data, name: path), let text = state.metadata["graft.checkpoint"],
              let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return object["run"] as? String
    }

    /// Makes `folder` ready for `run`'s checkpoints: created when missing; an existing one may hold
    /// only checkpoints of the same run (a replay, or a resumed run writing on), nothing else.
    static func prepare(_ folder: String, run: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw ShellError("checkpoint: \(folder) exists and is not a folder") }
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }
            if let other = names.first(where: { !isCheckpointName($0) }) {
                throw ShellError("checkpoint: \(folder) holds other files ('\(other)'); checkpoints go in a folder of their own")
            }
            if let foreign = names.first(where: { runOf(folder + "/" + $0) != run }) {
                throw ShellError("checkpoint: \(folder) holds checkpoints of another run ('\(foreign)'); give another folder, or resume=\(folder) to continue that run")
            }
        } else {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw ShellError("checkpoint: cannot create the folder \(folder): \(error.localizedDescription)")
            }
        }
    }

    /// The policy `fit` calls: each checkpoint written atomically, then all but the newest `keep` of
    /// this run's removed.
    /// `stepOffset`: steps of the command's earlier phases (files are named by the command's step);
    /// `ended` gives what a phase that ends adds to the finished phases (`fine-tune`'s first).
    static func policy(folder: String, every: Int, keep: Int?, template: Checkpoint, model: Model, trainer: Trainer,
                       log: TrainingLog, stepOffset: Int = 0, ended: ((TrainingProgress) throws -> [TrainingPhase])? = nil) throws -> CheckpointPolicy {
        try prepare(folder, run: template.run)
        return CheckpointPolicy(every: every) { progress in
            var checkpoint = template
            checkpoint.progress = progress
            if progress.finished, let ended { checkpoint.completed += try ended(progress) }
            let optimizer = try trainer.optimizer.map { try SavedOptimizer($0, model: model) }
            let path = folder + "/" + fileName(step: stepOffset + progress.step)
            try ModelFiles.save(model, to: path, optimizer: optimizer, checkpoint: checkpoint)
            log.record(.message("checkpoint: \(path) (\(progress.position))"))
            if let keep {
                let mine = files(in: folder).filter { $0.path != path && runOf($0.path) == template.run }
                for old in mine.dropLast(max(0, keep - 1)) { try? FileManager.default.removeItem(atPath: old.path) }
            }
        }
    }

    /// `resume=`'s file: the path itself, or a folder's newest checkpoint.
    static func resolve(_ path: String) throws -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { throw ShellError("resume: \(path) does not exist") }
        guard isFolder.boolValue else { return path }
        guard let newest = files(in: path).last else { throw ShellError("resume: \(path) holds no checkpoint (step-N.safetensors)") }
        return newest.path
    }

    typealias Saved = (model: Model, checkpoint: Checkpoint, optimizer: SavedOptimizer)

    /// Opens a checkpoint for `command` (`train` or `fine-tune`).
    /// `morePhases`: the command goes on after the checkpoint's phase ends (`fine-tune`'s phase 1), so an ended phase still continues.
    static func open(_ path: String, for command: String, morePhases: (Checkpoint) -> Bool = { _ in false }) throws -> Saved {
        let (model, extras) = try ModelFiles.open(path)
        guard let checkpoint = extras.checkpoint else {
            throw ShellError("resume: \(path) is a model file without a run's checkpoint (load it with 'load \(path)')")
        }
        guard checkpoint.command.split(separator: " ").first.map(String.init) == command else {
            throw ShellError("resume: \(path) is a checkpoint of '\(checkpoint.command)'; continue it with '\(checkpoint.command.split(separator: " ").first ?? "") resume=\(path)'")
        }
        guard !checkpoint.progress.finished || morePhases(checkpoint) else {
            throw ShellError("resume: \(path) is \(checkpoint.progress.position): nothing is left to continue (load it with 'load \(path)')")
        }
        guard let optimizer = extras.optimizer else { throw ShellError("resume: \(path) carries no optimizer state") }
        return (model, checkpoint, optimizer)
    }

    /// A `resume=` about to run: the checkpoint opened, the shell standing where the checkpoint's
    /// command started — the model and dataset it names (rebuilt from the checkpoint's session when
    /// this shell lacks them) current, the generator as it was — and that command parsed.
    struct Resumption {
        let path: String
        let saved: Saved
        let command: ParsedCommand
        let model: Model
        let trainer: Trainer
        private let state: (ModelState, TrainerState)

        /// `typed` may add only the options in `extra` to `resume=`.
        init(_ shell: Shell, _ typed: ParsedCommand, for name: String, extra: Set<String> = [], morePhases: (Checkpoint) -> Bool = { _ in false }) throws {
            if let other = typed.options.keys.sorted().first(where: { $0 != "resume" && !extra.contains($0) }) {
                throw typed.error("resume= continues the run with the options it was started with; leave out \(other)=" + (extra.isEmpty ? "" : " (only \(extra.sorted().map { $0 + "=" }.joined(separator: ", ")) may be added)"), at: other)
            }
            if typed.has("dry-run") { throw typed.error("resume= and dry-run do not go together") }
            path = try resolve(shell.resolve(typed.string("resume") ?? ""))
            saved = try open(path, for: name, morePhases: morePhases)
            let checkpoint = saved.checkpoint
            if shell.models[checkpoint.model] == nil || shell.datasets[checkpoint.dataset] == nil {
                shell.print("resume: rebuilding model \(checkpoint.model) and dataset \(checkpoint.dataset) from the \(checkpoint.session.count) session commands the checkpoint recorded before its run")
                try shell.replayNested(checkpoint.session)
            }
            guard let model = shell.models[checkpoint.model], let trainer = shell.trainer(for: checkpoint.model) else {
                throw ShellError("resume: the checkpoint's session did not make model \(checkpoint.model)")
            }
            guard shell.datasets[checkpoint.dataset] != nil else { throw ShellError("resume: the checkpoint's session did not make dataset \(checkpoint.dataset)") }
            (shell.currentModel, shell.currentDataset) = (checkpoint.model, checkpoint.dataset)
            shell.generator.state = checkpoint.startGenerator
            guard let parsed = try shell.parser.parse(checkpoint.command) else { throw ShellError("resume: the checkpoint's command is empty") }
            (command, self.model, self.trainer, state) = (parsed, model, trainer, (model.saveState(), trainer.saveState()))
        }

        /// Runs the resumed command; on failure puts the model and its trainer back here (the model
        /// need not have been the current one, which is all the shell's own rollback covers).
        func run<T>(_ body: () throws -> T) throws -> T {
            do { return try body() } catch {
                model.restore(state.0)
                trainer.restore(state.1)
                throw error
            }
        }
    }

    /// A run's checkpoint before it has a position: what every one of its files shares.
    static func template(_ shell: Shell, session: [String], command: ParsedCommand, phase: Int, model: String, data: Dataset,
                         startGenerator: Generator.State, completed: [TrainingPhase] = []) -> Checkpoint {
        let line = runCommand(shell.canonical(command.line))
        return Checkpoint(run: runName(session: session, command: line), command: line, phase: phase, model: model, dataset: data.name,
                          session: session, numerics: SessionRecord.label(Numerics.current), graftVersion: graftVersion,
                          startGenerator: startGenerator, dataDigest: dataDigest(data),
                          progress: TrainingProgress(epoch: 1, batch: 0, batchesPerEpoch: 1, epochs: 1, step: 0, generator: startGenerator),
                          completed: completed)
    }

    /// Puts the checkpoint's weights, buffers and optimizer into `model` and its trainer, after
    /// checking that `model` is the model the run trained (graph, flags, modes) and `data` its data.
    static func checkModel(_ model: Model, _ saved: Saved) throws {
        guard (try? GraphDescription(model)) == (try? GraphDescription(saved.model)) else {
            throw ShellError("resume: model \(saved.checkpoint.model) is not the one the checkpoint's run trained (its layers, trainable flags or modes differ)")
        }
    }

    static func restore(_ saved: Saved, into model: Model, data: Dataset, trainer: Trainer) throws {
        try CommandTable.adoptInput(model, data)  // as the run did when it started
        try checkModel(model, saved)
        guard dataDigest(data) == saved.checkpoint.dataDigest else {
            throw ShellError("resume: dataset \(data.name) is not the data the checkpoint's run trained on (its samples, labels or split differ)")
        }
        let state = StateDict(tensors: saved.model.parameters.map { ($0.key, $0.parameter.value) } + saved.model.buffers.map { ($0.key, $0.tensor) })
        try StateDictLoader.apply(state, to: model)
        trainer.adopt(try saved.optimizer.optimizer(for: model))
    }
}

extension Shell {
    /// Runs a checkpoint's session here, to rebuild the model and the data its run started from, as
    /// part of the command running now (each line recorded as it succeeds); stops at the first that
    /// fails, keeping the running command's figures and recording. The lines come from a file, so
    /// they may only rebuild: what writes files or reaches beyond this shell is left out — `save`,
    /// `export`, `replay`, `quit` lines are skipped, `save=` options dropped, and checkpoints are not
    /// written while it runs.
    func replayNested(_ lines: [String]) throws {
        let saved = (figures: pendingFigures, recorded: recordedLine, nothing: changedNothing)
        rebuildingFromCheckpoint = true
        defer {
            (pendingFigures, recordedLine, changedNothing) = saved
            rebuildingFromCheckpoint = false
        }
        for (index, line) in lines.enumerated() {
            let words = line.split(separator: " ").map(String.init)
            if let first = words.first, ["save", "export", "replay", "quit", "help", "history"].contains(first) { continue }
            let kept = line.replacingOccurrences(of: #"\s+save=\S+"#, with: "", options: .regularExpression)
            let outcome = execute(kept)
            if let error = outcome.error {
                throw ShellError("resume: command \(index + 1) of the checkpoint's session ('\(kept)') failed: \(error.message)")
            }
        }
    }
}
