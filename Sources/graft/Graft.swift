import ArgumentParser
import Foundation
import GraftFormats
import GraftShell
import GraftTensor

@main
struct Graft: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graft",
        abstract: "Transfer learning from a shell: load a pretrained model, freeze it, graft a new head, train, evaluate.",
        discussion: """
        With no subcommand, graft starts its shell: line editing, history and tab completion on a terminal, \
        plain lines when standard input is a pipe (echo summary | graft). Inside, type 'help'.
        """,
        version: graftVersion,
        subcommands: [Shell_.self, Run.self, ExportPyTorch.self],
        defaultSubcommand: Shell_.self)

    static func main() {
        BLASCore.relaunchIfNeeded()
        // Saves killed mid-write (power cut, kill -9) leave their temporary files; the next start
        // removes those of processes that are gone, here and in the sessions folder.
        let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let removed = removeStaleTemporaries(in: here) + removeStaleTemporaries(in: here.appendingPathComponent("Sessions"))
        if let note = staleTemporariesNote(removed) { FileHandle.standardError.write(Data((note + "\n").utf8)) }
        if ProcessInfo.processInfo.environment["GRAFT_PEAK_MEMORY"] != nil {
            // For memory tests: the process's peak resident memory, on standard error at exit.
            atexit {
                let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
                let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? "VmHWM: unknown"
                FileHandle.standardError.write(Data("peak memory: \(line.dropFirst("VmHWM:".count).trimmingCharacters(in: .whitespaces))\n".utf8))
            }
        }
        main(nil)
    }
}

struct CommonOptions: ParsableArguments {
    @Option(help: "Seed of the session's generator.") var seed: UInt64 = 42
    @Option(help: "Threads for graft's kernels and GEMM (default: the cores).") var threads: Int?

    func apply() throws {
        if let threads { try Threads.set(threads) } else { try Threads.set(Threads.defaultCount) }
    }
}

/// The interactive shell (or plain lines from a pipe).
struct Shell_: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "shell", abstract: "Start the shell (the default).")
    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.apply()
        let shell = Shell(seed: common.seed)
        let editor = LineEditor(completer: Completer(shell: shell), historyPath: LineEditor.defaultHistoryPath)
        var failures = 0
        shell.mode = editor.interactive ? .interactive : .piped
        if editor.interactive {
            Interrupt.install()
            shell.interruptRequested = { Interrupt.requested }
            shell.print("graft \(graftVersion): transfer learning from a shell. Type 'help' for the commands, 'quit' or Ctrl-D to leave.")
        }
        var lineNumber = 0
        while !shell.quitRequested {
            let prompt = "graft[\(shell.currentModel ?? "-")]:\(shell.cell + 1)> "
            guard let line = editor.readLine(prompt: prompt) else {
                if let hint = shell.unsavedHint, shell.mode == .interactive || !shell.session.entries.isEmpty { shell.print(hint) }
                break
            }
            lineNumber += 1
            let outcome = shell.execute(line)
            if let error = outcome.error {
                failures += 1
                if editor.interactive {
                    let caretLine = error.column.map { String(repeating: " ", count: prompt.count + $0) + String(repeating: "^", count: error.width) }
                    if let caretLine { shell.print(caretLine) }
                    shell.print("error: " + error.message)
                } else {
                    shell.print(shell.describe(error, line: line.trimmingCharacters(in: .whitespaces), prefix: "<stdin>:\(lineNumber): "))
                }
            }
            if Interrupt.requested { Interrupt.reset() }
        }
        editor.saveHistory()
        if !editor.interactive && failures > 0 { throw ExitCode(1) }
    }
}

/// Replays a script non-interactively.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a session script: stops at the first error with FILE:LINE and exits non-zero.",
        discussion: "'-' reads the script from standard input. The script's own 'seed' and 'set threads' lines decide its numbers.")

    @Argument(help: "The script (.graft), or - for standard input.") var file: String
    @Flag(help: "Check the figures recorded under each command (#=> lines).") var verify = false
    @Flag(help: "Run every line even after an error.") var keepGoing = false
    @Flag(help: "Rewrite the script with the figures of this run under each command (#=> lines) and this machine in its header.")
    var record = false
    @Option(help: "Also write a Markdown transcript (its pictures as files in a folder beside it).") var transcript: String?
    @Option(help: "Also write the transcript as one self-contained HTML page (pictures inlined).") var html: String?
    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.apply()
        var notebook: Transcript? = nil
        if transcript != nil || html != nil {
            let markdown = transcript ?? URL(fileURLWithPath: html ?? "").deletingPathExtension().appendingPathExtension("md").path
            notebook = try Transcript(path: markdown, title: URL(fileURLWithPath: file).lastPathComponent, html: html)
        }
        let output: OutputSink = notebook.map { TeeOutput([StandardOutput(), $0.sink]) } ?? StandardOutput()
        let shell = Shell(seed: common.seed, output: output)
        Interrupt.install()
        shell.interruptRequested = { Interrupt.requested }
        if let notebook {
            shell.chartSink = { title, epochs in notebook.chart(title: title, epochs: epochs) }
            shell.pictureSink = { title, name, data in notebook.picture(title: title, name: name, data: data) }
        }
        var runner = ScriptRunner(shell: shell, verify: verify, keepGoing: keepGoing, echo: true)
        runner.willRun = { _, _ in notebook?.begin() }
        runner.didRun = { _, line, outcome in
            notebook?.cell(number: shell.cell, command: line, failed: !outcome.succeeded)
            notebook?.flushImages()
        }
        var produced: [Int: [String]] = [:]
        let previous = runner.didRun
        runner.didRun = { number, line, outcome in
            previous?(number, line, outcome)
            if !outcome.figures.isEmpty { produced[number] = outcome.figures }
        }
        let report = try runner.run(path: file)
        shell.print(report.summary)
        try notebook?.write()
        if record && report.errors == 0 && file != "-" {
            try ScriptRunner.rewrite(path: file, figures: produced, numerics: shell.session.numerics)
            shell.print("recorded the figures into \(file)")
        }
        if !report.succeeded { throw ExitCode(1) }
    }
}

struct ExportPyTorch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-pytorch",
        abstract: "Replay a session, then export its current model and last training recipe as a PyTorch project (as 'export pytorch DIR' does).",
        discussion: "DIR gets model.py, weights.safetensors, train.py (run it with python, or with torchrun for DistributedDataParallel), data/ and README.md.")

    @Argument(help: "The session script (.graft).") var session: String
    @Argument(help: "The folder to write (new, empty, or an earlier export).") var dir: String
    @Option(help: "Also write the dataset's splits as data/*.npy (yes or no).") var data = "yes"
    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.apply()
        let shell = Shell(seed: common.seed, output: StandardOutput())
        Interrupt.install()
        shell.interruptRequested = { Interrupt.requested }
        var runner = ScriptRunner(shell: shell, verify: false, keepGoing: false, echo: false)
        let report = try runner.run(path: session)
        guard report.succeeded else {
            shell.print(report.summary)
            throw ExitCode(1)
        }
        let quoted = "\"" + dir.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        let outcome = shell.execute("export pytorch \(quoted) data=\(data)")
        if let error = outcome.error {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}
