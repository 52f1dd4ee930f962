import Foundation
import GraftFormats
import GraftData
import GraftModels
import GraftNN
import GraftTensor

extension CommandTable {
    static let models: [CommandSpec] = [
        CommandSpec(["new"], arguments: [.init("arch", .architecture)], options: [
            .init("classes", .int(2...100_000), "number of output classes (default: the architecture's)"),
            .init("input", .shape, "input shape CxHxW (default: the architecture's)"),
            .init("width", .float(0.1...4), default: "1", "width multiplier (mobilenetv2)"),
        ], takesName: true, summary: "Create a built-in architecture, freshly initialized from the session's seed.",
           example: "new resnet18 as r18 classes=10 input=3x64x64", recording: .stateChange) { shell, command in
            let architecture = try Architecture.named(command.argument("arch") ?? "")
            // Built once without memory (lazy zeros, no draws) to know its size before allocating it.
            let build = { (generator: Generator) in
                try shell.building("new \(architecture.rawValue)") {
                    try architecture.build(classes: command.int("classes"), inputShape: command.shape("input"),
                                           widthMultiplier: Float(command.float("width") ?? 1), generator: generator)
                }
            }
            try shell.reserve(try build(.structureOnly()).parameterCount * MemoryLayout<Float>.size, for: "\(architecture.rawValue)'s parameters")
            let model = try build(shell.generator)
            let name = command.name ?? shell.uniqueName(architecture.rawValue, in: Set(shell.models.keys))
            if shell.models[name] != nil { shell.print("replacing model \(name)") }
            shell.store(model: model, as: name)
            shell.print("\(name): \(architecture.rawValue), \(grouped(model.parameterCount)) parameters, input \(model.describedInputShape), \(model.outputShape[0]) classes")
        },
        CommandSpec(["summary"], arguments: [.init("model", .model, required: false)], options: [
            .init("layers", .text, "only the layers a selector names (layer4, type=BatchNorm, 3..10)"),
            .init("depth", .int(1...16), "collapse dotted names to this many parts, one row per block"),
        ], summary: "The layer table: name, type, output shape, parameters, trainable and mode; then the totals.",
           example: "summary depth=1", recording: .never) { shell, command in
            let model = try shell.model(command.argument("model"))
            if let depth = command.int("depth") {
                let rows = try command.string("layers").map { selector in [0] + (try LayerSelector.resolve(selector, in: model)) }
                shell.print(SummaryRenderer.collapsed(model, depth: depth, rows: rows))
            } else if let selector = command.string("layers") {
                let rows = try LayerSelector.resolve(selector, in: model)
                shell.print(model.summary(rows: [0] + rows))
            } else {
                shell.print(model.summary())
            }
            if let line = preprocessingLine(model) { shell.print(line) }
            if let line = augmentationLine(model) { shell.print(line) }
        },
        CommandSpec(["profile"], arguments: [.init("model", .model, required: false)], options: [
            .init("batch", .int(1...256), default: "8", "samples per pass"),
            .init("repeats", .int(1...100), default: "5", "timed passes after one warm-up (each figure is the median)"),
            .init("top", .int(1...10_000), default: "15", "rows shown, slowest first"),
            .init("input", .shape, "sample shape CxHxW, for a model whose input size is free (default: the size it was built for)"),
        ], summary: "Time an inference pass layer by layer, as predict runs it, on random inputs: the slowest steps (a fused group, such as a convolution with its BatchNorm and activation, or a separable block, is one step), each one's share of the pass, and images/s. Not recorded in the session: its figures are this machine's.",
           example: "profile batch=8 repeats=5 top=10", recording: .never) { shell, command in
            try profile(shell, command)
        },
        CommandSpec(["show"], arguments: [.init("layer", .layer)], summary: "Look inside one layer: settings, inputs, parameters with statistics, buffers.",
                    example: "show layer4.1.conv2", recording: .never) { shell, command in
            let model = try shell.model()
            let index = try model.index(of: command.argument("layer") ?? "")
            shell.print(SummaryRenderer.layer(model, index))
        },
        CommandSpec(["freeze"], arguments: [.init("selectors", .selector, variadic: true)],
                    summary: "Stop training the layers named (all, a name, a block, numbered blocks PREFIX.A-B, a glob, A..B, type=KIND, last=N).",
                    example: "freeze all", recording: .stateChange) { shell, command in
            try setTrainable(shell, command, false)
        },
        CommandSpec(["unfreeze"], arguments: [.init("selectors", .selector, variadic: true)], options: [
            .init("bn", .choice(["infer", "train"]), default: "infer",
                  "BatchNorm from a pretrained file or frozen before: keep normalizing with its running statistics (infer), or update them again (train)"),
        ], summary: "Train the layers named again (same selectors as freeze); pretrained BatchNorm keeps its statistics unless bn=train.",
                    example: "unfreeze layer4 fc", recording: .stateChange) { shell, command in
            try setTrainable(shell, command, true)
        },
        CommandSpec(["head"], options: [
            .init("classes", .int(2...100_000), "number of classes of the new head (default: the current dataset's)"),
            .init("at", .text, "cut after this layer (default: the last global pooling or flatten)"),
            .init("hidden", .intList, "hidden dense layers before the classifier, e.g. 256 or 256,64"),
            .init("dropout", .float(0...0.95), default: "0", "dropout before each dense layer"),
        ], summary: "Cut off the classifier and graft a new, trainable head (pooling, dropout, hidden layers, a dense layer per class).",
           example: "head classes=5 dropout=0.2", recording: .stateChange) { shell, command in
            let model = try shell.model()
            let data = try? shell.dataset()
            guard let classes = command.int("classes") ?? data?.classes else {
                throw ShellError("head needs classes=N (or a current dataset to take the classes from)")
            }
            let names = data.flatMap { $0.classes == classes ? $0.classNames : nil }
            let change = try model.replaceHead(classes: classes, classNames: names, cutAfter: command.string("at"), hidden: command.intList("hidden"),
                                               dropout: Float(command.float("dropout") ?? 0), generator: shell.generator) { bytes throws(ModelError) in
                if let refusal = shell.memoryRefusal(bytes, for: "the new head") { throw .invalidArgument(what: "head", reason: refusal) }
            }
            shell.trainers[shell.currentModel ?? ""] = nil
            shell.print("cut after \(change.cutAfter)")
            if !change.removed.isEmpty { shell.print("removed \(change.removed.count) layer\(change.removed.count == 1 ? "" : "s"): " + listed(change.removed.map { "\($0.name) (\($0.kind))" })) }
            for added in change.added {
                shell.print("added \(added.name): \(added.kind)" + (added.details.isEmpty ? "" : " (\(added.details))"))
            }
            shell.print("classes: \(listed(model.classNames, limit: 10))")
            shell.print("trainable params: \(grouped(model.trainableParameterCount)) of \(grouped(model.parameterCount))")
        },
        CommandSpec(["load"], arguments: [.init("path", .path)], options: [
            .init("arch", .text, "built-in architecture to map a state dict onto (found from the keys when omitted)"),
            .init("input", .shape, "input size CxHxW, for graphs whose input size is free"),
            .init("labels", .text, "class names, comma-separated"),
            .init("normalize", .choice(["unit", "symmetric", "imagenet"]), "how the model expects pixels in [0, 1] to be scaled"),
        ], takesName: true, summary: "Load a model: .safetensors (graft's or others'), PyTorch .pth/.pt, Keras .h5, ONNX .onnx, a Hugging Face folder (config.json and weights); a name that is no file is looked for in the torch hub, Hugging Face hub and Keras caches ('models --cached' lists them).",
           example: "load Examples/models/efficientnet-lite0.pth as lite", recording: .stateChange) { shell, command in
            var path = command.argument("path") ?? ""
            // Not a file: a model the frameworks' caches hold (torch hub, Hugging Face hub, Keras).
            if !FileManager.default.fileExists(atPath: shell.resolve(path)), let cached = ModelCaches.find(path) {
                shell.print("\(Terminal.visible(path)): in the \(cached.cache) cache at \(Terminal.visible(cached.path))")
                path = cached.path
            }
            if let hint = shell.nearbyName(path) { throw ShellError("cannot load \(path): no such file" + hint) }
            let (model, extras) = try shell.building("cannot load \(path)") {
                try ModelFiles.open(shell.resolve(path), architecture: command.string("arch"), inputShape: command.shape("input"))
            }
            if let labels = command.string("labels") {
                let names = labels.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard names.count == model.outputShape.last else {
                    throw command.error("labels has \(names.count) names, the model has \(model.outputShape.last ?? 0) outputs", at: "labels")
                }
                model.classNames = names
            }
            if let normalize = command.string("normalize") { model.normalization = try Normalization(name: normalize) }
            let name = command.name ?? shell.uniqueName(Shell.name(fromFile: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent), in: Set(shell.models.keys))
            shell.store(model: model, as: name)
            let statistics = model.buffers.reduce(0) { $0 + $1.tensor.count }
            shell.print("\(name): loaded \(Terminal.visible(path)): \(ModelFiles.formatName(path)), \(TextTable.cell(model.architecture)), \(model.nodes.count - 1) layers, \(grouped(model.parameterCount)) parameters"
                + (statistics > 0 ? " + \(grouped(statistics)) BatchNorm statistics" : "")
                + ", input \(model.describedInputShape), \(model.classNames.count) classes")
            if let line = preprocessingLine(model) { shell.print("\(name): " + line) }
            if let line = augmentationLine(model) { shell.print("\(name): " + line) }
            if let saved = extras.optimizer {
                do { shell.trainer(for: name)?.adopt(try saved.optimizer(for: model), from: path) } catch {
                    throw ShellError("cannot load \(path): \(error)")
                }
                shell.print("\(name): the file carries the optimizer's state (\(saved.description)): the next train with optimizer=\(saved.kind.description.split(separator: " ").first ?? "") and wd=\(CommandParser.format(Double(saved.weightDecay))) on the same trainable layers continues with it")
            }
            if let checkpoint = extras.checkpoint {
                shell.print("\(name): the file is a checkpoint of '\(checkpoint.command)' at \(checkpoint.progress.position)" + (checkpoint.progress.finished ? "" : "; 'train resume=\(path)' continues that run"))
            }
        },
        CommandSpec(["copy"], arguments: [.init("model", .model, required: false)], takesName: true,
                    summary: "Copy a model (weights, flags, head and all) under a new name, e.g. to compare transfer with training from scratch.",
                    example: "copy base as fewshot", recording: .stateChange) { shell, command in
            guard let name = command.name else { throw ShellError("copy needs a new name: copy [MODEL] as NAME") }
            let source = try shell.model(command.argument("model"))
            let copy = try shell.building("copy") { try ModelFiles.copy(source) }
            // The current model stays where it is: copying is not switching.
            let current = shell.currentModel
            shell.store(model: copy, as: name)
            shell.currentModel = current ?? name
            shell.print("\(name): a copy of \(command.argument("model") ?? source.name) (\(grouped(copy.parameterCount)) parameters)"
                + (shell.currentModel == name ? "" : "; the current model is still \(current ?? ""): 'use \(name)' to switch"))
        },
        CommandSpec(["save", "model"], arguments: [.init("path", .path)], options: [
            .init("optimizer", .choice(["yes", "no"]), default: "no", "also keep the optimizer's state (moments, step count), so that a later train continues with it"),
        ], summary: "Save the current model atomically: PATH.safetensors keeps everything (weights, graph, class names, trainable flags, BatchNorm modes, preprocessing) to load back; PATH.onnx exports it (opset 17) to run elsewhere.",
                    example: "save model transfer.safetensors", recording: .stateChange) { shell, command in
            let model = try shell.model()
            let path = command.argument("path") ?? ""
            var optimizer: SavedOptimizer? = nil
            if command.string("optimizer") == "yes" {
                guard let state = shell.trainer(for: shell.currentModel ?? "")?.optimizer else {
                    throw command.error("\(shell.currentModel ?? model.name) has no optimizer state yet: it has not been trained in this session", at: "optimizer")
                }
                optimizer = try SavedOptimizer(state, model: model)
            }
            let data = try ModelFiles.encoded(model, for: path, optimizer: optimizer)
            let written = try shell.write(data, to: path)
            shell.print("saved \(shell.currentModel ?? model.name) to \(shell.shown(path, written)) (\(String(format: "%.1f", Double(data.count) / 1_048_576)) MB" + (optimizer.map { "; optimizer: \($0.description)" } ?? "") + ")")
        },
        CommandSpec(["export", "pytorch"], arguments: [.init("dir", .path)], options: [
            .init("data", .choice(["yes", "no"]), default: "yes", "also write the current dataset's splits as data/*.npy"),
        ], summary: "Write the current model and its last training recipe as a PyTorch project in DIR: model.py (plain torch.nn, graft's layer names, so state_dict keys match), weights.safetensors, train.py (the recipe; one process or torchrun with DDP; --deterministic replays graft's sample order), the data, README.md. A layer PyTorch cannot express is refused before anything is written.",
           example: "export pytorch runs/transfer", recording: .stateChange) { shell, command in
            try exportPyTorch(shell, command)
        },
    ]

    /// How image files become the model's inputs, as `summary` and `load` show it (nil: not an image model).
    static func preprocessingLine(_ model: Model) -> String? {
        guard let transform = model.imageTransform else { return nil }
        let source = model.preprocessing == nil ? " (ImageNet's evaluation recipe at its input size)" : " (its training data's)"
        return "preprocessing: image files \(transform.description)\(source); normalization \(model.normalization.map(\.description) ?? "none given (the data's)")"
    }

    /// What the model's source file asks of training (Keras's `Random*` layers), as `summary` and `load` show it.
    static func augmentationLine(_ model: Model) -> String? {
        guard let carried = model.sourceAugmentation else { return nil }
        let layers = listed(carried.layers)
        guard carried.unsupported.isEmpty else {
            return "augmentation layers left out (identity at inference): \(layers); train needs augment=… or augment=none, since graft cannot reproduce "
                + carried.unsupported.map { TextTable.cell($0, limit: 160) }.joined(separator: "; ")
        }
        return "augmentation layers left out (identity at inference): \(layers); train applies them as augment=\(TextTable.cell(carried.spec, limit: 80)) unless given another augment="
    }

    static func exportPyTorch(_ shell: Shell, _ command: ParsedCommand) throws {
        let model = try shell.model()
        let modelName = shell.currentModel ?? model.name
        let recipe = shell.recipes[modelName]
        var dataset: Dataset? = nil
        if command.string("data") != "no" {
            dataset = recipe.flatMap { shell.datasets[$0.dataset] } ?? (try? shell.dataset())
        }
        let given = command.argument("dir") ?? ""
        let resolved = shell.resolve(given)
        let project = PyTorchProject(model: model, recipe: recipe, dataset: dataset, seed: shell.seed, graftVersion: graftVersion)
        let written: PyTorchProject.Written
        var dir = given
        do {
            if shell.keepsExistingFiles, FileManager.default.fileExists(atPath: resolved), !shell.files.written.contains(shell.absolute(resolved)) {
                // A replay keeps what it did not write: the same project is left as it is (with
                // whatever else the folder holds); another goes beside it.
                let staged = try project.stage(beside: URL(fileURLWithPath: resolved))
                let target = shell.destination(for: resolved, same: staged.matches)
                if target.write { try staged.place(at: target.path) } else { staged.discard() }
                shell.wrote(target.path, for: resolved, given: given)
                dir = shell.shown(given, target.path)
                written = staged.written
            } else {
                written = try project.write(to: resolved)
                shell.wrote(resolved, for: resolved, given: given)
            }
        } catch let refusal as PyTorchExporter.Refusal {
            throw ShellError("cannot export \(modelName) to PyTorch: \(refusal.description); nothing was written")
        }
        shell.print("exported \(modelName) to \(dir): \(written.files.filter { !$0.hasPrefix("data/") && !$0.hasPrefix(".") }.joined(separator: ", "))"
            + (dataset.map { ", data/ (\($0.name): \($0.train.count) train" + ($0.validation.map { ", \($0.count) val" } ?? "") + ($0.test.map { ", \($0.count) test" } ?? "") + ")" } ?? "")
            + String(format: ", %.1f MB", Double(written.bytes) / 1_048_576))
        shell.print(recipe.map { "recipe: \($0.command) on \($0.dataset) (\($0.phases.count) phase\($0.phases.count == 1 ? "" : "s"))" }
            ?? "recipe: none yet (train.py uses train's defaults on the current trainable set)")
        shell.print("run: python \(dir)/train.py, or torchrun --nproc-per-node=N \(dir)/train.py")
    }

    static func setTrainable(_ shell: Shell, _ command: ParsedCommand, _ trainable: Bool) throws {
        let model = try shell.model()
        let change = try model.setTrainable(trainable, command.arguments["selectors"] ?? [], batchNormTrains: command.string("bn") == "train")
        let verb = trainable ? "unfroze" : "froze"
        if change.changed.isEmpty {
            shell.print("nothing changed: the \(change.unchanged) layer\(change.unchanged == 1 ? "" : "s") selected \(change.unchanged == 1 ? "was" : "were") already \(trainable ? "trainable" : "frozen") or have no parameters")
        } else {
            shell.print("\(verb) \(change.changed.count) layer\(change.changed.count == 1 ? "" : "s"): \(listed(change.changed))")
        }
        if !change.keptStatistics.isEmpty {
            shell.print("BatchNorm: \(change.keptStatistics.count) layer\(change.keptStatistics.count == 1 ? "" : "s") keep\(change.keptStatistics.count == 1 ? "s" : "") normalizing with \(change.keptStatistics.count == 1 ? "its" : "their") running statistics (mode infer; γ and β train); bn=train updates them")
        }
        if !change.trainingStatistics.isEmpty {
            shell.print("BatchNorm: \(change.trainingStatistics.count) layer\(change.trainingStatistics.count == 1 ? "" : "s") train\(change.trainingStatistics.count == 1 ? "s" : "") on batch statistics (mode train)")
        }
        shell.print("trainable params: \(grouped(change.trainableParameters)) of \(grouped(change.totalParameters))")
    }
}

extension CommandTable {
    /// `profile`: random inputs from a generator of its own (the session's draws are untouched).
    static func profile(_ shell: Shell, _ command: ParsedCommand) throws {
        let name = command.argument("model")
        let model = try shell.model(name)
        let sample = command.shape("input") ?? model.inputShape
        let batch = command.int("batch") ?? 8
        let shapes = try model.nodeShapes(forInput: sample)
        let count = sample.reduce(batch, *)
        try shell.reserve(count * MemoryLayout<Float>.size, for: "the profile's inputs")
        let x = try Tensor.randomNormal([batch] + sample, generator: Generator(seed: 0))
        let result = try model.profile(x, repeats: command.int("repeats") ?? 5, shouldStop: shell.interruptRequested)
        shell.print(profileReport(result, model: model, shapes: shapes, top: command.int("top") ?? 15).joined(separator: "\n"))
    }

    /// The report of `profile`: steps slowest first, then the rest and the pass.
    static func profileReport(_ result: LayerProfile, model: Model, shapes: [[Int]], top: Int) -> [String] {
        let total = result.rows.reduce(0) { $0 + $1.seconds }
        let share = { (seconds: Double) in result.passSeconds > 0 ? String(format: "%.1f", 100 * seconds / result.passSeconds) : "–" }
        let ms = { (seconds: Double) in String(format: "%.3f", seconds * 1000) }
        var table = [["step", "type", "output", "ms", "%"]]
        let slowest = result.rows.enumerated().sorted { ($0.element.seconds, $1.offset) > ($1.element.seconds, $0.offset) }.map(\.element)
        for row in slowest.prefix(top) {
            let (first, last) = (row.nodes[0], row.nodes[row.nodes.count - 1])
            let names = row.nodes.count == 1 ? model.nodes[first].name : "\(model.nodes[first].name) … \(model.nodes[last].name)"
            let kinds = row.nodes.map { model.nodes[$0].layer.kind }
            var distinct: [String] = []
            for kind in kinds where !distinct.contains(kind) { distinct.append(kind) }
            let kind = kinds.count <= 3 ? kinds.joined(separator: "+") : "\(kinds.count) layers: " + distinct.joined(separator: "+")
            let shape = last < shapes.count ? shapes[last].map(String.init).joined(separator: "×") : ""
            table.append([TextTable.cell(names), TextTable.cell(kind), shape, ms(row.seconds), share(row.seconds)])
        }
        var lines = TextTable.render(table, numeric: [3, 4])
        let hidden = slowest.dropFirst(top)
        if !hidden.isEmpty {
            let seconds = hidden.reduce(0) { $0 + $1.seconds }
            lines.append("\(hidden.count) more step\(hidden.count == 1 ? "" : "s"): \(ms(seconds)) ms, \(share(seconds)) %")
        }
        let outside = Swift.max(0, result.passSeconds - total)
        lines.append("pass: \(ms(result.passSeconds)) ms for \(result.batch) sample\(result.batch == 1 ? "" : "s") (\(String(format: "%.1f", result.imagesPerSecond)) a second), median of each step and of the pass; outside the steps \(ms(outside)) ms")
        return lines
    }
}
