@preconcurrency import Foundation

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

/// The escaping function for text from files (file and folder names, names inside models) that
/// reaches the terminal: control characters (escape sequences, carriage returns, bells) are shown
/// as `?`, so a name cannot move the cursor, recolour the screen or hide a line.
enum Terminal {
    static func visible(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            let category = scalar.properties.generalCategory
            return category == .control || category == .format && scalar.value >= 0x202A && scalar.value <= 0x202E ? "?" : Character(scalar)
        })
    }

    /// `text` in at most `width` characters: whole when it fits, else its start and its end around
    /// "…" (a file name's end tells files apart: `triangle_…004.png`).
    static func fitted(_ text: String, width: Int) -> String {
        guard text.count > width, width > 1 else { return text.count > width ? String(text.prefix(width)) : text }
        let tail = (width - 1) / 2 + (width - 1) % 2, head = width - 1 - tail
        return String(text.prefix(head)) + "…" + String(text.suffix(tail))
    }
}
