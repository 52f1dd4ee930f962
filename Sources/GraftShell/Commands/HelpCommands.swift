import Foundation
import GraftFormats
import GraftModels
import GraftNN
import GraftTensor

extension CommandTable {
    static let help: [CommandSpec] = [
        CommandSpec(["help"], arguments: [.init("command", .command, required: false, variadic: true)],
                    summary: "List the commands, or show one command's usage, options and an example.",
                    example: "help train", recording: .never) { shell, command in
            if let words = command.arguments["command"] {
                let name = words.joined(separator: " ")
                let matches = shell.parser.commands.filter { $0.name == name || ($0.words[0] == name && words.count == 1) }
                guard !matches.isEmpty else {
                    let names = shell.parser.commands.map(\.name)
                    throw ShellError("no command '\(name)'" + (nearest(name, in: names).map { "; did you mean '\($0)'?" } ?? ""))
                }
                shell.print(matches.map(\.help).joined(separator: "\n\n"))
                return
            }
            let width = shell.parser.commands.map { $0.name.count }.max() ?? 0
            shell.print("commands (help COMMAND for options and an example):")
            for spec in shell.parser.commands {
                shell.print("  " + spec.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + spec.summary)
            }
        },
        CommandSpec(["models"], flags: ["cached"], summary: "List the built-in architectures, and the models and datasets loaded in this session (* marks the current ones). 'cached' lists instead the models the frameworks' caches hold (torch hub, Hugging Face hub, Keras), which 'load NAME' opens.",
                    example: "models", recording: .never) { shell, command in
            if command.has("cached") {
                let entries = ModelCaches.list()
                guard !entries.isEmpty else {
                    shell.print("no cached models (looked in \(ModelCaches.roots(ProcessInfo.processInfo.environment).map { Terminal.visible($0.folder.path) }.joined(separator: ", ")))")
                    return
                }
                for entry in entries {
                    shell.print("  \(TextTable.cell(entry.name))  \(formatBytes(entry.bytes))  \(entry.cache): \(Terminal.visible(entry.path))")
                }
                return
            }
            shell.print("built-in architectures (new ARCH):")
            let width = Architecture.allCases.map { $0.rawValue.count }.max() ?? 0
            for architecture in Architecture.allCases {
                shell.print("  " + architecture.rawValue.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + architecture.summary)
            }
            if shell.models.isEmpty {
                shell.print("no models loaded yet")
            } else {
                shell.print("loaded models:")
                for name in shell.models.keys.sorted() {
                    guard let model = shell.models[name] else { continue }
                    let marker = name == shell.currentModel ? "*" : " "
                    shell.print(" \(marker) \(Terminal.visible(name)): \(Terminal.visible(model.architecture)), \(grouped(model.parameterCount)) params (\(grouped(model.trainableParameterCount)) trainable), input \(model.describedInputShape), \(model.classNames.count) classes, \(formatBytes(Shell.bytes(of: model)))")
                }
            }
            defer { shell.print("memory: \(formatBytes(shell.workspace.total)) held of the limit of \(formatBytes(shell.memoryLimit)) (\(shell.workspace.description))") }
            guard !shell.datasets.isEmpty else { return }
            shell.print("datasets:")
            for name in shell.datasets.keys.sorted() {
                guard let data = shell.datasets[name] else { continue }
                let marker = name == shell.currentDataset ? "*" : " "
                let splits = [("train", Optional(data.train)), ("val", data.validation), ("test", data.test)].compactMap { split, samples in samples.map { "\(split) \($0.count)" } }
                shell.print(" \(marker) \(Terminal.visible(name)): \(data.classes) classes, samples \(data.sampleShape.map(String.init).joined(separator: "×")), \(splits.joined(separator: ", ")), \(formatBytes(data.memoryBytes))")
            }
        },
        CommandSpec(["use"], arguments: [.init("name", .model)], summary: "Make a loaded model or dataset the current one.",
                    example: "use resnet18", recording: .stateChange) { shell, command in
            let name = command.argument("name") ?? ""
            if shell.models[name] != nil {
                shell.currentModel = name
                shell.print("current model: \(name)")
            } else if shell.datasets[name] != nil {
                shell.currentDataset = name
                shell.print("current dataset: \(name)")
            } else {
                let names = Array(shell.models.keys) + Array(shell.datasets.keys)
                throw ShellError("no model or dataset named '\(name)'" + (nearest(name, in: names).map { "; did you mean '\($0)'?" } ?? ""))
            }
        },
        CommandSpec(["history"], summary: "List the session so far: the commands that will be saved by 'save session'.",
                    example: "history", recording: .never) { shell, _ in
            if shell.session.entries.isEmpty { shell.print("the session is empty"); return }
            for (index, entry) in shell.session.entries.enumerated() {
                shell.print(String(format: "%3d  ", index + 1) + Terminal.visible(entry.line))
            }
        },
        CommandSpec(["quit"], summary: "Leave graft (Ctrl-D does the same). With unsaved commands it asks once at a terminal, and says how to save them.",
                    example: "quit", recording: .never) { shell, _ in
            if let hint = shell.unsavedHint, shell.mode != .script {
                if shell.mode == .interactive && !shell.warnedAboutQuitting {
                    shell.warnedAboutQuitting = true
                    shell.print(hint + "; 'quit' again leaves without saving")
                    return
                }
                if shell.mode == .piped { shell.print(hint) }
            }
            shell.quitRequested = true
        },
    ]
}
