import Foundation
import GraftModels
import GraftNN

/// Tab completion, as a pure function of the shell's state and the text before the cursor: command
/// words, option names (`epochs=`), flags, architecture, layer, model and dataset names, and paths.
public struct Completer {
    public let shell: Shell

    public init(shell: Shell) { self.shell = shell }

    /// What the last word (`prefix`) could become; paths when the argument is a path.
    public func candidates(before cursor: String) -> (words: [String], wantsPaths: Bool) {
        let endsWithSpace = cursor.last == " "
        var words = cursor.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let prefix = endsWithSpace ? "" : (words.popLast() ?? "")
        let commands = shell.parser.commands
        if words.isEmpty {
            return (shell.parser.commandWords.filter { $0.hasPrefix(prefix) }, false)
        }
        // Sub-command words (`save model`, `data mnist`).
        let subcommands = commands.filter { $0.words.count > words.count && Array($0.words.prefix(words.count)) == words }
        if !subcommands.isEmpty {
            return (Array(Set(subcommands.map { $0.words[words.count] })).sorted().filter { $0.hasPrefix(prefix) }, false)
        }
        guard let spec = commands.filter({ $0.words.count <= words.count && Array(words.prefix($0.words.count)) == $0.words })
            .max(by: { $0.words.count < $1.words.count }) else { return ([], false) }
        if let equals = prefix.firstIndex(of: "=") {
            // Values of an option.
            let key = String(prefix[..<equals]), typed = String(prefix[prefix.index(after: equals)...])
            guard let option = spec.options.first(where: { $0.name == key }) else { return ([], false) }
            var values: [String] = []
            switch option.kind {
            case let .choice(choices): values = choices
            case .text:
                if ["at", "layers"].contains(key) { values = layerNames() }
                if key == "on" { values = shell.datasets.keys.sorted() }
                if key == "arch" { values = Architecture.allCases.map(\.rawValue) }
            default: break
            }
            return (values.filter { $0.hasPrefix(typed) }.map { "\(key)=\($0)" }, false)
        }
        var found = spec.options.map { $0.name + "=" } + spec.flags
        if spec.takesName { found.append("as") }
        let given = words.count - spec.words.count - words.filter { $0.contains("=") }.count
        let argument = given < spec.arguments.count ? spec.arguments[given] : spec.arguments.last.flatMap { $0.variadic ? $0 : nil }
        var wantsPaths = false
        switch argument?.kind {
        case .architecture?: found += Architecture.allCases.map(\.rawValue)
        case .layer?, .selector?: found += layerNames() + (argument?.kind == .selector ? ["all", "type=", "last="] : [])
        case .model?: found += shell.models.keys.sorted()
        case .dataset?: found += shell.datasets.keys.sorted()
        case .command?: found += shell.parser.commandWords
        case .path?: wantsPaths = true
        default: break
        }
        if spec.words == ["use"] { found += shell.models.keys.sorted() + shell.datasets.keys.sorted() }
        return (found.filter { $0.hasPrefix(prefix) }, wantsPaths)
    }

    /// Layer names of the current model, plus their block prefixes (`layer4`).
    func layerNames() -> [String] {
        guard let model = try? shell.model() else { return [] }
        var names = model.nodes.dropFirst().map(\.name)
        var prefixes = Set<String>()
        for name in names {
            let parts = name.split(separator: ".")
            for n in stride(from: 1, to: parts.count, by: 1) { prefixes.insert(parts.prefix(n).joined(separator: ".")) }
        }
        names += prefixes.sorted()
        return names
    }
}
