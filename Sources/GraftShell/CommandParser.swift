import GraftNN

/// Matches a tokenized line against the command table and checks every value against its declaration.
public struct CommandParser: Sendable {
    public let commands: [CommandSpec]

    public init(_ commands: [CommandSpec]) { self.commands = commands }

    /// Every first word (`train`, `save`, `data`).
    public var commandWords: [String] { Array(Set(commands.map { $0.words[0] })).sorted() }

    public func parse(_ line: String) throws(ShellError) -> ParsedCommand? {
        let tokens = try Lexer.tokens(line)
        guard let first = tokens.first else { return nil }
        guard let word = first.word else {
            throw ShellError("a command starts with a word, not an option", column: first.column, width: first.width)
        }
        // The longest declaration whose words start the line.
        let candidates = commands.filter { spec in
            spec.words.count <= tokens.count && zip(spec.words, tokens).allSatisfy { $0.0 == $0.1.word }
        }
        guard let spec = candidates.max(by: { $0.words.count < $1.words.count }) else {
            let sameFirst = commands.filter { $0.words[0] == word }
            if !sameFirst.isEmpty {
                let next = tokens.count > 1 ? tokens[1] : first
                let choices = sameFirst.map { $0.words.dropFirst().joined(separator: " ") }
                let given = tokens.count > 1 ? (tokens[1].word ?? "") : ""
                let hint = nearest(given, in: choices).map { "; did you mean '\(word) \($0)'?" } ?? " (\(choices.map { "\(word) \($0)" }.joined(separator: ", ")))"
                throw ShellError(tokens.count > 1 ? "unknown '\(word) \(given)'" + hint : "'\(word)' needs one of: \(choices.joined(separator: ", "))",
                                 column: next.column, width: next.width)
            }
            let suggestion = nearest(word, in: commandWords).map { "; did you mean '\($0)'?" } ?? " (type 'help' for the list)"
            throw ShellError("unknown command '\(word)'" + suggestion, column: first.column, width: first.width)
        }
        var arguments: [String: [String]] = [:]
        var options: [String: String] = [:]
        var columns: [String: (Int, Int)] = [:]
        var paths: [(column: Int, width: Int, key: String?, value: String)] = []
        var flags = Set<String>()
        var name: String? = nil
        var positional = 0
        var rest = tokens.dropFirst(spec.words.count)[...]
        while let token = rest.popFirst() {
            switch token.kind {
            case let .option(key, value):
                // Selectors such as type=BatchNorm and last=2 are words of a selector list, not options.
                if spec.options.first(where: { $0.name == key }) == nil, positional < spec.arguments.count,
                   spec.arguments[positional].kind == .selector {
                    arguments[spec.arguments[positional].name, default: []].append("\(key)=\(value)")
                    if !spec.arguments[positional].variadic { positional += 1 }
                    continue
                }
                guard let option = spec.options.first(where: { $0.name == key }) else {
                    let alias = Self.aliases[key.lowercased()].flatMap { name in spec.options.contains { $0.name == name } ? name : nil }
                    let hint = (alias ?? nearest(key, in: spec.options.map(\.name))).map { "; did you mean '\($0)='?" }
                        ?? (spec.options.isEmpty ? " ('\(spec.name)' takes no options)" : " (options: \(spec.options.map { $0.name + "=" }.joined(separator: " ")))")
                    throw ShellError("unknown option '\(key)' for '\(spec.name)'" + hint, column: token.column, width: key.count)
                }
                guard options[key] == nil else { throw ShellError("option '\(key)' given twice", column: token.column, width: token.width) }
                try check(value, against: option, token: token)
                options[key] = value
                columns[key] = (token.column, token.width)
                if case .path = option.kind { paths.append((token.column, token.width, key, value)) }
            case let .word(word):
                if spec.flags.contains(word) {
                    flags.insert(word)
                } else if spec.takesName && word == "as" {
                    guard let next = rest.popFirst(), let value = next.word, !value.isEmpty else {
                        throw ShellError("'as' needs a name after it", column: token.column, width: token.width)
                    }
                    name = value
                } else if positional < spec.arguments.count {
                    let argument = spec.arguments[positional]
                    arguments[argument.name, default: []].append(word)
                    if argument.kind == .path { paths.append((token.column, token.width, nil, word)) }
                    if !argument.variadic { positional += 1 }
                } else {
                    let hint = nearest(word, in: spec.flags).map { "; did you mean '\($0)'?" } ?? " (usage: \(spec.usage))"
                    throw ShellError("unexpected '\(word)' for '\(spec.name)'" + hint, column: token.column, width: token.width)
                }
            }
        }
        if let missing = spec.arguments.first(where: { $0.required && arguments[$0.name] == nil }) {
            throw ShellError("'\(spec.name)' needs \(missing.name.uppercased()) (usage: \(spec.usage))")
        }
        var parsed = ParsedCommand(spec: spec, line: line, arguments: arguments, options: options, flags: flags, name: name, optionColumns: columns)
        parsed.pathTokens = paths
        return parsed
    }

    /// What Keras, PyTorch and fastai call graft's options, for "did you mean" when one is typed.
    static let aliases: [String: String] = [
        "learning_rate": "lr", "learning-rate": "lr", "learningrate": "lr", "base_lr": "lr", "max_lr": "lr",
        "batch_size": "batch", "batch-size": "batch", "batchsize": "batch", "bs": "batch",
        "weight_decay": "wd", "weight-decay": "wd", "decay": "wd",
        "num_epochs": "epochs", "n_epochs": "epochs", "nb_epoch": "epochs", "epoch": "epochs",
        "label_smoothing": "smoothing", "label-smoothing": "smoothing",
        "validation_split": "val", "valid_pct": "val", "validation": "val",
        "class_weight": "class-weights", "class_weights": "class-weights", "weights": "class-weights",
        "early_stopping": "patience", "scheduler": "schedule", "lr_scheduler": "schedule", "opt": "optimizer",
        "clipnorm": "clip", "clip_grad_norm": "clip", "max_norm": "clip", "freeze_epochs": "freeze-epochs",
        "image_size": "size", "img_size": "size", "input_size": "input", "num_classes": "classes", "n_classes": "classes",
    ]

    /// 10.0 → "10", 1e-08 → "1e-08".
    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(format: "%g", value)
    }

    private func check(_ value: String, against option: CommandSpec.Option, token: Token) throws(ShellError) {
        let valueColumn = token.column + option.name.count + 1
        let valueWidth = max(1, token.width - option.name.count - 1)
        func fail(_ message: String) -> ShellError { ShellError(message, column: valueColumn, width: valueWidth) }
        switch option.kind {
        case let .int(range):
            guard let number = Int(value) else { throw fail("\(option.name) must be a whole number, got '\(value)'") }
            guard range.contains(number) else { throw fail("\(option.name) must be in \(range.lowerBound)–\(range.upperBound), got \(number)") }
        case let .float(range):
            guard let number = Double(value), number.isFinite else { throw fail("\(option.name) must be a number, got '\(value)'") }
            guard range.contains(number) else { throw fail("\(option.name) must be in \(Self.format(range.lowerBound))–\(Self.format(range.upperBound)), got \(value)") }
        case let .choice(values):
            guard values.contains(value) else {
                throw fail("\(option.name) must be one of \(values.joined(separator: ", ")), got '\(value)'" + (nearest(value, in: values).map { "; did you mean '\($0)'?" } ?? ""))
            }
        case .text, .path:
            guard !value.isEmpty else { throw fail("\(option.name) needs a value") }
        case .intList:
            let parts = value.split(separator: ",", omittingEmptySubsequences: false)
            guard !parts.isEmpty, parts.allSatisfy({ Int($0).map { $0 > 0 && $0 <= 1 << 20 } ?? false }) else {
                throw fail("\(option.name) must be positive whole numbers separated by commas, got '\(value)'")
            }
        case .shape:
            let parts = value.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            guard parts.count == 3, parts.allSatisfy({ Int($0).map { $0 > 0 && $0 <= 8192 } ?? false }) else {
                throw fail("\(option.name) must be CxHxW like 3x224x224, got '\(value)'")
            }
        case let .size(range):
            let parts = value.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), parts.allSatisfy({ Int($0).map(range.contains) ?? false }) else {
                throw fail("\(option.name) must be N or HxW with sides in \(range.lowerBound)–\(range.upperBound), like 224 or 48x192, got '\(value)'")
            }
        }
    }
}

extension ParsedCommand {
    /// `hidden=256,64` → [256, 64].
    public func intList(_ name: String) -> [Int] { options[name].map { $0.split(separator: ",").compactMap { Int($0) } } ?? [] }

    /// `size=224` → (224, 224); `size=48x192` → (48, 192).
    public func size(_ name: String) -> (height: Int, width: Int)? {
        guard let parts = options[name]?.lowercased().split(separator: "x").compactMap({ Int($0) }), let first = parts.first else { return nil }
        return (first, parts.count > 1 ? parts[1] : first)
    }

    /// `input=3x64x64` → [3, 64, 64].
    public func shape(_ name: String) -> [Int]? { options[name].map { $0.lowercased().split(separator: "x").compactMap { Int($0) } } }
}
