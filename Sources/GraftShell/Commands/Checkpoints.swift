import Foundation
import GraftData
import GraftFormats
import GraftModels
import GraftNN
import GraftTensor

/// `train … checkpoint=DIR [every=N] [keep=K]` and `train resume=DIR|FILE`: a run's checkpoints in a
/// folder of their own, written atomically (graft model files that also carry the optimizer and the
/// run's progress), and continuing from one to the bits of the run that never stopped.
enum Checkpoints {
    /// Checkpoint files are named by the step they stand at, so a folder sorts in run order.
    static func fileName(step: Int) -> String { String(format: "step-%08d.safetensors", step) }

    static func isCheckpointName(_ name: String) -> Bool {
        name.hasPrefix("step-") && name.hasSuffix(".safetensors") && Int(name.dropFirst(5).dropLast(12)) != nil
    }

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
        shell.session.script(seed: shell.initialSeed, threads: Threads.count).split(separator: "\n").map(String.init)
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
        return names.filter(isCheckpointName).compactMap { name in Int(name.dropFirst(5).dropLast(12)).map { ($0, folder + "/" + name) } }.sorted { $0.step < $1.step }
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

    /// Opens a checkpoint for `command` (`train` or `fine-tune`).
    /// `morePhases`: the command goes on after the checkpoint's phase ends (`fine-tune`'s phase 1), so an ended phase still continues.
    static func open(_ path: String, for command: String, morePhases: (Checkpoint) -> Bool = { _ in false }) throws -> (model: Model, checkpoint: Checkpoint, optimizer: SavedOptimizer) {
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

    /// Makes the shell stand where the checkpoint's command started: the model and dataset it names
    /// (rebuilt from the checkpoint's session when this shell lacks them), current, the generator as
    /// it was. Returns the command as parsed.
    static func standAtStart(_ shell: Shell, _ checkpoint: Checkpoint, path: String) throws -> ParsedCommand {
        if shell.models[checkpoint.model] == nil || shell.datasets[checkpoint.dataset] == nil {
            shell.print("resume: rebuilding model \(checkpoint.model) and dataset \(checkpoint.dataset) from the \(checkpoint.session.count) session commands the checkpoint recorded before its run")
            try shell.replayNested(checkpoint.session, source: path)
        }
        guard let model = shell.models[checkpoint.model] else { throw ShellError("resume: the checkpoint's session did not make model \(checkpoint.model)") }
        guard shell.datasets[checkpoint.dataset] != nil else { throw ShellError("resume: the checkpoint's session did not make dataset \(checkpoint.dataset)") }
        (shell.currentModel, shell.currentDataset) = (checkpoint.model, checkpoint.dataset)
        _ = model
        shell.generator.state = checkpoint.startGenerator
        guard let parsed = try shell.parser.parse(checkpoint.command) else { throw ShellError("resume: the checkpoint's command is empty") }
        return parsed
    }

    /// Puts the checkpoint's weights, buffers and optimizer into `model` and its trainer, after
    /// checking that `model` is the model the run trained (graph, flags, modes) and `data` its data.
    static func checkModel(_ model: Model, _ saved: (model: Model, checkpoint: Checkpoint, optimizer: SavedOptimizer)) throws {
        guard (try? GraphDescription(model)) == (try? GraphDescription(saved.model)) else {
            throw ShellError("resume: model \(saved.checkpoint.model) is not the one the checkpoint's run trained (its layers, trainable flags or modes differ)")
        }
    }

    static func restore(_ shell: Shell, _ saved: (model: Model, checkpoint: Checkpoint, optimizer: SavedOptimizer), into model: Model,
                        data: Dataset, trainer: Trainer) throws {
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
    /// Runs `lines` here as part of the command running now (each recorded as it succeeds), and stops
    /// at the first that fails; the running command's figures and recording are kept.
    func replayNested(_ lines: [String], source: String) throws {
        let saved = (figures: pendingFigures, recorded: recordedLine, nothing: changedNothing)
        defer { (pendingFigures, recordedLine, changedNothing) = saved }
        for (index, line) in lines.enumerated() {
            let outcome = execute(line)
            if let error = outcome.error {
                throw ShellError("resume: command \(index + 1) of the checkpoint's session ('\(line)') failed: \(error.message)")
            }
        }
    }
}
