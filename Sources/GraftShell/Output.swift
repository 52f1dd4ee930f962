@preconcurrency import Foundation
import GraftFormats

/// Where the shell's output goes: the terminal, a captured string (tests), a transcript.
public protocol OutputSink: AnyObject {
    func write(_ text: String)
    /// True when output reaches a person at a terminal (progress bars, paging).
    var isTerminal: Bool { get }
}

/// Standard output.
public final class StandardOutput: OutputSink {
    public let isTerminal: Bool
    public init(isTerminal: Bool = isatty(STDOUT_FILENO) != 0) { self.isTerminal = isTerminal }
    public func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

/// Collects everything written (tests, transcripts).
public final class CapturedOutput: OutputSink {
    public private(set) var text = ""
    public let isTerminal = false
    public init() {}
    public func write(_ text: String) { self.text += text }
    public func take() -> String { defer { text = "" }; return text }
}

/// Writes to several sinks.
public final class TeeOutput: OutputSink {
    let sinks: [OutputSink]
    public init(_ sinks: [OutputSink]) { self.sinks = sinks }
    public var isTerminal: Bool { sinks.contains { $0.isTerminal } }
    public func write(_ text: String) { for sink in sinks { sink.write(text) } }
}

/// The escaping function for text from files (file and folder names, names inside models, class
/// names) that reaches the terminal: controls (escape sequences, newlines, carriage returns, bells),
/// separators and bidirectional overrides are shown as escapes (`\x1b`, `\x0a`, `\u202e`), so a name
/// cannot move the cursor, recolour the screen, retitle the window, hide a line or forge one.
enum Terminal {
    static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.escaped != nil }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if let escape = scalar.escaped { out += escape } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// `text` in at most `width` characters: whole when it fits, else its start and its end around
    /// "…" (a file name's end tells files apart: `triangle_…004.png`).
    static func fitted(_ text: String, width: Int) -> String {
        guard text.count > width, width > 1 else { return text.count > width ? String(text.prefix(width)) : text }
        let tail = (width - 1) / 2 + (width - 1) % 2, head = width - 1 - tail
        return String(text.prefix(head)) + "…" + String(text.suffix(tail))
    }
}
