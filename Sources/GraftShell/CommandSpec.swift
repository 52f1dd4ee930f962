/// A command's declaration: its words, arguments, options, help text and implementation. Parsing,
/// `help`, completion and error messages all read these declarations, so they cannot disagree.
public struct CommandSpec: Sendable {
    /// What a positional argument is, for completion and help.
    public enum ArgumentKind: Sendable { case path, layer, model, dataset, architecture, selector, text, command }

    public struct Argument: Sendable {
        public let name: String
        public let kind: ArgumentKind
        public let required: Bool
        /// Takes every remaining word.
        public let variadic: Bool
        public init(_ name: String, _ kind: ArgumentKind, required: Bool = true, variadic: Bool = false) {
            (self.name, self.kind, self.required, self.variadic) = (name, kind, required, variadic)
        }
    }

    /// The type of an option's value, with its range.
    public enum ValueKind: Sendable {
        case int(ClosedRange<Int>)
        case float(ClosedRange<Double>)
        case choice([String])
        case text
        /// A file or folder (resolved like a path argument: see ``SessionFiles``).
        case path
        /// Comma-separated positive integers (`hidden=256,64`).
        case intList
        /// `CxHxW` (`input=3x64x64`).
        case shape
        /// An image size: `N` (square) or `HxW` (`size=48x192`), each side within the range.
        case size(ClosedRange<Int>)
    }

    public struct Option: Sendable {
        public let name: String
        public let kind: ValueKind
        /// Shown in help; nil when the option has no default (absent means "not set").
        public let defaultValue: String?
        public let help: String
        public init(_ name: String, _ kind: ValueKind, default defaultValue: String? = nil, _ help: String) {
            (self.name, self.kind, self.defaultValue, self.help) = (name, kind, defaultValue, help)
        }

        var placeholder: String {
            switch kind {
            case .int: return "N"
            case .float: return "X"
            case let .choice(values): return values.joined(separator: "|")
            case .text: return "NAME"
            case .path: return "PATH"
            case .intList: return "N[,N…]"
            case .shape: return "CxHxW"
            case .size: return "N|HxW"
            }
        }
    }

    /// When the session records a command: never, when it changed state, or always (it produced figures to verify).
    public enum Recording: Sendable { case never, stateChange, figures }

    public let words: [String]
    public let arguments: [Argument]
    public let options: [Option]
    /// Bare words that switch something on (`eval confusion`, `replay PATH verify`).
    public let flags: [String]
    /// Takes `as NAME`.
    public let takesName: Bool
    public let summary: String
    public let example: String
    public let recording: Recording
    public let run: @Sendable (Shell, ParsedCommand) throws -> Void

    public init(_ words: [String], arguments: [Argument] = [], options: [Option] = [], flags: [String] = [], takesName: Bool = false,
                summary: String, example: String, recording: Recording, run: @escaping @Sendable (Shell, ParsedCommand) throws -> Void) {
        self.words = words
        self.arguments = arguments
        self.options = options
        self.flags = flags
        self.takesName = takesName
        self.summary = summary
        self.example = example
        self.recording = recording
        self.run = run
    }

    public var name: String { words.joined(separator: " ") }

    /// `train [epochs=N] [lr=X] …`, from the declaration.
    public var usage: String {
        var parts = words
        for argument in arguments {
            let shown = argument.name.uppercased() + (argument.variadic ? "..." : "")
            parts.append(argument.required ? shown : "[\(shown)]")
        }
        if takesName { parts.append("[as NAME]") }
        parts += flags.map { "[\($0)]" }
        parts += options.map { "[\($0.name)=\($0.placeholder)]" }
        return parts.joined(separator: " ")
    }

    /// The full help text of `help COMMAND`.
    public var help: String {
        var lines = ["usage: \(usage)", "", summary]
        if !options.isEmpty {
            lines.append("")
            lines.append("options:")
            let width = options.map { $0.name.count + $0.placeholder.count + 1 }.max() ?? 0
            for option in options {
                let left = "\(option.name)=\(option.placeholder)".padding(toLength: width, withPad: " ", startingAt: 0)
                var right = option.help
                if let value = option.defaultValue { right += " (default \(value))" }
                if case let .int(range) = option.kind { right += " [\(range.lowerBound)–\(range.upperBound)]" }
                if case let .size(range) = option.kind { right += " [\(range.lowerBound)–\(range.upperBound) a side]" }
                if case let .float(range) = option.kind { right += " [\(format(range.lowerBound))–\(format(range.upperBound))]" }
                lines.append("  \(left)  \(right)")
            }
        }
        if !flags.isEmpty { lines.append(""); lines.append("flags: " + flags.joined(separator: ", ")) }
        lines.append("")
        lines.append("example: \(example)")
        return lines.joined(separator: "\n")
    }

    private func format(_ value: Double) -> String { CommandParser.format(value) }
}

/// A command line matched against its declaration, with typed values.
public struct ParsedCommand: Sendable {
    public let spec: CommandSpec
    public let line: String
    /// Positional arguments by name (variadic ones hold several).
    public let arguments: [String: [String]]
    public let options: [String: String]
    public let flags: Set<String>
    public let name: String?
    /// Where each option's token is, for carets in execution errors.
    let optionColumns: [String: (Int, Int)]
    /// The tokens that name files (path arguments, path options): where they are, for `save
    /// session` to write them relative to the session's folder.
    var pathTokens: [(column: Int, width: Int, key: String?, value: String)] = []

    public func argument(_ name: String) -> String? { arguments[name]?.first }
    public func has(_ flag: String) -> Bool { flags.contains(flag) }

    public func int(_ name: String) -> Int? { options[name].flatMap { Int($0) } }
    public func float(_ name: String) -> Double? { options[name].flatMap { Double($0) } }
    public func string(_ name: String) -> String? { options[name] }

    /// An error pointing at option `name` (or the whole line).
    public func error(_ message: String, at option: String? = nil) -> ShellError {
        if let option, let (column, width) = optionColumns[option] { return ShellError(message, column: column, width: width) }
        return ShellError(message)
    }
}
