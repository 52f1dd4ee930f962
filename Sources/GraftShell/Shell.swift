import Foundation
import GraftData
import GraftModels
import GraftNN
import GraftTensor
import GraftTraining

/// The workspace and interpreter behind the prompt and behind `graft run`: loaded models and
/// datasets, the current selection, the session's one generator, and the session record. Typed
/// lines and script lines go through the same `execute`.
public final class Shell: @unchecked Sendable {
    public let output: OutputSink
    public let parser: CommandParser

    // Workspace
    public internal(set) var models: [String: Model] = [:]
    var trainers: [String: Trainer] = [:]
    public internal(set) var datasets: [String: Dataset] = [:]
    public internal(set) var currentModel: String?
    public internal(set) var currentDataset: String?
    /// The session's generator: every random draw (initialization, shuffling, dropout, augmentation) comes from it.
    public internal(set) var generator: Generator
    public internal(set) var seed: UInt64
    /// The seed the session started from (what a saved session replays from).
    public let initialSeed: UInt64
    public internal(set) var session = SessionRecord()
    /// What this shell wrote, and where relative paths resolve (see ``SessionFiles``).
    var files = SessionFiles()
    /// Lines run so far, blank lines and comments aside (the notebook cell number): commands that
    /// succeeded, failed or did not parse alike.
    public internal(set) var cell = 0
    /// Set by the interrupt handler (Ctrl-C); long commands poll it and stop cleanly.
    public var interruptRequested: () -> Bool = { false }
    /// The last training run's epochs (for the chart and the transcript).
    public internal(set) var lastTraining: [EpochRecord] = []
    /// Each model's last training command as a recipe (what `export pytorch` writes as train.py).
    public internal(set) var recipes: [String: TrainingRecipe] = [:]
    /// Receives charts for transcripts (nil: charts only as text).
    public var chartSink: ((String, [EpochRecord]) -> Void)?
    /// Receives every other picture for transcripts: a title, a file name (`lr-find.svg`,
    /// `top-losses.png`) and its bytes.
    public var pictureSink: ((_ title: String, _ name: String, _ data: Data) -> Void)?
    /// Set by `quit`.
    public internal(set) var quitRequested = false
    /// Folder `save session` uses for bare names.
    public var sessionsFolder = "Sessions"

    /// Who is typing: a person at a terminal, a pipe, or a script being replayed (`graft run`).
    public enum Mode: Sendable { case interactive, piped, script }
    public var mode = Mode.script
    /// How many session entries the last `save session` wrote.
    var savedEntries = 0
    /// The most memory the workspace may hold (`set memory=GB`): what it keeps (models, datasets,
    /// snapshots for undo) and what a command adds. Half the machine's, at most 8 GiB, and at most
    /// half the address space the process may take (`ulimit -v`).
    public var memoryLimit = Shell.defaultMemoryLimit

    static var defaultMemoryLimit: Int {
        var limit = min(8 << 30, Int(ProcessInfo.processInfo.physicalMemory / 2))
        var space = rlimit()
        if getrlimit(Int32(RLIMIT_AS.rawValue), &space) == 0, space.rlim_cur < UInt64(Int.max) {  // RLIM_INFINITY is all ones
            limit = min(limit, Int(space.rlim_cur) / 2)
        }
        return limit
    }

    /// Refuses a command that would take the workspace past ``memoryLimit``, and says so when it
    /// takes over a gigabyte — before allocating anything.
    func reserve(_ bytes: Int, for what: String) throws {
        if let refusal = memoryRefusal(bytes, for: what) { throw ShellError(refusal) }
    }

    /// Why `bytes` for `what` is refused (nil: allowed; over a gigabyte, a note says so).
    func memoryRefusal(_ bytes: Int, for what: String) -> String? {
        guard bytes <= memoryLimit else {
            return "\(what) would take \(formatBytes(bytes)), more than the memory limit of \(formatBytes(memoryLimit)) (set memory=GB changes it)"
        }
        let held = workspace.total
        guard bytes <= memoryLimit - held else {
            return "\(what) would take \(formatBytes(bytes)) with \(formatBytes(held)) held (\(workspace.description)), more than the memory limit of \(formatBytes(memoryLimit)) (drop something with 'undo', or set memory=GB)"
        }
        if bytes > 1 << 30 { print("note: \(what) takes about \(formatBytes(bytes))") }
        return nil
    }

    /// What the workspace holds in memory, by kind (`models` lists each model's).
    struct Workspace {
        var models = 0, datasets = 0, snapshots = 0, largest: (name: String, bytes: Int)? = nil, count = 0
        var total: Int { models + datasets + snapshots }
        var description: String {
            var parts = ["models \(formatBytes(models))" + (count > 1 ? " in \(count)" : "") + (largest.map { count > 1 ? ", the largest \($0.name) \(formatBytes($0.bytes))" : "" } ?? "")]
            if datasets > 0 { parts.append("datasets \(formatBytes(datasets))") }
            if snapshots > 0 { parts.append("undo and recipes \(formatBytes(snapshots))") }
            return parts.joined(separator: "; ")
        }
    }

    /// Bytes a model's weights and buffers take.
    static func bytes(of model: Model) -> Int {
        (model.parameterCount + model.buffers.reduce(0) { $0 + $1.tensor.count }) * MemoryLayout<Float>.stride
    }

    var workspace: Workspace {
        var w = Workspace()
        var seen = Set<ObjectIdentifier>()
        for (name, model) in models where seen.insert(ObjectIdentifier(model)).inserted {
            let bytes = Self.bytes(of: model)
            w.models += bytes
            w.count += 1
            if bytes > (w.largest?.bytes ?? -1) { w.largest = (name, bytes) }
        }
        w.datasets = datasets.values.reduce(0) { $0 + $1.memoryBytes }
        w.snapshots = undoable.reduce(0) { $0 + $1.before.bytes } + recipes.values.reduce(0) { $0 + ($1.start?.bytes ?? 0) }
        return w
    }

    /// Runs work that builds a model from sizes it was given (an architecture, a file) under an
    /// allocation budget of what the memory limit leaves beside the workspace: a layer that would
    /// take more is refused before it is allocated or mapped, naming what holds the memory.
    func building<T>(_ what: String, _ body: () throws -> T) throws -> T {
        let held = workspace
        let budget = AllocationBudget(limit: memoryLimit - held.total, held: held.total)
        do { return try budget.run(body) } catch {
            guard budget.refused else { throw error }
            throw ShellError("\(what): \(error)" + (held.total > 0 ? "; the workspace holds \(held.description)" : ""))
        }
    }
    /// The scripts being replayed, outermost first (a replay inside a replay is refused when it
    /// would loop, or nest deeper than ``ScriptRunner/maxReplayDepth``).
    var replaying: [String] = []
    /// `quit` with unsaved commands asks once at a terminal.
    var warnedAboutQuitting = false

    /// Commands recorded since the last `save session`.
    public var unsavedCommands: Int { session.entries.count - savedEntries }

    /// What to say when leaving with unsaved commands (nil: nothing unsaved).
    public var unsavedHint: String? {
        unsavedCommands == 0 ? nil : "\(unsavedCommands) command\(unsavedCommands == 1 ? "" : "s") of this session \(unsavedCommands == 1 ? "is" : "are") not saved: 'save session NAME' keeps them"
    }

    private var figures: [String] = []
    private var figureScales: [[String: FigureScale]] = []
    /// The running command's figures so far (a command that runs others keeps its own across them).
    var pendingFigures: ([String], [[String: FigureScale]]) {
        get { (figures, figureScales) }
        set { (figures, figureScales) = newValue }
    }

    public init(seed: UInt64 = 42, output: OutputSink = StandardOutput(), commands: [CommandSpec] = CommandTable.all) {
        self.seed = seed
        self.initialSeed = seed
        self.generator = Generator(seed: seed)
        self.output = output
        self.parser = CommandParser(commands)
    }

    // MARK: Output

    public func print(_ text: String = "") { output.write(text + "\n") }

    /// Records a figure for the current command (`accuracy 0.9380 loss 0.2012`): printed nowhere by
    /// itself, saved under the command as `#=>`, compared on verified replays.
    /// `scales` says what its numbers are over (samples of an accuracy, the standard error of a loss),
    /// for comparing them on a machine whose rounding differs.
    public func figure(_ text: String, scales: [String: FigureScale] = [:]) {
        figures.append(text)
        figureScales.append(scales)
    }

    // MARK: Running lines

    /// The outcome of one line.
    public struct Outcome: Sendable {
        public let command: ParsedCommand?
        /// The figures the command produced.
        public let figures: [String]
        public let error: ShellError?
        /// What each figure's numbers are over, by name (see ``FigureScale``).
        public var scales: [[String: FigureScale]] = []
        public var succeeded: Bool { error == nil }
    }

    /// Parses and runs one line; errors are returned (the caller shows them), never thrown. State
    /// is only changed by commands that succeed; successful state changes are recorded.
    @discardableResult
    public func execute(_ line: String) -> Outcome {
        figures = []
        figureScales = []
        let parsed: ParsedCommand?
        // One rule for the cell number: every line that is not blank or a comment takes one, whether
        // it runs, fails, or does not parse (as a notebook numbers every cell it ran).
        do { parsed = try parser.parse(line) } catch {
            cell += 1
            return Outcome(command: nil, figures: [], error: error)
        }
        guard let parsed else { return Outcome(command: nil, figures: [], error: nil) }
        cell += 1
        recordedLine = nil
        changedNothing = false
        // A command is a transaction: if it fails, everything it may have touched is put back.
        let before = parsed.spec.recording == .never ? nil : WorkspaceSnapshot(self)
        depth += 1
        defer { depth -= 1 }
        do {
            try parsed.spec.run(self, parsed)
        } catch {
            before?.restore(self)
            return Outcome(command: parsed, figures: figures, error: ShellError(error))
        }
        let produced = figures
        switch parsed.spec.recording {
        case .never: break
        case _ where changedNothing: break
        case .stateChange, .figures:
            let recorded = recordedLine ?? canonical(line)
            session.append(recorded, figures: produced, folder: pathBase)
            if depth == 1, let before { keepForUndo(recorded, before) }
        }
        return Outcome(command: parsed, figures: produced, error: nil, scales: figureScales)
    }

    /// How many `execute` calls are running (a replay runs its lines inside its own).
    private var depth = 0

    /// What `undo` can go back to: the workspace before each of the last recorded commands typed
    /// (or replayed) at the top level, newest last.
    var undoable: [(line: String, before: WorkspaceSnapshot)] = []
    /// How many commands `undo` keeps (fewer when their snapshots would take more than a quarter of
    /// the memory limit).
    static let undoDepth = 5

    private func keepForUndo(_ line: String, _ snapshot: WorkspaceSnapshot) {
        undoable.append((line, snapshot))
        if undoable.count > Self.undoDepth { undoable.removeFirst(undoable.count - Self.undoDepth) }
        while undoable.count > 1, undoable.reduce(0, { $0 + $1.before.bytes }) > memoryLimit / 4 { undoable.removeFirst() }
    }

    /// Puts the workspace back as it was before the last `count` recorded commands and removes them
    /// from the session; returns their lines, newest first.
    func undo(_ count: Int) -> [String] {
        var undone: [String] = []
        for _ in 0..<count {
            guard let (line, before) = undoable.popLast() else { break }
            before.restore(self)
            undone.append(line)
        }
        savedEntries = min(savedEntries, session.entries.count)
        return undone
    }

    /// Set by a command that must be recorded differently from how it was typed (an interrupted
    /// `train` is recorded with the step it stopped at, so that the session replays to its weights).
    var recordedLine: String?
    /// Set while a `resume=` rebuilds the model and data from a checkpoint's session: no checkpoints are written.
    var rebuildingFromCheckpoint = false
    /// Set by a command that only showed something this time (`set` with no setting, a `dry-run`):
    /// it is not recorded.
    var changedNothing = false

    /// The line as recorded: trimmed, without a trailing comment.
    func canonical(_ line: String) -> String {
        var text = line.trimmingCharacters(in: .whitespaces)
        if let tokens = try? Lexer.tokens(text), let last = tokens.last {
            let end = text.index(text.startIndex, offsetBy: min(text.count, last.column + last.width))
            text = String(text[..<end])
        }
        return text
    }

    /// Formats an error for the terminal: the caret line under the bad token (when known), then `error: …`.
    public func describe(_ error: ShellError, line: String, prefix: String = "", promptWidth: Int = 0) -> String {
        // The line and the message may hold what a file held: shown escaped, the caret under the
        // escaped token.
        var text = ""
        if let column = error.column {
            let shown = Terminal.visible(line)
            let before = Terminal.visible(String(line.prefix(column))).count
            let width = Terminal.visible(String(line.dropFirst(column).prefix(error.width))).count
            text += String(repeating: " ", count: promptWidth) + shown + "\n"
            text += String(repeating: " ", count: promptWidth + before) + String(repeating: "^", count: min(width, max(1, shown.count - before))) + "\n"
        }
        return text + prefix + "error: " + Terminal.visible(error.message)
    }

    // MARK: Workspace helpers for commands

    func model(_ name: String? = nil) throws(ShellError) -> Model {
        if let name {
            guard let model = models[name] else {
                throw ShellError("no model named '\(name)'" + (nearest(name, in: Array(models.keys)).map { "; did you mean '\($0)'?" } ?? " (models: \(models.keys.sorted().joined(separator: ", ")))"))
            }
            return model
        }
        guard let current = currentModel, let model = models[current] else {
            throw ShellError("no model yet: create one with 'new mnist-cnn' or 'load PATH'")
        }
        return model
    }

    func trainer(for name: String) -> Trainer? {
        guard let model = models[name] else { return nil }
        if let trainer = trainers[name], trainer.model === model { return trainer }
        let trainer = Trainer(model: model)
        trainers[name] = trainer
        return trainer
    }

    func dataset(_ name: String? = nil) throws(ShellError) -> Dataset {
        if let name {
            guard let data = datasets[name] else {
                throw ShellError("no dataset named '\(name)'" + (nearest(name, in: Array(datasets.keys)).map { "; did you mean '\($0)'?" } ?? " (datasets: \(datasets.keys.sorted().joined(separator: ", ")))"))
            }
            return data
        }
        guard let current = currentDataset, let data = datasets[current] else {
            throw ShellError("no dataset yet: load one with 'data mnist' or 'data images DIR'")
        }
        return data
    }

    /// A name for a model or dataset taken from a file or folder name: letters, digits, `-`, `_`
    /// and `.` kept, anything else (spaces, quotes, controls) as `_`, at most 64 characters, so it
    /// is one token later commands can use (`use NAME`) and shows as itself.
    static func name(fromFile text: String) -> String {
        let kept = String(String.UnicodeScalarView(text.unicodeScalars.prefix(64).map { scalar in
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar) ? scalar : "_"
        }))
        return kept.isEmpty || kept.allSatisfy({ $0 == "." }) ? "data" : kept
    }

    /// A fresh name like `resnet18`, `resnet18-2`.
    func uniqueName(_ base: String, in taken: Set<String>) -> String {
        if !taken.contains(base) { return base }
        var n = 2
        while taken.contains("\(base)-\(n)") { n += 1 }
        return "\(base)-\(n)"
    }

    func store(model: Model, as name: String) {
        model.name = name
        models[name] = model
        trainers[name] = nil
        currentModel = name
    }

    func store(dataset: Dataset, as name: String) {
        var data = dataset
        data.name = name
        datasets[name] = data
        currentDataset = name
    }

    func reseed(_ seed: UInt64) {
        self.seed = seed
        generator = Generator(seed: seed)
    }

    /// The session record is replaced by `replay` of a file into a fresh shell, never edited.
    func resetSession() { session = SessionRecord() }
}

/// The workspace before a command: what it must look like again if the command fails. Models are
/// kept by reference; the current one (the only one commands change in place) also by value.
struct WorkspaceSnapshot {
    let models: [String: Model]
    let trainers: [String: Trainer]
    let trainerStates: [String: TrainerState]
    let datasets: [String: Dataset]
    let currentModel: String?, currentDataset: String?
    let seed: UInt64
    let generator: Generator
    let generatorState: Generator.State
    let lastTraining: [EpochRecord]
    let recipes: [String: TrainingRecipe]
    let modelState: ModelState?
    let threads: Int
    let numerics: Numerics
    let precision: Precision
    /// Commands recorded so far (a command that runs others, as `train resume=` may, records them).
    let sessionEntries: Int

    /// Bytes the copied weights and buffers hold.
    var bytes: Int { modelState?.bytes ?? 0 }

    init(_ shell: Shell) {
        models = shell.models
        trainers = shell.trainers
        trainerStates = shell.currentModel.flatMap { name in shell.trainers[name].map { [name: $0.saveState()] } } ?? [:]
        datasets = shell.datasets
        currentModel = shell.currentModel
        currentDataset = shell.currentDataset
        seed = shell.seed
        generator = shell.generator
        generatorState = shell.generator.state
        lastTraining = shell.lastTraining
        recipes = shell.recipes
        modelState = shell.currentModel.flatMap { shell.models[$0] }?.saveState()
        threads = Threads.count
        numerics = Numerics.current
        precision = Precision.current
        sessionEntries = shell.session.entries.count
    }

    func restore(_ shell: Shell) {
        if let modelState, let name = currentModel { shell.models[name]?.restore(modelState) }
        shell.models = models
        shell.trainers = trainers
        for (name, state) in trainerStates { trainers[name]?.restore(state) }
        shell.datasets = datasets
        shell.currentModel = currentModel
        shell.currentDataset = currentDataset
        shell.seed = seed
        shell.generator = generator
        generator.state = generatorState
        shell.lastTraining = lastTraining
        shell.recipes = recipes
        if Threads.count != threads { try? Threads.set(threads) }
        Numerics.current = numerics
        try? Precision.set(precision)
        shell.session.truncate(to: sessionEntries)
    }
}
