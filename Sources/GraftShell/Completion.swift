import Foundation
import GraftModels
import GraftNN

/// Tab completion, as a pure function of the shell's state and the text before the cursor: command
/// words, option names (`epochs=`), flags, architecture, layer, model and dataset names, and paths.
public struct Completer {
    public let shell: Shell

    public init(shell: Shell) { self.shell = shell }

    /// The words of a line so far, with double quotes grouping (`data images "my photos"`), and
    /// where the last one starts.
    static func words(_ text: String) -> (words: [String], lastStart: Int) {
        var words: [String] = [], current = "", quoted = false, inWord = false
        var start = text.count, lastStart = text.count
        for (offset, character) in text.enumerated() {
            if character == "\"" { quoted.toggle(); if !inWord { inWord = true; start = offset }; continue }
            if character == " " && !quoted {
                if inWord { words.append(current); current = ""; inWord = false }
                continue
            }
            if !inWord { inWord = true; start = offset }
            current.append(character)
        }
        if inWord { words.append(current); lastStart = start } else { words.append(""); lastStart = text.count }
        return (words, lastStart)
    }

    /// What the last word (`prefix`) could become: complete words, quoted where they hold a space.
    /// Paths are listed from the file system (folders end in `/`).
    public func candidates(before cursor: String) -> (words: [String], wantsPaths: Bool) {
        var words = Self.words(cursor).words
        let prefix = words.popLast() ?? ""
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
            case .path: return (Self.paths(matching: typed).map { "\(key)=" + Self.quotedIfNeeded($0) }, true)
            default: break
            }
            return (values.filter { $0.hasPrefix(typed) }.map { "\(key)=\($0)" }, false)
        }
        var found = spec.options.map { $0.name + "=" } + spec.flags
        if spec.takesName { found.append("as") }
        let given = words.count - spec.words.count - words.filter { $0.contains("=") }.count
        let argument = given < spec.arguments.count ? spec.arguments[given] : spec.arguments.last.flatMap { $0.variadic ? $0 : nil }
        var wantsPaths = false
        if argument?.kind == .path || (spec.words == ["data", "npy"] && argument != nil) {
            let paths = Self.paths(matching: prefix)
            return ((found.filter { $0.hasPrefix(prefix) } + paths).map(Self.quotedIfNeeded), true)
        }
        switch argument?.kind {
        case .architecture?: found += Architecture.allCases.map(\.rawValue)
        case .layer?, .selector?: found += layerNames() + (argument?.kind == .selector ? ["all", "type=", "last="] : [])
        case .model?: found += shell.models.keys.sorted()
        case .dataset?: found += shell.datasets.keys.sorted()
        case .command?: found += shell.parser.commandWords
        case .path?: wantsPaths = true
        default: break
        }
        if spec.words == ["use"] { found += shell.datasets.keys.sorted() }
        var seen = Set<String>()
        return (found.filter { $0.hasPrefix(prefix) && seen.insert($0).inserted }.map(Self.quotedIfNeeded), wantsPaths)
    }

    /// A word the lexer reads back as one: quoted when it holds a space or a quote-free `#`.
    static func quotedIfNeeded(_ word: String) -> String {
        word.contains(" ") || word.contains("#") ? "\"" + word + "\"" : word
    }

    /// Files and folders whose path starts with `prefix` (`~` expanded for listing, kept as typed).
    static func paths(matching prefix: String) -> [String] {
        let slash = prefix.lastIndex(of: "/")
        let folderPart = slash.map { String(prefix[...$0]) } ?? ""
        let namePart = slash.map { String(prefix[prefix.index(after: $0)...]) } ?? prefix
        let folder = NSString(string: folderPart.isEmpty ? "." : folderPart).expandingTildeInPath
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return entries.filter { $0.hasPrefix(namePart) && (!$0.hasPrefix(".") || namePart.hasPrefix(".")) }.sorted().map { entry in
            var isFolder: ObjCBool = false
            FileManager.default.fileExists(atPath: folder + "/" + entry, isDirectory: &isFolder)
            return folderPart + entry + (isFolder.boolValue ? "/" : "")
        }
    }

    /// What libedit inserts for each candidate: libedit replaces only the text after its own word
    /// break (`=`, a space inside quotes), so the part of the candidate before that point goes.
    public static func insertions(_ candidates: [String], line before: String, libeditStart: Int) -> [String] {
        let ours = words(before).lastStart
        let drop = Swift.max(0, libeditStart - ours)
        return candidates.map { String($0.dropFirst(drop)) }
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
