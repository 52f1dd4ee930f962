import Foundation
import GraftData
import GraftFormats
import GraftModels
import GraftNN
import GraftTensor
import GraftTraining

/// The commands a teacher (or a fastai user) reaches for first: transfer learning's recipes as one
/// command each, and the pictures that explain them.
extension CommandTable {
    static let teaching: [CommandSpec] = [
        CommandSpec(["fine-tune"], options: [
            .init("epochs", .int(1...10_000), default: "3", "epochs of phase 2, with the backbone unfrozen"),
            .init("freeze-epochs", .int(0...10_000), default: "1", "epochs of phase 1: the head alone, the backbone frozen"),
            .init("unfreeze", .text, default: "all", "what phase 2 trains besides the head: selectors, comma-separated (all, layer4, last=3, block6*)"),
            .init("backbone-lr", .float(0...10), "phase 2's rate for the unfrozen backbone (default lr/20: a tenth of phase 2's head rate lr/2)"),
            .init("bn", .choice(["infer", "train"]), default: "infer",
                  "pretrained BatchNorm in phase 2: keep normalizing with its running statistics (infer, the Keras guide's rule) or update them (train)"),
        ] + fitOptions(.fineTune) + checkpointOptions, flags: ["dry-run"],
        summary: "Transfer learning's two phases in one command (fastai's fine_tune, the Keras guide's recipe): phase 1 trains the head with the backbone frozen at lr; phase 2 unfreezes the backbone (or unfreeze=SELECTOR) and trains the head at lr/2 and the backbone at backbone-lr (default lr/20), pretrained BatchNorm kept in inference mode. Adam and one-cycle by default. 'dry-run' says what each phase would take and changes nothing.",
        example: "fine-tune epochs=3 freeze-epochs=1 lr=0.002 unfreeze=layer4", recording: .figures) { shell, command in
            try fineTune(shell, command)
        },
        CommandSpec(["lr-find"], options: [
            .init("start", .float(1e-10...1), default: "1e-07", "the first rate"),
            .init("end", .float(1e-6...1000), default: "10", "the last rate"),
            .init("steps", .int(2...100_000), "steps to take (default: one pass over the training split, at least 20 and at most 100)"),
            .init("batch", .int(1...8192), default: "32", "batch size"),
            .init("optimizer", .choice(["sgd", "adam", "adamw", "rmsprop"]), default: "adam", "optimizer (the one you will train with)"),
            .init("momentum", .float(0...0.999), default: "0.9", "momentum (sgd, rmsprop)"),
            .init("wd", .float(0...1), default: "0", "weight decay"),
            .init("cache", .choice(["auto", "on", "off"]), default: "auto", "compute the frozen prefix's features once"),
            .init("on", .text, "dataset (default: the current one)"),
            .init("save", .path, "also write the plot to FILE.svg or FILE.png"),
            classesOption,
        ], summary: "The learning-rate range test (fastai's lr_find): one step per batch at a rate rising exponentially from start to end, the loss smoothed (β 0.98), stopping when it passes 4× its minimum; prints the curve and two suggested rates (steepest descent, and minimum/10). Nothing changes: the weights, BatchNorm statistics, optimizer and generator are put back.",
        example: "lr-find steps=100 save=lr.png", recording: .figures) { shell, command in
            try lrFind(shell, command)
        },
        CommandSpec(["top-losses"], arguments: [.init("k", .text, required: false)], options: [
            .init("on", .text, "dataset (default: the current one)"),
            .init("split", .choice(["test", "val", "train"]), default: "test", "which split"),
            .init("columns", .int(1...20), default: "5", "images per row of the grid"),
            .init("save", .path, "also write the grid to FILE.png"),
            classesOption,
        ], summary: "The K samples (default 9) the current model gets most wrong — highest loss first — with true and predicted class and probabilities, as a table and an image grid (fastai's plot_top_losses).",
        example: "top-losses 9 save=losses.png", recording: .figures) { shell, command in
            let k = try count(command.argument("k"), default: 9, range: 1...1000, what: "top-losses K")
            let (model, data, splitName, samples) = try evaluationInputs(shell, command)
            let save = try command.string("save").map { try picturePath(shell, $0, command, formats: ["png"]) }
            let result = try Evaluation.evaluate(model, samples, normalization: model.normalization ?? data.normalization, classNames: data.classNames,
                                                 keepSamples: true, log: ShellTrainingLog(shell: shell), shouldStop: shell.interruptRequested)
            try showTopLosses(shell, result, k: k, data: data, samples: samples, split: splitName, columns: command.int("columns") ?? 5, save: save)
        },
        CommandSpec(["most-confused"], options: [
            .init("min", .int(1...1_000_000), default: "1", "show pairs confused at least this many times"),
            .init("on", .text, "dataset (default: the current one)"),
            .init("split", .choice(["test", "val", "train"]), default: "test", "which split"),
            classesOption,
        ], summary: "The (true, predicted) class pairs the current model confuses most often, most first (fastai's most_confused).",
        example: "most-confused min=2", recording: .figures) { shell, command in
            let (model, data, splitName, samples) = try evaluationInputs(shell, command)
            let result = try Evaluation.evaluate(model, samples, normalization: model.normalization ?? data.normalization, classNames: data.classNames,
                                                 keepSamples: samples.sources != nil, log: ShellTrainingLog(shell: shell), shouldStop: shell.interruptRequested)
            let minimum = command.int("min") ?? 1
            var pairs: [(truth: Int, guess: Int, count: Int)] = []
            for (truth, row) in result.confusion.enumerated() {
                for (guess, count) in row.enumerated() where guess != truth && count >= minimum { pairs.append((truth, guess, count)) }
            }
            pairs.sort { ($0.count, $1.truth, $1.guess) > ($1.count, $0.truth, $0.guess) }
            let names = result.classNames.map { TextTable.cell($0, limit: 32) }
            let wrong = result.count - result.confusion.indices.reduce(0) { $0 + result.confusion[$1][$1] }
            shell.print("\(data.name) \(splitName): \(wrong) of \(result.count) samples misclassified; \(pairs.count) pair\(pairs.count == 1 ? "" : "s") confused at least \(minimum) time\(minimum == 1 ? "" : "s")")
            if !pairs.isEmpty {
                let width = max(10, pairs.map { names[$0.truth].count + names[$0.guess].count + 3 }.max() ?? 0)
                shell.print("true → predicted".padding(toLength: width, withPad: " ", startingAt: 0) + "  count")
                // Samples made from image files: the first few files of each pair.
                var files: [String: [String]] = [:]
                for outcome in result.samples where outcome.label != outcome.predicted {
                    guard let source = samples.source(outcome.index) else { continue }
                    files["\(outcome.label)>\(outcome.predicted)", default: []].append(Terminal.visible(source))
                }
                for pair in pairs.prefix(50) {
                    let these = files["\(pair.truth)>\(pair.guess)"] ?? []
                    shell.print("\(names[pair.truth]) → \(names[pair.guess])".padding(toLength: width, withPad: " ", startingAt: 0) + "  " + String(pair.count).leftPadded(5)
                                + (these.isEmpty ? "" : "  " + these.prefix(3).joined(separator: ", ") + (these.count > 3 ? ", …" : "")))
                }
                if pairs.count > 50 { shell.print("… and \(pairs.count - 50) more pairs") }
            }
            shell.figure("misclassified \(wrong) pairs " + (pairs.isEmpty ? "none" : pairs.prefix(20).map { "\($0.truth)>\($0.guess):\($0.count)" }.joined(separator: ",")))
        },
        CommandSpec(["filters"], arguments: [.init("layer", .layer, required: false)], options: [
            .init("max", .int(1...1024), default: "64", "show at most this many filters"),
            .init("save", .path, "also write the grid to FILE.png"),
        ], summary: "A convolution's kernels as an image grid (default: the first convolution), each scaled to its own range: in colour when the layer reads three channels, else averaged over its input channels.",
        example: "filters conv1 save=filters.png", recording: .figures) { shell, command in
            try filters(shell, command)
        },
        CommandSpec(["activations"], arguments: [.init("layer", .layer)], options: [
            .init("on", .text, "the input: an image file, a .npy array, or test sample number N (default 0)"),
            .init("data", .text, "dataset for a sample number (default: the current one)"),
            .init("max", .int(1...1024), default: "32", "show at most this many feature maps"),
            .init("save", .path, "also write the grid to FILE.png"),
        ], summary: "The feature maps a layer computes for one input, as a grid (each map scaled to its own range, dark to bright), with each map's mean and maximum.",
        example: "activations layer1 on=Examples/images/chelsea.png", recording: .figures) { shell, command in
            try activations(shell, command)
        },
        CommandSpec(["cam"], arguments: [.init("input", .path)], options: [
            .init("class", .text, "the class to explain, by name or number (default: the predicted one)"),
            .init("layer", .text, "the layer whose feature maps are weighed (default: the last with a spatial output; on a vision transformer, the last block's tokens before its attention)"),
            .init("data", .text, "dataset for a sample number (default: the current one)"),
            .init("save", .path, "also write the picture to FILE.png"),
        ], summary: "Grad-CAM: where in the input the class score comes from — the layer's feature maps weighed by the mean gradient of the class's logit, summed, through a ReLU, blended over the image as a heat map. On a vision transformer the maps are the patch tokens read back onto the patch grid (class and register tokens left out). INPUT is an image file or a test sample number.",
        example: "cam Examples/images/chelsea.png class=281", recording: .figures) { shell, command in
            try classActivationMap(shell, command)
        },
    ]

    /// A layer by name, or an error naming what would work.
    static func layerIndex(_ name: String, in model: Model, _ command: ParsedCommand, option: String? = nil) throws -> Int {
        if let index = model.nodes.firstIndex(where: { $0.name == name }) { return index }
        let message = "no layer named '\(name)'" + (nearest(name, in: model.nodes.map(\.name)).map { "; did you mean '\($0)'?" } ?? "")
        throw option.map { command.error(message, at: $0) } ?? ShellError(message)
    }

    static func filters(_ shell: Shell, _ command: ParsedCommand) throws {
        let model = try shell.model()
        let convolutions = model.nodes.indices.filter { model.nodes[$0].layer.filterBank != nil }
        guard let first = convolutions.first else { throw ShellError("\(model.name) has no convolution, so no filters to show") }
        let index = try command.argument("layer").map { try layerIndex($0, in: model, command) } ?? first
        guard let bank = model.nodes[index].layer.filterBank else {
            throw ShellError("'\(model.nodes[index].name)' is a \(model.nodes[index].layer.kind), not a convolution; filters shows convolution kernels (here: \(listed(convolutions.map { model.nodes[$0].name })))")
        }
        let save = try command.string("save").map { try picturePath(shell, $0, command, formats: ["png"]) }
        let weight = bank.weights.scalars
        let (out, perGroup, kh, kw) = (bank.outChannels, bank.inChannelsPerGroup, bank.kernel.0, bank.kernel.1)
        let shown = min(out, command.int("max") ?? 64)
        let colour = perGroup == 3
        var tiles: [Pictures.Tile] = []
        var ranges: [(Float, Float)] = []
        for f in 0..<shown {
            let base = f * perGroup * kh * kw
            var planes: [Float]
            if colour {
                planes = Array(weight[base..<(base + 3 * kh * kw)])
            } else {
                planes = (0..<(kh * kw)).map { i in (0..<perGroup).reduce(Float(0)) { $0 + weight[base + $1 * kh * kw + i] } / Float(perGroup) }
            }
            let low = planes.min() ?? 0, high = planes.max() ?? 0
            ranges.append((low, high))
            let span = high - low
            planes = planes.map { span > 0 ? ($0 - low) / span : 0.5 }
            tiles.append(.init(image: Image(channels: colour ? 3 : 1, height: kh, width: kw, pixels: planes), caption: ["\(f)"]))
        }
        let name = model.nodes[index].name
        shell.print("\(name): \(out) filters of \(perGroup)×\(kh)×\(kw)\(colour ? " (RGB)" : perGroup > 1 ? " (averaged over \(perGroup) input channels)" : ""); showing \(shown), each scaled from its minimum (dark) to its maximum (bright)")
        let magnitudes = ranges.map { max(abs($0.0), abs($0.1)) }
        shell.print("weights from \(fixed(ranges.map(\.0).min() ?? 0)) to \(fixed(ranges.map(\.1).max() ?? 0)); largest |w| per filter \(fixed(magnitudes.min() ?? 0))–\(fixed(magnitudes.max() ?? 0))")
        if shell.output.isTerminal { shell.print(try Pictures.terminalStrip(Array(tiles.prefix(12)), width: 6)) }
        let title = "\(model.name) \(name): \(shown) of \(out) filters (\(kh)×\(kw)\(colour ? ", RGB" : ""))"
        try showPicture(shell, name: "filters", title: title, svg: nil,
                        png: { try Pictures.grid(tiles, columns: min(16, shown), side: max(kh, kw) * max(1, 48 / max(kh, kw)), title: title).png() }, save: save)
        shell.figure("filters \(shown) of \(out) digest \(String(Digest.of(bank.weights), radix: 16))")
    }

    static func activations(_ shell: Shell, _ command: ParsedCommand) throws {
        let model = try shell.model()
        let index = try layerIndex(command.argument("layer") ?? "", in: model, command)
        let shape = model.nodes[index].outputShape
        let spatial = model.nodes.indices.filter { model.nodes[$0].outputShape.count == 3 && $0 > 0 }.map { model.nodes[$0].name }
        guard shape.count == 3 else {
            throw ShellError("'\(model.nodes[index].name)' has output \(shape.map(String.init).joined(separator: "×")), not feature maps (channels × height × width); layers with them: \(listed(spatial))")
        }
        let save = try command.string("save").map { try picturePath(shell, $0, command, formats: ["png"]) }
        let input = try modelInput(shell, command.string("on") ?? "0", dataset: command.string("data"))
        guard input.batch.shape.first == 1 else { throw command.error("activations takes one input, got a batch of \(input.batch.shape.first ?? 0)", at: "on") }
        let maps = try model.activations(input.batch, at: index)
        let (c, h, w) = (maps.shape[1], maps.shape[2], maps.shape[3])
        let values = maps.scalars
        let shown = min(c, command.int("max") ?? 32)
        var tiles: [Pictures.Tile] = []
        var means: [Float] = [], maxima: [Float] = []
        for k in 0..<c {
            let plane = values[(k * h * w)..<((k + 1) * h * w)]
            means.append(plane.reduce(0, +) / Float(h * w))
            maxima.append(plane.max() ?? 0)
            guard k < shown else { continue }
            let low = plane.min() ?? 0, high = plane.max() ?? 0
            tiles.append(.init(image: Pictures.coloured(plane.map { high > low ? ($0 - low) / (high - low) : 0 }, height: h, width: w),
                               caption: ["\(k): max \(String(format: "%.2g", high))"]))
        }
        let name = model.nodes[index].name
        let silent = maxima.filter { $0 <= 0 }.count
        shell.print("\(name): \(c) feature maps of \(h)×\(w) for \(command.string("on") ?? "sample 0"); showing \(shown)")
        shell.print("mean activation \(fixed(means.reduce(0, +) / Float(c))); \(silent) of \(c) maps are zero or below everywhere")
        if shell.output.isTerminal { shell.print(try Pictures.terminalStrip(Array(tiles.prefix(8)), width: 12)) }
        let title = "\(model.name) \(name): \(shown) of \(c) feature maps"
        try showPicture(shell, name: "activations", title: title, svg: nil,
                        png: { try Pictures.grid(tiles, columns: min(8, shown), side: max(64, min(112, max(h, w) * 4)), title: title).png() }, save: save)
        shell.figure("maps \(c) mean \(fixed(means.reduce(0, +) / Float(c))) silent \(silent)")
    }

    static func classActivationMap(_ shell: Shell, _ command: ParsedCommand) throws {
        let model = try shell.model()
        let layer: Int
        if let name = command.string("layer") {
            layer = try layerIndex(name, in: model, command, option: "layer")
            let shape = model.nodes[layer].outputShape
            guard shape.count == 3 || model.tokenGrid(at: layer, forInput: model.inputShape) != nil, layer < model.logitsNode else {
                let spatial = model.nodes.indices.filter { $0 > 0 && $0 < model.logitsNode && model.nodes[$0].outputShape.count == 3 }.map { model.nodes[$0].name }
                throw command.error("'\(name)' has output \(shape.map(String.init).joined(separator: "×")); Grad-CAM needs a layer with feature maps (channels × height × width) or patch tokens before the logits: \(listed(spatial.suffix(6).reversed()))", at: "layer")
            }
        } else {
            guard let last = model.defaultCAMNode else { throw ShellError("\(model.name) has no layer with feature maps (channels × height × width) or patch tokens, so there is no map to draw") }
            layer = last
        }
        let save = try command.string("save").map { try picturePath(shell, $0, command, formats: ["png"]) }
        let input = try modelInput(shell, command.argument("input") ?? "", dataset: command.string("data"))
        guard input.batch.shape.first == 1 else { throw ShellError("cam takes one input, got a batch of \(input.batch.shape.first ?? 0)") }
        let outputs = model.outputShape.last ?? 0
        var names = model.classNames
        if names.count != outputs, let data = try? shell.dataset(command.string("data")), data.classes == outputs { names = data.classNames }
        var target: Int? = nil
        if let text = command.string("class") {
            if let n = Int(text) {
                guard (0..<outputs).contains(n) else { throw command.error("class=\(n) is outside 0…\(outputs - 1)", at: "class") }
                target = n
            } else {
                guard let n = names.firstIndex(of: text) else {
                    throw command.error("no class named '\(text)'" + (nearest(text, in: names).map { "; did you mean '\($0)'?" } ?? ""), at: "class")
                }
                target = n
            }
        }
        let cam = try model.gradCAM(input.batch, at: layer, classIndex: target)
        let name = { (i: Int) in i < names.count ? TextTable.cell(names[i], limit: 32) : String(i) }
        let peak = cam.values.max() ?? 0
        let at = cam.values.firstIndex(of: peak) ?? 0
        let tokens = model.nodes[layer].outputShape.count == 2 ? ", its patch tokens read as the grid" : ""
        shell.print("Grad-CAM of class \(name(cam.classIndex)) (p \(fixed(cam.probability))) through \(model.nodes[layer].name) (\(cam.weights.count) maps of \(cam.height)×\(cam.width)\(tokens))")
        if peak <= 0 {
            shell.print("the map is zero everywhere: no position raises this class's score through this layer")
        } else {
            shell.print("strongest at row \(at / cam.width), column \(at % cam.width) of \(cam.height)×\(cam.width) (from the top left); \(cam.values.filter { $0 > 0.5 * peak }.count) positions above half the peak")
        }
        let normalizedMap = cam.values.map { peak > 0 ? $0 / peak : 0 }
        let shownImage: Image
        if let image = input.image {
            shownImage = try Pictures.blend(heat: normalizedMap, height: cam.height, width: cam.width, over: image)
        } else {
            shownImage = try Pictures.coloured(normalizedMap, height: cam.height, width: cam.width, map: .heat).resized(height: cam.height * 16, width: cam.width * 16)
        }
        if shell.output.isTerminal { shell.print(try Pictures.halfBlocks(shownImage, width: 32).joined(separator: "\n")) }
        let title = "Grad-CAM: \(name(cam.classIndex)) (p \(String(format: "%.2f", cam.probability))) at \(model.nodes[layer].name)"
        let tiles = [Pictures.Tile(image: input.image ?? shownImage, caption: ["input"]), Pictures.Tile(image: shownImage, caption: ["\(name(cam.classIndex))"])]
        try showPicture(shell, name: "cam", title: title, svg: nil, png: { try Pictures.grid(tiles, columns: 2, side: 224, title: title).png() }, save: save)
        shell.figure("class \(cam.classIndex) p \(fixed(cam.probability)) peak \(at / cam.width),\(at % cam.width) of \(cam.height)x\(cam.width)")
    }

    /// `fine-tune`'s phases, for the command and for `compare`'s recipes.
    struct FineTuneRecipe {
        var freezeEpochs: Int
        var epochs: Int
        var selectors: [String]
        var batchNormTrains: Bool
        var base: TrainingOptions
        var headRate: Float
        var backboneRate: Float

        /// Where a resumed `fine-tune` picks up: in `phase`, from `progress` (nil: at the phase's start, the
        /// one before having ended at the checkpoint), with the phases finished before it; `restore` puts
        /// the checkpoint's weights and optimizer in once the phase's trainable set stands.
        struct Continuation {
            var phase: Int
            /// The phase whose trainable set the checkpoint's model has (`phase`, or the one before when that ended there).
            var checkpointPhase: Int
            var progress: TrainingProgress?
            var completed: [TrainingPhase]
            var restore: () throws -> Void
        }

        /// Sets the trainable set of each phase (the `head` layers alone, then with `selectors`) and
        /// trains; an interrupt fails the whole run (the shell puts everything back; a checkpoint
        /// written at the stop continues it). `checkpoints` gives each phase's policy, from the phase,
        /// the steps before it and the phases finished before it.
        func run(_ model: Model, head: [String], trainer: Trainer, data: Dataset, shell: Shell, generator: Generator,
                 checkpoints: ((Int, Int, [TrainingPhase]) throws -> CheckpointPolicy?)? = nil, checkpointFolder: String? = nil,
                 continuing: Continuation? = nil) throws -> [(name: String, result: TrainingResult)] {
            let log = ShellTrainingLog(shell: shell)
            let rate = { (value: Float) in String(format: "%g", Double(value)) }
            // BatchNorm that trained on batch statistics before (a fresh one) goes on doing so once
            // unfrozen; pretrained ones keep their statistics (unless bn=train).
            let freshNorms = model.statisticsLayers.filter { !$0.keepsStatistics && !$0.isFrozen }
            var phases: [(name: String, result: TrainingResult)] = continuing.map { c in c.completed.enumerated().map { ("phase \($0.offset + 1)", TrainingResult.finished($0.element)) } } ?? []
            func run(_ phase: Int, _ options: TrainingOptions) throws -> TrainingResult {
                let resume = continuing?.phase == phase ? continuing?.progress : nil
                let done = phases.map(\.result.phase).compactMap { $0 }
                let policy = try checkpoints?(phase, done.reduce(0) { $0 + $1.stepLosses.count }, done)
                let result = try trainer.fit(data, options: options, generator: generator, log: log, shouldStop: shell.interruptRequested,
                                             resume: resume, checkpoint: policy)
                if result.stoppedAtStep != nil {
                    let note = policy == nil ? "" : "; the checkpoint written at the stop continues it: fine-tune resume=\(checkpointFolder ?? "DIR")"
                    throw ShellError("fine-tune was interrupted in phase \(phase) (after step \(result.steps)); nothing changed: the model is as it was before the command" + note)
                }
                shell.print("phase \(phase): " + timing(result))
                return result
            }
            let skip = { (phase: Int) in (continuing?.phase ?? 1) > phase }
            try model.setTrainable(false, ["all"])
            try model.setTrainable(true, head)
            if continuing?.checkpointPhase == 1 && freezeEpochs > 0 { try continuing?.restore() }
            if freezeEpochs > 0 && !skip(1) {
                shell.print("phase 1 of 2 — the head alone, the backbone frozen: \(freezeEpochs) epoch\(freezeEpochs == 1 ? "" : "s") at lr \(rate(base.learningRate)); trainable params \(grouped(model.trainableParameterCount)) of \(grouped(model.parameterCount))")
                var options = base
                options.epochs = freezeEpochs
                phases.append(("phase 1", try run(1, options)))
            }
            try model.setTrainable(true, selectors, batchNormTrains: batchNormTrains)
            for norm in freshNorms where !norm.isFrozen { norm.keepsStatistics = false }
            let norms = model.statisticsLayers.filter { !$0.isFrozen }
            let bnNote = norms.isEmpty ? "" : "; BatchNorm: \(norms.count - norms.filter(\.trainsStatistics).count) of \(norms.count) unfrozen keep their running statistics"
            let backbone = base.layerDecay.map { "blocks at lr·\(CommandParser.format(Double($0)))^depth (layer decay)" } ?? "backbone at \(rate(backboneRate))"
            shell.print("phase 2 of 2 — unfrozen \(selectors.joined(separator: ", ")): \(epochs) epoch\(epochs == 1 ? "" : "s"), head at lr \(rate(headRate)), \(backbone); trainable params \(grouped(model.trainableParameterCount)) of \(grouped(model.parameterCount))" + bnNote)
            var options = base
            options.epochs = epochs
            options.learningRate = headRate
            // Layer decay gives the backbone its rates block by block instead of one backbone rate.
            if options.layerDecay == nil { options.backboneLearningRate = backboneRate }
            if continuing?.checkpointPhase == 2 { try continuing?.restore() }
            phases.append(("phase 2", try run(2, options)))
            return phases
        }
    }

    /// A positional count (`top-losses 9`), or `default` without one.
    static func count(_ text: String?, default value: Int, range: ClosedRange<Int>, what: String) throws -> Int {
        guard let text else { return value }
        guard let n = Int(text), range.contains(n) else { throw ShellError("\(what): K must be a whole number in \(range.lowerBound)–\(range.upperBound), got '\(text)'") }
        return n
    }

    /// The current model, the dataset (`on=`), the split (`split=`), checked against each other.
    static func evaluationInputs(_ shell: Shell, _ command: ParsedCommand) throws -> (Model, Dataset, String, Samples) {
        let model = try shell.model()
        let data = try shell.dataset(command.string("on"))
        let (name, samples) = try split(data, command)
        try Trainer(model: model).checkCompatible(data, classes: classMatching(command))
        return (model, data, name, samples)
    }

    /// The `k` highest-loss samples of an evaluation: a table, thumbnails on a terminal, a grid
    /// for the transcript and `save`.
    static func showTopLosses(_ shell: Shell, _ result: EvaluationResult, k: Int, data: Dataset, samples: Samples, split: String,
                              columns: Int, save: String?) throws {
        let worst = result.samples.sorted { ($0.loss, $1.index) > ($1.loss, $0.index) }.prefix(k)
        let names = result.classNames
        let name = { (i: Int) in i < names.count ? TextTable.cell(names[i], limit: 32) : String(i) }
        shell.print("top \(worst.count) losses on \(data.name) \(split) (\(result.count) samples; loss \(fixed(result.loss)) on average):")
        let width = max(9, worst.map { max(name($0.label).count, name($0.predicted).count) }.max() ?? 0)
        // Samples made from image files are named by their file, relative to the dataset's folder.
        let file = { (i: Int) in samples.source(i).map(Terminal.visible) }
        shell.print("   #  sample  " + "true".padding(toLength: width, withPad: " ", startingAt: 0) + "  " + "predicted".padding(toLength: width, withPad: " ", startingAt: 0)
                    + "  probability     loss  p(true)" + (samples.sources == nil ? "" : "  file"))
        for (rank, s) in worst.enumerated() {
            shell.print(String(rank + 1).leftPadded(4) + "  " + String(s.index).leftPadded(6) + "  " + name(s.label).padding(toLength: width, withPad: " ", startingAt: 0)
                + "  " + name(s.predicted).padding(toLength: width, withPad: " ", startingAt: 0) + "  " + fixed(s.predictedProbability).leftPadded(11)
                + "  " + fixed(s.loss).leftPadded(7) + "  " + fixed(s.trueProbability).leftPadded(7) + (file(s.index).map { "  " + $0 } ?? ""))
        }
        if samples.isImage, !worst.isEmpty {
            let tiles = worst.map { s in
                Pictures.Tile(image: samples.image(s.index),
                              caption: (file(s.index).map { [($0 as NSString).lastPathComponent, "\(name(s.predicted)) / \(name(s.label))"] }
                                        ?? ["#\(s.index): \(name(s.predicted)) / \(name(s.label))"])
                                        + ["loss \(String(format: "%.2f", s.loss)) p \(String(format: "%.2f", s.predictedProbability))"],
                              captionColour: s.predicted == s.label ? .black : Canvas.Colour(hex: "#c00000"))
            }
            if shell.output.isTerminal { shell.print(try Pictures.terminalStrip(Array(tiles.prefix(8)))) }
            let title = "top \(worst.count) losses on \(data.name) \(split): predicted / true, loss, probability"
            try showPicture(shell, name: "top-losses", title: title, svg: nil, png: { try Pictures.grid(tiles, columns: columns, title: title).png() }, save: save)
        }
        if let first = worst.first {
            shell.figure("top sample \(first.index) loss \(fixed(first.loss)) samples " + worst.map { String($0.index) }.joined(separator: ","))
        }
    }

    static func lrFind(_ shell: Shell, _ command: ParsedCommand) throws {
        let modelName = shell.currentModel ?? ""
        let model = try shell.model()
        let data = try shell.dataset(command.string("on"))
        let savePath = try command.string("save").map { try picturePath(shell, $0, command) }
        var o = LRFinderOptions()
        o.start = Float(command.float("start") ?? 1e-7)
        o.end = Float(command.float("end") ?? 10)
        guard o.end > o.start else { throw command.error("end=\(CommandParser.format(Double(o.end))) must be above start=\(CommandParser.format(Double(o.start)))", at: "end") }
        o.steps = command.int("steps")
        o.batchSize = command.int("batch") ?? 32
        o.optimizer = optimizer(command, default: "adam")
        o.weightDecay = Float(command.float("wd") ?? 0)
        o.cache = CacheMode(rawValue: command.string("cache") ?? "auto") ?? .auto
        o.classMatching = classMatching(command)
        guard let trainer = shell.trainer(for: modelName) else { throw ShellError("no model yet") }
        let digest = Digest.of(model)
        let result = try trainer.findLearningRate(data, options: o, generator: shell.generator, log: ShellTrainingLog(shell: shell),
                                                  shouldStop: shell.interruptRequested)
        let g = { (value: Float) in String(format: "%.2g", Double(value)) }
        shell.print("lr-find: \(result.planned) steps at rates from \(g(o.start)) to \(g(o.end)) (exponential), \(o.optimizer), batch \(o.batchSize), on \(data.name) (\(grouped(model.trainableParameterCount)) trainable params\(result.usedCache ? ", features cached" : ""))")
        if let stopped = result.stoppedEarly { shell.print("stopped after \(result.rates.count) of \(result.planned) steps: \(stopped)") }
        var marks: [LineChart.Mark] = []
        if let steep = result.steepest { marks.append(.init(x: Double(steep), label: "steep \(g(steep))")) }
        if let minimum = result.minimumTenth { marks.append(.init(x: Double(minimum), label: "minimum/10 \(g(minimum))")) }
        // As fastai plots it: without the last five steps, where the loss shoots up.
        let shown = result.rates.count > 10 ? result.rates.count - 5 : result.rates.count
        let plotted = zip(result.rates, result.smoothed).prefix(shown).map { (x: Double($0), y: Double($1)) }
        let chart = LineChart(title: "\(modelName) on \(data.name): learning-rate range test", xTitle: "learning rate (log scale)",
                              yTitle: "loss (smoothed)",
                              series: [.init(name: "smoothed loss", colour: "#d62728", points: plotted)],
                              logX: true, marks: marks)
        shell.print(chart.text())
        if let steep = result.steepest, let minimum = result.minimumTenth {
            shell.print("suggested lr: \(g(steep)) (steep: where the smoothed loss falls fastest) or \(g(minimum)) (minimum/10: a tenth of the rate at the lowest smoothed loss); fastai's rules, over steps \(result.considered.lowerBound + 1)–\(result.considered.upperBound)")
        } else {
            shell.print("no suggestion: only \(result.rates.count) steps before it stopped; try a lower end= or more steps=")
        }
        guard Digest.of(model) == digest else { throw ShellError("lr-find could not put the weights back (a bug: please report it)") }
        shell.print("the weights, statistics and optimizer are as before (weights \(digest))")
        try showPicture(shell, name: "lr-find", title: chart.title, svg: chart.svg(), png: { try chart.png() }, save: savePath)
        var figure = "steps \(result.rates.count)"
        if let steep = result.steepest, let minimum = result.minimumTenth { figure += " steep_lr \(g(steep)) minimum/10_lr \(g(minimum))" }
        if let low = result.smoothed.min() { figure += " min_loss \(fixed(low))" }
        shell.figure(figure)
    }

    /// A `save=` path for a picture: .png or .svg, its folder existing.
    static func picturePath(_ shell: Shell, _ text: String, _ command: ParsedCommand, formats: [String] = ["png", "svg"]) throws -> String {
        let path = shell.resolve(text)
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        guard formats.contains(ext) else { throw command.error("save= takes a \(formats.map { "." + $0 }.joined(separator: " or ")) file name, got '\(text)'", at: "save") }
        var isFolder: ObjCBool = false
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw command.error("save=\(text): no folder \(folder)", at: "save")
        }
        return text
    }

    /// Hands a picture to the transcript (SVG when it has one, else PNG) and writes it to `save`.
    static func showPicture(_ shell: Shell, name: String, title: String, svg: String?, png: () throws -> Data, save: String?) throws {
        if let save {
            let data = save.lowercased().hasSuffix(".svg") ? Data((svg ?? "").utf8) : try png()
            guard !(save.lowercased().hasSuffix(".svg") && svg == nil) else { throw ShellError("this picture has no SVG form; save it as .png") }
            let written = try shell.write(data, to: save)
            shell.print("wrote \(shell.shown(save, written)) (\(data.count / 1024 + 1) KB)")
        }
        if let sink = shell.pictureSink {
            if let svg { sink(title, name + ".svg", Data(svg.utf8)) } else { sink(title, name + ".png", try png()) }
        }
    }

    /// `fine-tune`: see its summary. The trainable set is the recipe's: the head alone in phase 1;
    /// the head and what `unfreeze=` names in phase 2 (every other layer frozen), which it stays at.
    static func fineTune(_ shell: Shell, _ typed: ParsedCommand) throws {
        guard typed.string("resume") != nil else {
            return try fineTune(shell, typed, resumed: nil, startGenerator: shell.generator.state, session: Checkpoints.sessionLines(shell))
        }
        // resume=: the checkpoint's command, run from where it stood.
        let r = try Checkpoints.Resumption(shell, typed, for: "fine-tune", morePhases: { $0.phase == 1 })
        try r.run { try fineTune(shell, r.command, resumed: r, startGenerator: r.saved.checkpoint.startGenerator, session: r.saved.checkpoint.session) }
        shell.recordedLine = "fine-tune resume=\(r.path)"
    }

    static func fineTune(_ shell: Shell, _ command: ParsedCommand, resumed: Checkpoints.Resumption?, startGenerator: Generator.State, session: [String]) throws {
        let modelName = shell.currentModel ?? ""
        let model = try shell.model()
        let head = model.nodes.filter(\.isHead).map(\.name)
        guard !head.isEmpty else {
            throw ShellError("fine-tune trains a new head, then the backbone; \(modelName) has no head of its own: graft one first with 'head classes=N'")
        }
        let selectors = (command.string("unfreeze") ?? "all").split(separator: ",").map(String.init)
        do {
            guard !selectors.isEmpty else { throw ModelError.badSelector(selector: "", reason: "name at least one layer, pattern or 'all'") }
            for selector in selectors { _ = try LayerSelector.resolve(selector, in: model) }
        } catch { throw command.error("unfreeze: \(ShellError(error).message)", at: "unfreeze") }
        let (datasets, generator) = (shell.datasets, shell.generator.state)
        let data = try trainingData(shell, command)
        let base = try trainingOptions(command, .fineTune, model: model)
        let freezeEpochs = command.int("freeze-epochs") ?? 1
        let epochs = command.int("epochs") ?? 3
        // In Double, then rounded once: lr=0.002 gives exactly the rates 'train lr=0.001 backbone-lr=0.0001' would.
        let lr = command.float("lr") ?? FitDefaults.fineTune.lr
        let headRate = Float(lr / 2)
        let backboneRate = Float(command.float("backbone-lr") ?? lr / 20)
        guard let trainer = shell.trainer(for: modelName) else { throw ShellError("no model yet") }
        let recipe = FineTuneRecipe(freezeEpochs: freezeEpochs, epochs: epochs, selectors: selectors, batchNormTrains: command.string("bn") == "train",
                                    base: base, headRate: headRate, backboneRate: backboneRate)
        if command.has("dry-run") {
            // Each phase's trainable set, estimated, then the flags as they were.
            let state = model.saveState()
            defer { model.restore(state) }
            var total = 0.0
            try model.setTrainable(false, ["all"])
            try model.setTrainable(true, head)
            if freezeEpochs > 0 {
                var options = base
                options.epochs = freezeEpochs
                let e = try trainer.estimate(data, options: options, generator: shell.generator)
                shell.print(describe(e, what: "phase 1 (the head alone)"))
                total += e.totalSeconds
            }
            try model.setTrainable(true, selectors, batchNormTrains: recipe.batchNormTrains)
            var options = base
            (options.epochs, options.learningRate) = (epochs, headRate)
            if options.layerDecay == nil { options.backboneLearningRate = backboneRate }
            let e = try trainer.estimate(data, options: options, generator: shell.generator)
            shell.print(describe(e, what: "phase 2 (unfrozen \(selectors.joined(separator: ", ")))"))
            total += e.totalSeconds
            shell.print(String(format: "fine-tune in all: about %.1f s", total))
            (shell.datasets, shell.generator.state) = (datasets, generator)
            shell.changedNothing = true
            return
        }
        try adoptTrainingInput(shell, model, data)
        // Checkpoints: each phase's own, named by the command's step; phase 1's end adds it to the finished phases.
        let log = ShellTrainingLog(shell: shell)
        var phaseOne = base
        phaseOne.epochs = freezeEpochs
        let checkpoints = { (phase: Int, offset: Int, done: [TrainingPhase]) throws -> CheckpointPolicy? in
            try checkpointPolicy(shell, command, model: model, trainer: trainer, log: log, stepOffset: offset, ended: phase == 2 ? nil : { p in
                var ended = TrainingPhase(options: phaseOne, model: model)
                (ended.orders, ended.stepLosses, ended.epochs, ended.batchesPerEpoch) = (p.orders, p.stepLosses, p.records, p.batchesPerEpoch)
                ended.classWeights = try trainer.resolvedClassWeights(phaseOne.classWeights, data)
                return [ended]
            }) {
                Checkpoints.template(shell, session: session, command: command, phase: phase, model: modelName, data: data,
                                     startGenerator: startGenerator, completed: done)
            }
        }
        let continuation = resumed.map { r in
            let atEnd = r.saved.checkpoint.progress.finished
            return FineTuneRecipe.Continuation(
                phase: atEnd ? r.saved.checkpoint.phase + 1 : r.saved.checkpoint.phase, checkpointPhase: r.saved.checkpoint.phase,
                progress: atEnd ? nil : r.saved.checkpoint.progress,
                completed: r.saved.checkpoint.completed.map { var done = $0; done.options = phaseOne; return done },
                restore: {
                    try Checkpoints.restore(r.saved, into: model, data: data, trainer: trainer)
                    shell.print("resume: \(r.path): '\(r.saved.checkpoint.command)' in phase \(r.saved.checkpoint.phase) at \(r.saved.checkpoint.progress.position)")
                    // A phase that ended at the checkpoint: the next starts from the generator where it stood.
                    if atEnd { shell.generator.state = r.saved.checkpoint.progress.generator }
                })
        }
        let start = resumed == nil ? model.saveState() : nil
        let phases = try recipe.run(model, head: head, trainer: trainer, data: data, shell: shell, generator: shell.generator,
                                    checkpoints: checkpoints, checkpointFolder: command.string("checkpoint"), continuing: continuation)

        // One curve over both phases, epochs numbered on.
        var combined: [EpochRecord] = []
        for (_, result) in phases {
            let offset = combined.count
            combined += result.epochs.map { $0.renumbered($0.epoch + offset) }
        }
        shell.lastTraining = combined
        shell.recipes[modelName] = TrainingRecipe(command: shell.canonical(command.line), dataset: data.name, phases: phases.compactMap(\.result.phase), start: start)
        if combined.count > 1 {
            let boundary = phases.count == 2 ? phases[0].result.epochs.count + 1 : nil
            shell.print(Charts.text(combined, marks: boundary.map { [$0: "phase 2: backbone unfrozen"] } ?? [:]))
        }
        shell.chartSink?("\(modelName) on \(data.name): fine-tune" + (phases.count == 2 ? " (phase 2 from epoch \(phases[0].result.epochs.count + 1))" : ""), combined)
        for (index, (name, result)) in phases.enumerated() {
            var figure = name + (result.epochs.last.map { " " + epochFigure($0) } ?? "")
            if index == phases.count - 1 { figure += " weights \(Digest.of(model))" }
            shell.figure(figure, scales: result.epochs.last.map(epochScales) ?? [:])
        }
    }
}

