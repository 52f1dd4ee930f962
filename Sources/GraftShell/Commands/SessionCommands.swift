import Foundation
import GraftFormats
import GraftTensor

extension CommandTable {
    static let session: [CommandSpec] = [
        CommandSpec(["seed"], arguments: [.init("n", .text)],
                    summary: "Restart the session's generator from seed N: every later random draw follows from it.",
                    example: "seed 42", recording: .stateChange) { shell, command in
            guard let text = command.argument("n"), let seed = UInt64(text) else {
                throw ShellError("seed needs a whole number from 0 to \(UInt64.max), got '\(command.argument("n") ?? "")'")
            }
            shell.reseed(seed)
            shell.print("seed \(seed)")
        },
        CommandSpec(["set"], options: [.init("threads", .int(1...64), "threads for graft's kernels"),
                                       .init("memory", .int(1...1024), "the most memory (GB) the workspace may hold: models, datasets, undo snapshots and what a command adds"),
                                       .init("numerics", .choice(["portable", "native"]),
                                             "portable: the same bits on every x86-64 CPU with AVX2 (graft's own GEMM); native: OpenBLAS's kernels for this CPU"),
                                       .init("precision", .choice(["float32", "bf16"]),
                                             "bf16: matrix products and convolutions take bfloat16 inputs and sum in float32, weights stay float32 (CPUs with AVX-512 BF16 only: faster, a little less accurate)")],
                    summary: "Change a setting (with none, show the settings). Results are identical for a fixed thread count; in portable numerics on every AVX2 machine.",
                    example: "set threads=2", recording: .stateChange) { shell, command in
            var changed = false
            if let gigabytes = command.int("memory") {
                shell.memoryLimit = gigabytes * 1_000_000_000
                shell.print("memory limit \(gigabytes) GB")
                changed = true
            }
            if let text = command.string("numerics"), let numerics = Numerics(rawValue: text) {
                Numerics.current = numerics
                shell.print("numerics \(Numerics.label)")
                changed = true
            }
            if let text = command.string("precision"), let precision = Precision(rawValue: text) {
                try Precision.set(precision)
                shell.print("precision \(precision.rawValue)")
                changed = true
            }
            if let threads = command.int("threads") {
                try Threads.set(threads)
                shell.print("threads \(threads)")
                changed = true
            }
            if changed { return }
            shell.print("threads \(Threads.count) (set threads=N)")
            shell.print("numerics \(Numerics.label) (set numerics=portable|native; OpenBLAS's kernels here: \(EngineInfo.blasCoreName)\(Numerics.wideKernels ? ", graft's GEMM with AVX-512" : ""))")
            shell.print("precision \(Precision.current.rawValue) (set precision=float32|bf16; bfloat16 products \(Precision.available ? "available" : "need AVX-512 BF16, which this CPU lacks"))")
            shell.print(String(format: "memory limit %.1f GB (set memory=GB)", Double(shell.memoryLimit) / 1e9))
            shell.print("seed \(shell.seed) (seed N restarts the generator)")
            shell.print("sessions folder \(shell.sessionsFolder) (where save session NAME writes)")
            shell.print("current model \(shell.currentModel ?? "none"), current dataset \(shell.currentDataset ?? "none")")
            shell.changedNothing = true
        },
        CommandSpec(["save", "session"], arguments: [.init("path", .path)],
                    summary: "Write the session as a replayable script (header, commands, #=> figures), atomically. A bare name goes to Sessions/.",
                    example: "save session transfer.graft", recording: .never) { shell, command in
            var path = NSString(string: command.argument("path") ?? "").expandingTildeInPath
            let name = URL(fileURLWithPath: path).lastPathComponent
            guard !path.hasSuffix("/"), !["", ".", ".."].contains(name) else {
                throw ShellError("cannot save the session as '\(path)': give a file name (save session NAME.graft)")
            }
            if !path.contains("/") {
                // A bare name goes to the sessions folder, made when missing; any other folder must exist.
                try FileManager.default.createDirectory(atPath: shell.sessionsFolder, withIntermediateDirectories: true)
                path = shell.sessionsFolder + "/" + path
            }
            if !path.hasSuffix(".graft") { path += ".graft" }
            let file = command.argument("path")?.contains("/") == true ? shell.resolve(path) : URL(fileURLWithPath: path).standardizedFileURL.path
            // Relative paths in it are written relative to its own folder (where a replay resolves them).
            let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
            let script = shell.session.script(seed: shell.initialSeed, threads: Threads.count) { shell.relocated($0.line, from: $0.folder, to: folder) }
            // The same commands and figures count as the same session (its header has the date and machine).
            let commands = { (data: Data) in String(decoding: data, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("# ") } }
            let written = try shell.write(Data(script.utf8), to: file) { commands($0) == commands($1) }
            shell.savedEntries = shell.session.entries.count
            shell.print("saved \(shell.session.entries.count) commands to \(written == file ? path : written)")
        },
        CommandSpec(["undo"], arguments: [.init("n", .text, required: false)],
                    summary: "Go back to the workspace before the last command (or the last N, up to \(Shell.undoDepth)): weights, optimizer, datasets, generator, current model; the commands leave the session. Files they wrote are kept.",
                    example: "undo 2", recording: .never) { shell, command in
            let n = try count(command.argument("n"), default: 1, range: 1...Shell.undoDepth, what: "undo N")
            guard !shell.undoable.isEmpty else {
                throw ShellError(shell.session.entries.isEmpty ? "nothing to undo: no command has changed the workspace yet"
                                 : "nothing more to undo: graft keeps the last \(Shell.undoDepth) commands that changed the workspace")
            }
            let kept = shell.undoable.count
            let undone = shell.undo(n)
            for line in undone { shell.print("undone: \(line)") }
            let wrote = undone.filter { $0.hasPrefix("save ") || $0.hasPrefix("export ") }
            if !wrote.isEmpty { shell.print("the files \(wrote.count == 1 ? "it" : "they") wrote are kept") }
            if n > kept { shell.print("only \(kept) command\(kept == 1 ? " was" : "s were") kept for undo") }
            shell.print("the session has \(shell.session.entries.count) command\(shell.session.entries.count == 1 ? "" : "s"); current model \(shell.currentModel ?? "none"), dataset \(shell.currentDataset ?? "none")")
        },
        CommandSpec(["replay"], arguments: [.init("path", .path)], flags: ["verify"],
                    summary: "Run a saved session here, line by line ('verify' checks the figures under #=>); stops at the first error.",
                    example: "replay Sessions/quickstart.graft verify", recording: .never) { shell, command in
            let path = shell.resolve(command.argument("path") ?? "")
            let report = try ScriptRunner(shell: shell, verify: command.has("verify"), echo: true).run(path: path)
            shell.print(report.summary)
            if !report.succeeded { throw ShellError(report.failure ?? "replay failed") }
        },
    ]
}
