@preconcurrency import CLibEdit
@preconcurrency import Glibc
import Foundation
import GraftFormats
import Synchronization
import GraftTensor

/// Reads command lines: through libedit when both standard input and output are terminals (editing,
/// history, completion), plainly otherwise. The one file that touches libedit.
public final class LineEditor {
    public let interactive: Bool
    let historyPath: String?
    static let historyLimit: Int32 = 2000

    /// The completer libedit's C callbacks reach (libedit keeps one global state).
    nonisolated(unsafe) static var completer: Completer?
    nonisolated(unsafe) static var matches: [String] = []

    public init(completer: Completer?, historyPath: String?) {
        interactive = isatty(0) != 0 && isatty(1) != 0
        self.historyPath = historyPath
        guard interactive else { return }
        LineEditor.completer = completer
        rl_readline_name = UnsafePointer(strdup("graft"))
        rl_attempted_completion_function = { text, start, end in
            LineEditor.complete(text, Int(start), Int(end))
        }
        stifle_history(Self.historyLimit)
        if let historyPath { _ = read_history(historyPath) }
    }

    /// The next line, or nil at end of input (Ctrl-D). At the prompt, Ctrl-C clears the line and asks again.
    public func readLine(prompt: String) -> String? {
        guard interactive else {
            return Swift.readLine(strippingNewline: true)
        }
        while true {
            Interrupt.reset()
            guard let raw = readline(prompt) else {
                if Interrupt.requested {
                    Swift.print("")
                    continue
                }
                return nil
            }
            defer { free(raw) }
            let line = String(cString: raw)
            if !line.trimmingCharacters(in: .whitespaces).isEmpty { add_history(raw) }
            return line
        }
    }

    /// Writes the history file (libedit's format) through a temporary file and a rename.
    public func saveHistory() {
        guard interactive, let historyPath else { return }
        let folder = URL(fileURLWithPath: historyPath).deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = historyPath + ".tmp"
        if write_history(temporary) == 0 { rename(temporary, historyPath) } else { unlink(temporary) }
    }

    /// `$XDG_STATE_HOME/graft/history`, or `~/.local/state/graft/history`.
    public static var defaultHistoryPath: String? {
        let environment = ProcessInfo.processInfo.environment
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/graft/history" }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.local/state/graft/history"
    }

    static func complete(_ text: UnsafePointer<CChar>?, _ start: Int, _ end: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        guard let completer else { return nil }
        let buffer = rl_line_buffer.map { String(cString: $0) } ?? ""
        let before = String(buffer.prefix(end))
        let (words, wantsPaths) = completer.candidates(before: before)
        if wantsPaths && words.isEmpty {
            rl_attempted_completion_over = 0  // libedit's own filename completion
            return nil
        }
        rl_attempted_completion_over = 1
        guard !words.isEmpty else { return nil }
        matches = Completer.insertions(words, line: before, libeditStart: start)
        return rl_completion_matches(text) { _, state in
            let index = Int(state)
            guard index < LineEditor.matches.count else { return nil }
            return strdup(LineEditor.matches[index])
        }
    }
}

/// Ctrl-C: a flag set by the signal handler. At the prompt it clears the line; during a command,
/// long work polls it and stops cleanly (training stops after the current batch).
public enum Interrupt {
    // The flag is the readers' (``Cancellation``), so Ctrl-C also stops a long load.
    public static var requested: Bool { Cancellation.requested }
    public static func reset() { Cancellation.flag.store(false, ordering: .relaxed) }

    /// Installs the SIGINT handler (without SA_RESTART, so a blocking read returns).
    public static func install() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in Cancellation.flag.store(true, ordering: .relaxed) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
        // A parent may have started us with SIGINT blocked (signal masks survive exec): unblock it.
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &mask, nil)
    }
}
