import Foundation
import GraftShell

/// The script target: a whole session script run through ``ScriptRunner`` with verification and
/// keep-going on, in a fresh shell per input. Commands that touch files or the machine (load,
/// save, replay, data from folders, predict on files, set) are absent from its command table, and
/// those that could run for minutes on legitimate input are held small: `new` builds only
/// mnist-cnn at inputs of 8×8 to 12×12, `data mnist` at most 3 digits a class at those sizes,
/// `train` at most 2 epochs, without checkpoints or resume (they are files). What is left is the
/// interpreter: lines, comments, `#=>` figures and their comparison, transactions, selectors, heads, copies and names.
enum ScriptTarget {
    static let allowed: Set<String> = ["help", "models", "use", "history", "seed", "summary", "show", "freeze", "unfreeze",
                                       "head", "copy", "new", "data mnist", "data info", "train", "eval", "quit"]

    static let commands: [CommandSpec] = CommandTable.all.compactMap { spec in
        guard allowed.contains(spec.name) else { return nil }
        switch spec.name {
        case "new":
            return limited(spec) { command in
                guard command.argument("arch") == "mnist-cnn", let input = command.string("input"), small(input.split(separator: "x").dropFirst()) else {
                    throw ShellError("fuzzing: new builds only mnist-cnn, at input=Cx8x8 to Cx12x12")
                }
            }
        case "data mnist":
            return limited(spec) { command in
                guard let perClass = command.int("per-class"), perClass <= 3, let size = command.string("size"), small(size.split(separator: "x")) else {
                    throw ShellError("fuzzing: data mnist needs per-class=1…3 and size=8…12")
                }
            }
        case "train":
            return limited(spec) { command in
                guard (command.int("epochs") ?? 5) <= 2 else { throw ShellError("fuzzing: train runs at most 2 epochs") }
                guard command.string("checkpoint") == nil, command.string("resume") == nil else {
                    throw ShellError("fuzzing: train touches no files (no checkpoint= or resume=)")
                }
            }
        default:
            return spec
        }
    }

    /// Image sides of 8 to 12 (the digits' and the model's: small enough for thousands of inputs a minute).
    static func small(_ sides: some Collection<Substring>) -> Bool {
        !sides.isEmpty && sides.allSatisfy { Int($0).map { (8...12).contains($0) } ?? false }
    }

    /// `spec`, refusing what `check` refuses before it runs.
    static func limited(_ spec: CommandSpec, _ check: @escaping @Sendable (ParsedCommand) throws -> Void) -> CommandSpec {
        CommandSpec(spec.words, arguments: spec.arguments, options: spec.options, flags: spec.flags, takesName: spec.takesName,
                    summary: spec.summary, example: spec.example, recording: spec.recording) { shell, command in
            try check(command)
            try spec.run(shell, command)
        }
    }

    static func run(_ data: Data) {
        let shell = Shell(seed: 1, output: DiscardingOutput(), commands: commands)
        _ = ScriptRunner(shell: shell, verify: true, keepGoing: true, echo: true).run(text: String(decoding: data, as: UTF8.self), name: "fuzz.graft")
    }
}
