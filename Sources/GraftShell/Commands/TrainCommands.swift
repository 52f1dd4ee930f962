import Foundation
import GraftFormats
import GraftData
import GraftModels
import GraftNN
import GraftTensor
import GraftTraining

/// Renders training events through the shell's output: a bar in place on a terminal, a line per epoch otherwise.
final class ShellTrainingLog: TrainingLog {
    let shell: Shell
    private var lastDraw = 0.0
    private var drew = false

    init(shell: Shell) { self.shell = shell }

    func record(_ event: TrainingEvent) {
        switch event {
        case let .message(text):
            clear()
            shell.print(text)
        case let .batch(epoch, epochs, batch, batches, loss, accuracy, rate, left):
            guard shell.output.isTerminal else { return }
            let now = Date().timeIntervalSinceReferenceDate
            guard now - lastDraw > 0.1 || batch == batches else { return }
            lastDraw = now
            let width = 24, filled = width * batch / max(batches, 1)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            shell.output.write("\r\u{1B}[2K" + String(format: "epoch %d/%d %@ %d/%d  loss %.4f  acc %.4f  %.0f img/s  ETA %.0fs",
                                                      epoch, epochs, bar, batch, batches, loss, accuracy, rate, left))
            drew = true
        case let .epoch(record, epochs):
            clear()
            shell.print(ConsoleTrainingLog.line(record, epochs: epochs))
        case let .progress(task, done, total, left):
            guard shell.output.isTerminal else { return }
            let now = Date().timeIntervalSinceReferenceDate
            guard now - lastDraw > 0.1 || done == total else { return }
            lastDraw = now
            shell.output.write("\r\u{1B}[2K" + ConsoleTrainingLog.progressLine(task, done: done, total: total, secondsLeft: left))
            drew = true
            if done == total { clear() }
        }
    }

    private func clear() {
        if drew { shell.output.write("\r\u{1B}[2K"); drew = false }
    }
}

extension CommandTable {
    static let training: [CommandSpec] = [
        CommandSpec(["train"], options: [
            .init("epochs", .int(1...10_000), default: "5", "passes over the training split"),
        ] + fitOptions(.train) + [
            .init("backbone-lr", .float(0...10), "a lower rate for every layer outside the head (discriminative rates)"),
            .init("steps", .int(1...1_000_000_000), "stop right after this many optimizer steps (how an interrupted run is recorded)"),
        ] + checkpointOptions, flags: ["dry-run"], summary: "Train the current model's trainable layers on the training split; prints each epoch, a chart, and the frozen-weights check. 'dry-run' measures a batch or two and says what the run would take — time split into the frozen forward and the trainable forward+backward, whether features are cached and what that saves, peak memory — and changes nothing. checkpoint=DIR writes the run's state every N epochs (every=), when it stops and when it ends; resume=DIR|FILE continues such a run to the bits of one that never stopped.",
           example: "train epochs=5 lr=0.01 batch=64", recording: .figures) { shell, command in
            if command.string("resume") != nil { return try resumeTraining(shell, command) }
            let modelName = shell.currentModel ?? ""
            let model = try shell.model()
            let (datasets, generator) = (shell.datasets, shell.generator.state)
            let session = Checkpoints.sessionLines(shell)
            let data = try trainingData(shell, command)
            var o = try trainingOptions(command, .train, model: model)
            o.epochs = command.int("epochs") ?? 5
            o.backboneLearningRate = command.float("backbone-lr").map(Float.init)
            o.stepLimit = command.int("steps")
            guard let trainer = shell.trainer(for: modelName) else { throw ShellError("no model yet") }
            if command.has("dry-run") {
                shell.print(describe(try trainer.estimate(data, options: o, generator: shell.generator), what: "train epochs=\(o.epochs) batch=\(o.batchSize) on \(data.name)"))
                (shell.datasets, shell.generator.state) = (datasets, generator)
                shell.changedNothing = true
                return
            }
            try adoptTrainingInput(shell, model, data)
            let log = ShellTrainingLog(shell: shell)
            let policy = try checkpointPolicy(shell, command, model: model, trainer: trainer, log: log) {
                Checkpoints.template(shell, session: session, command: command, phase: 1, model: modelName, data: data, startGenerator: generator)
            }
            let start = model.saveState()
            let result = try trainer.fit(data, options: o, generator: shell.generator, log: log, shouldStop: shell.interruptRequested, checkpoint: policy)
            try report(shell, command, result, model: model, data: data, asked: o.stepLimit, recordedAs: shell.canonical(command.line), start: start)
        },
        CommandSpec(["eval"], options: [
            .init("on", .text, "dataset (default: the current one)"),
            .init("split", .choice(["test", "val", "train"]), default: "test", "which split"),
            .init("top", .int(1...1000), "also report top-K accuracy"),
            .init("losses", .int(1...1000), "also show the K samples with the highest loss (as top-losses K does)"),
            classesOption,
        ], flags: ["confusion"], summary: "Loss and accuracy (and top-K) of the current model on a split; 'confusion' adds the confusion matrix and per-class precision/recall/F1.",
           example: "eval top=5 confusion", recording: .figures) { shell, command in
            let model = try shell.model()
            let data = try shell.dataset(command.string("on"))
            let (splitName, samples) = try split(data, command)
            try Trainer(model: model).checkCompatible(data, classes: classMatching(command))
            let result = try Evaluation.evaluate(model, samples, normalization: model.normalization ?? data.normalization,
                                                 classNames: data.classNames, topK: command.int("top"), keepSamples: command.int("losses") != nil,
                                                 log: ShellTrainingLog(shell: shell), shouldStop: shell.interruptRequested)
            var figure = "loss \(fixed(result.loss)) accuracy \(fixed(result.accuracy))"
            if let top = result.topK { figure += " top-\(top.k) \(fixed(top.accuracy))" }
            figure += " balanced_accuracy \(fixed(result.balancedAccuracy)) macro_f1 \(fixed(result.macroF1))"
            shell.print("\(data.name) \(splitName) (\(result.count) samples): " + figure.replacingOccurrences(of: " accuracy", with: "  accuracy")
                .replacingOccurrences(of: " top-", with: "  top-").replacingOccurrences(of: " balanced_accuracy", with: "  balanced_accuracy").replacingOccurrences(of: " macro_f1", with: "  macro_f1"))
            // A balanced accuracy moves by 1/(C·n_c) per sample of class c: counted against the smallest class.
            let classCounts = result.confusion.map { $0.reduce(0, +) }.filter { $0 > 0 }
            var scales: [String: FigureScale] = ["loss": .standardError(result.lossStandardError), "accuracy": .samples(result.count),
                                                 "balanced_accuracy": .samples(classCounts.count * (classCounts.min() ?? 0))]
            if let top = result.topK { scales["top-\(top.k)"] = .samples(result.count) }
            shell.figure(figure, scales: scales)
            if command.has("confusion") {
                shell.print(confusionTable(result, classes: data.classes))
                if let sink = shell.pictureSink {
                    let title = "\(shell.currentModel ?? model.name) on \(data.name) \(splitName): confusion matrix"
                    sink(title, "confusion.png", try Pictures.confusion(result.confusion, names: Array(result.classNames.prefix(data.classes)), title: title).png())
                }
            }
            if let k = command.int("losses") { try showTopLosses(shell, result, k: k, data: data, samples: samples, split: splitName, columns: 5, save: nil) }
        },
        CommandSpec(["predict"], arguments: [.init("input", .path)], options: [
            .init("top", .int(1...100), default: "5", "how many classes to show"),
            .init("save", .path, "save the model's raw output for the input as .npy (for a folder: each image's class probabilities as .csv)"),
            .init("on", .text, "dataset for an index (default: the current one)"),
        ], summary: "Classify an image file, every image in a folder (a table by file name; save=F.csv keeps every class's probability), a .npy array in graft's layout (N×C×H×W, preprocessed), or test sample number N.",
           example: "predict Examples/images/chelsea.png top=3", recording: .figures) { shell, command in
            try predict(shell, command)
        },
    ]

    /// The options that make a run resumable, declared once for `train` and `fine-tune`.
    static let checkpointOptions: [CommandSpec.Option] = [
        .init("checkpoint", .path, "write the run's state (weights, BatchNorm statistics, optimizer, schedule, generator, split, order) to step-N.safetensors files in this folder, atomically"),
        .init("every", .int(1...100_000), default: "1", "checkpoint=: after every N epochs (and when the run stops or ends)"),
        .init("keep", .int(1...100_000), "checkpoint=: keep only the newest K checkpoints of the run"),
        .init("resume", .path, "continue the run a checkpoint (a file, or a folder's newest) stands in, with its options; only steps= may be added"),
    ]

    /// `checkpoint=`'s policy for a run (nil without one, and while a resume rebuilds a checkpoint's
    /// session). `template` is asked for only when checkpoints are written (it digests the data).
    static func checkpointPolicy(_ shell: Shell, _ command: ParsedCommand, model: Model, trainer: Trainer, log: TrainingLog,
                                 stepOffset: Int = 0, ended: ((TrainingProgress) throws -> [TrainingPhase])? = nil,
                                 template: () throws -> Checkpoint) throws -> CheckpointPolicy? {
        guard let folder = command.string("checkpoint").map(shell.resolve) else {
            if command.string("every") != nil || command.string("keep") != nil {
                throw command.error("every= and keep= belong to checkpoint=DIR", at: command.string("every") != nil ? "every" : "keep")
            }
            return nil
        }
        if shell.rebuildingFromCheckpoint { return nil }
        return try Checkpoints.policy(folder: folder, every: command.int("every") ?? 1, keep: command.int("keep"), template: try template(),
                                      model: model, trainer: trainer, log: log, stepOffset: stepOffset, ended: ended)
    }

    /// `train resume=DIR|FILE [steps=N]`: the checkpoint's command, from where it stood.
    static func resumeTraining(_ shell: Shell, _ command: ParsedCommand) throws {
        let r = try Checkpoints.Resumption(shell, command, for: "train", extra: ["steps"])
        try adoptInput(r.model, try shell.dataset(r.command.string("on")))
        try Checkpoints.checkModel(r.model, r.saved)
        let data = try trainingData(shell, r.command)
        var o = try trainingOptions(r.command, .train, model: r.model)
        o.epochs = r.command.int("epochs") ?? 5
        o.backboneLearningRate = r.command.float("backbone-lr").map(Float.init)
        o.stepLimit = command.int("steps")
        let result = try r.run {
            try Checkpoints.restore(r.saved, into: r.model, data: data, trainer: r.trainer)
            shell.print("resume: \(r.path): '\(r.saved.checkpoint.command)' at \(r.saved.checkpoint.progress.position)")
            let log = ShellTrainingLog(shell: shell)
            let policy = try checkpointPolicy(shell, r.command, model: r.model, trainer: r.trainer, log: log) { r.saved.checkpoint }
            return try r.trainer.fit(data, options: o, generator: shell.generator, log: log, shouldStop: shell.interruptRequested,
                                     resume: r.saved.checkpoint.progress, checkpoint: policy)
        }
        try report(shell, r.command, result, model: r.model, data: data, asked: o.stepLimit,
               recordedAs: "train resume=\(r.path)" + (o.stepLimit.map { " steps=\($0)" } ?? ""))
    }

    /// What a finished `train` shows and keeps: the recipe, the chart, the timing, the figure, and
    /// (stopped part-way) the line that replays to the weights reached.
    /// `asked`: the run's `steps=`, if any.
    /// `start`: the model as the run found it (nil for a resumed run).
    static func report(_ shell: Shell, _ command: ParsedCommand, _ result: TrainingResult, model: Model, data: Dataset, asked: Int?,
                       recordedAs line: String, start: ModelState? = nil) throws {
        let modelName = shell.currentModel ?? model.name
        shell.lastTraining = result.epochs
        if let phase = result.phase {
            shell.recipes[modelName] = TrainingRecipe(command: shell.canonical(command.line), dataset: data.name, phases: [phase], start: start)
        }
        if result.epochs.count > 1 { shell.print(Charts.text(result.epochs)) }
        shell.chartSink?("\(modelName) on \(data.name)", result.epochs)
        shell.print(timing(result))
        if let warning = divergence(result) { shell.print(warning) }
        var figure = result.epochs.last.map { epochFigure($0) + " " } ?? ""
        if let step = result.stoppedAtStep { figure += "step \(step) " }
        shell.figure(figure + "weights \(Digest.of(model))", scales: result.epochs.last.map(epochScales) ?? [:])
        if let step = result.stoppedAtStep, asked != step {
            // Interrupted: record the run up to the step it reached, so the session replays to these weights.
            let recorded = line.replacingOccurrences(of: #"\s+steps=\S+"#, with: "", options: .regularExpression) + " steps=\(step)"
            shell.recordedLine = recorded
            shell.print("interrupted after step \(step): the model keeps the weights reached; recorded as '\(recorded)' so the session replays to them")
        } else if line != shell.canonical(command.line) {
            shell.recordedLine = line
        }
    }

    /// A model trained on image samples takes them as they were made: their size becomes its input
    /// size, their transform and normalization its preprocessing (what `predict FILE`, `cam`,
    /// `activations`, `save model` and the exports use). Said when the input size changes.
    static func adoptTrainingInput(_ shell: Shell, _ model: Model, _ data: Dataset) throws {
        let before = model.inputShape
        guard try adoptInput(model, data), let transform = model.preprocessing else { return }
        if data.sampleShape != before {
            shell.print("preprocessing: \(shell.currentModel ?? model.name) now takes \(data.sampleShape.map(String.init).joined(separator: "×")) (it was \(before.map(String.init).joined(separator: "×"))): image files are \(transform.description), normalized \(model.normalization ?? data.normalization), as the samples of \(data.name) were")
        }
    }

    /// ``adoptTrainingInput(_:_:_:)`` without a word (a resume puts the model where its run had it).
    /// False when the data was not made from image files.
    @discardableResult
    static func adoptInput(_ model: Model, _ data: Dataset) throws -> Bool {
        guard let transform = data.imageTransform, transform.sampleShape == data.sampleShape, data.sampleShape.count == 3 else { return false }
        if data.sampleShape != model.inputShape { try model.setInputShape(data.sampleShape) }
        model.preprocessing = transform
        if model.normalization == nil { model.normalization = data.normalization }
        return true
    }

    /// The defaults a training command starts from: `train` is Keras's `fit` (SGD at 0.01, constant
    /// rate); `fine-tune` is fastai's `fine_tune` (Adam at 0.002, one-cycle).
    struct FitDefaults {
        let lr: Double
        let optimizer: String
        let schedule: String
        static let train = FitDefaults(lr: 0.01, optimizer: "sgd", schedule: "constant")
        static let fineTune = FitDefaults(lr: 0.002, optimizer: "adam", schedule: "onecycle")
    }

    /// The options every training command takes (`train`, `fine-tune`), declared once.
    static func fitOptions(_ defaults: FitDefaults) -> [CommandSpec.Option] {
        [
            .init("lr", .float(1e-8...10), default: CommandParser.format(defaults.lr), "learning rate (of the head, with backbone-lr)"),
            .init("batch", .int(1...8192), default: "32", "batch size"),
            .init("optimizer", .choice(["sgd", "adam", "adamw", "rmsprop"]), default: defaults.optimizer, "optimizer"),
            .init("momentum", .float(0...0.999), default: "0.9", "momentum (sgd, rmsprop)"),
            .init("nesterov", .choice(["on", "off"]), default: "off", "Nesterov momentum (sgd)"),
            .init("wd", .float(0...1), default: "0", "weight decay (decoupled for adamw)"),
            .init("schedule", .choice(["constant", "step", "cosine", "onecycle"]), default: defaults.schedule, "learning-rate schedule"),
            .init("step", .int(1...100_000), default: "1", "schedule=step: multiply the rate by gamma every N epochs (PyTorch's StepLR)"),
            .init("gamma", .float(0.0001...1), default: "0.1", "schedule=step: the factor"),
            .init("warmup", .int(0...1000), default: "0", "epochs of linear warm-up"),
            .init("layer-decay", .float(0.01...1), "layer-wise rate decay: block i of B trains at lr·decay^(B−i), the embeddings lowest, the head at lr (BEiT, MAE, timm)"),
            .init("clip", .float(1e-6...1e6), "clip the global gradient norm"),
            .init("smoothing", .float(0...0.99), default: "0", "label smoothing"),
            .init("sampler", .choice(["shuffle", "balanced"]), default: "shuffle", "each epoch's samples: a shuffled pass, or draws with replacement ∝ 1/class count (PyTorch's WeightedRandomSampler)"),
            .init("class-weights", .text, "weigh the loss by class: balanced (n / (C·n_c)), auto (balanced when the classes differ by more than 1.5×) or w0,w1,… (PyTorch's CrossEntropyLoss(weight=), Keras's class_weight)"),
            .init("val", .float(0.05...0.5), "hold out this fraction of the training split for validation"),
            .init("patience", .int(1...1000), "stop after this many epochs without a better val_loss (restores the best)"),
            .init("cache", .choice(["auto", "on", "off"]), default: "auto", "compute the frozen prefix's features once"),
            .init("augment", .text, "training augmentation, comma-separated, each with an optional magnitude: flip, vflip, crop[=MIN-AREA], rotate[=DEGREES], shift[=FRACTION], brightness[=X], contrast[=X], saturation[=X] (torchvision's meanings); none for no augmentation where the model brings its own (Keras's Random* layers)"),
            .init("on", .text, "dataset to train on (default: the current one)"),
            classesOption,
        ]
    }

    /// `classes=`, declared once for every command that trains on or scores a dataset.
    static let classesOption = CommandSpec.Option("classes", .choice(["names", "index"]), default: "names",
        "names: the dataset must have the model's classes (count, and names where both have them); index: label i is output i, the dataset may have fewer")

    static func classMatching(_ command: ParsedCommand) -> ClassMatching { ClassMatching(rawValue: command.string("classes") ?? "names") ?? .names }

    /// `optimizer=`, `momentum=` and `nesterov=` as an optimizer (RMSprop without momentum unless given).
    static func optimizer(_ command: ParsedCommand, default name: String) -> OptimizerKind {
        let momentum = Float(command.float("momentum") ?? 0.9)
        switch command.string("optimizer") ?? name {
        case "adam": return .adamDefaults
        case "adamw": return .adamWDefaults
        case "rmsprop": return .rmsprop(alpha: 0.99, epsilon: 1e-8, momentum: command.float("momentum") == nil ? 0 : momentum)
        default: return .sgd(momentum: momentum, nesterov: command.string("nesterov") == "on")
        }
    }

    /// The ``fitOptions`` of a command as training options (epochs and the rest are the caller's).
    static func trainingOptions(_ command: ParsedCommand, _ defaults: FitDefaults, model: Model) throws -> TrainingOptions {
        var o = TrainingOptions()
        o.learningRate = Float(command.float("lr") ?? defaults.lr)
        o.batchSize = command.int("batch") ?? 32
        o.optimizer = optimizer(command, default: defaults.optimizer)
        o.weightDecay = Float(command.float("wd") ?? 0)
        o.schedule = try Schedule(name: command.string("schedule") ?? defaults.schedule)
        if command.string("step") != nil || command.string("gamma") != nil {
            guard command.string("schedule") == "step" else { throw command.error("step= and gamma= belong to schedule=step", at: command.string("step") != nil ? "step" : "gamma") }
            o.schedule = .step(every: command.int("step") ?? 1, gamma: Float(command.float("gamma") ?? 0.1))
        }
        o.warmupEpochs = command.int("warmup") ?? 0
        o.layerDecay = command.float("layer-decay").map(Float.init)
        o.clipNorm = command.float("clip").map(Float.init)
        o.labelSmoothing = Float(command.float("smoothing") ?? 0)
        o.sampler = Sampler(rawValue: command.string("sampler") ?? "shuffle") ?? .shuffle
        if let text = command.string("class-weights") {
            guard let weights = ClassWeights(text) else {
                throw command.error("class-weights takes balanced, auto or one non-negative number per class (0.5,2,1), got '\(text)'", at: "class-weights")
            }
            o.classWeights = weights
        }
        o.patience = command.int("patience")
        o.classMatching = classMatching(command)
        o.cache = CacheMode(rawValue: command.string("cache") ?? "auto") ?? .auto
        if let augment = command.string("augment") {
            o.augmentation = try augmentation(augment, command)
        } else if let carried = model.sourceAugmentation {
            // The model's own Random* layers, as Keras's fit would apply them.
            if let first = carried.unsupported.first {
                throw command.error("the model's \(TextTable.cell(first, limit: 160)); say augment=… for graft's augmentation, or augment=none")
            }
            do { o.augmentation = try augmentation(carried.spec, command) } catch {
                throw command.error("the model's augmentation '\(TextTable.cell(carried.spec, limit: 80))' is not graft's augment= (\(ShellError(error).message))")
            }
        }
        return o
    }

    /// The dataset a training command uses (`on=`, or the current one), checked against the current
    /// model, with `val=F` held out and kept on the dataset (so `eval split=val` and later runs see
    /// the same samples).
    static func trainingData(_ shell: Shell, _ command: ParsedCommand) throws -> Dataset {
        let model = try shell.model()
        let dataName = command.string("on") ?? shell.currentDataset ?? ""
        var data = try shell.dataset(command.string("on"))
        try Trainer(model: model).checkCompatible(data, classes: classMatching(command))  // before splitting, so a mismatch says only that
        if let fraction = command.float("val") {
            let previous = data.heldOutFraction
            data = try data.withValidation(fraction: fraction, generator: shell.generator)
            if previous != fraction {
                shell.print("\(dataName): held out \(data.validation?.count ?? 0) of \(data.train.count + (data.validation?.count ?? 0)) training samples for validation (val=\(CommandParser.format(fraction)), stratified)")
            }
            shell.datasets[dataName] = data
        }
        return data
    }

    /// A dry run's report: the time per epoch and in all, split by part, caching, memory.
    static func describe(_ e: CostEstimate, what: String) -> String {
        let s = { (seconds: Double) in seconds < 10 ? String(format: "%.2f s", seconds) : String(format: "%.1f s", seconds) }
        let mb = { (bytes: Int) in bytes >= 1_000_000_000 ? String(format: "%.1f GB", Double(bytes) / 1e9) : String(format: "%.1f MB", Double(bytes) / 1e6) }
        let n = Double(e.samples)
        var lines = ["dry run of \(what): \(e.samples) samples, \(e.batchesPerEpoch) batch\(e.batchesPerEpoch == 1 ? "" : "es") an epoch, \(e.epochs) epoch\(e.epochs == 1 ? "" : "s"); measured on a batch or two, nothing changed"]
        let frozen = e.frozenPrefix == 0 ? "none (the first layer trains)" : "\(e.frozenPrefix) layer\(e.frozenPrefix == 1 ? "" : "s")"
        lines.append("frozen prefix: \(frozen); forward \(s(e.frozenForwardPerSample * n)) a pass over the data")
        lines.append("trainable part: forward + backward + step \(s(e.trainablePerSample * n)) an epoch" + (e.validationSeconds > 0 ? "; validation \(s(e.validationSeconds)) an epoch" : ""))
        if e.cached {
            lines.append("features cached: yes — the prefix runs once (\(s(e.cacheSeconds)), \(mb(e.cacheBytes))), then \(s(e.epochSeconds)) an epoch: about \(s(e.totalSeconds)) in all, against \(s(e.uncachedSeconds)) without caching (saves \(s(max(0, e.uncachedSeconds - e.totalSeconds))))")
        } else {
            lines.append("features cached: no" + (e.frozenPrefix == 0 ? "" : " (augmentation or cache=off)") + " — \(s(e.epochSeconds)) an epoch: about \(s(e.totalSeconds)) in all")
        }
        lines.append("peak memory: about \(mb(e.peakBytes)) (weights \(mb(e.weightBytes)), gradients \(mb(e.gradientBytes)), optimizer state \(mb(e.optimizerBytes)), activations \(mb(e.activationBytes))" + (e.cached ? ", cached features \(mb(e.cacheBytes))" : "") + ", data \(mb(e.dataBytes)))")
        return lines.joined(separator: "\n")
    }

    /// A warning when an epoch's loss grew orders of magnitude (100×) above where the run started
    /// (its first step's loss, taken before any update), nil otherwise.
    static func divergence(_ result: TrainingResult) -> String? {
        guard let start = result.phase?.stepLosses.first, let peak = result.epochs.max(by: { $0.loss < $1.loss }), let last = result.epochs.last else { return nil }
        guard start > 0, peak.loss.isFinite, peak.loss > 100 * start, peak.loss > 1 else { return nil }
        let end = peak.epoch == last.epoch ? "" : String(format: ", and ended at %.4g", Double(last.loss))
        return String(format: "warning: the loss grew from %.4g to %.4g in epoch %d (%.0f×)%@ — the learning rate is too high for this model: 'undo' puts the workspace back as before this run, 'lr-find' suggests a rate",
                      Double(start), Double(peak.loss), peak.epoch, Double(peak.loss / start), end)
    }

    /// What a training run printed last: `trained 5 epochs in 3.20 s (…)`.
    static func timing(_ result: TrainingResult) -> String {
        let split = result.usedCache
            ? String(format: " (caching %.2f s + training %.2f s)", result.cacheSeconds, result.seconds - result.cacheSeconds) : ""
        return String(format: "trained %d epoch%@ in %.2f s%@ (%.0f images/s)%@", result.epochs.count, result.epochs.count == 1 ? "" : "s",
                      result.seconds, split, result.imagesPerSecond, result.usedCache ? ", features cached" : "")
    }

    /// A run's last epoch as a figure: `epoch 5 loss 0.2012 accuracy 0.9380 [val_loss … val_accuracy …]`.
    /// What an epoch figure's numbers are over (for replays whose rounding differs).
    static func epochScales(_ record: EpochRecord) -> [String: FigureScale] {
        var scales: [String: FigureScale] = ["accuracy": .samples(record.samples), "loss": .standardError(record.lossStandardError)]
        if record.validationSamples > 0 {
            scales["val_accuracy"] = .samples(record.validationSamples)
            scales["val_loss"] = .standardError(record.validationLossStandardError)
        }
        return scales
    }

    static func epochFigure(_ record: EpochRecord) -> String {
        var figure = "epoch \(record.epoch) loss \(fixed(record.loss)) accuracy \(fixed(record.accuracy))"
        if let vl = record.validationLoss, let va = record.validationAccuracy { figure += " val_loss \(fixed(vl)) val_accuracy \(fixed(va))" }
        return figure
    }

    /// The split `split=` names (default test), or an error saying how to get it.
    static func split(_ data: Dataset, _ command: ParsedCommand) throws -> (name: String, samples: Samples) {
        let name = command.string("split") ?? "test"
        let samples: Samples?
        switch name {
        case "train": samples = data.train
        case "val": samples = data.validation
        default: samples = data.test
        }
        guard let samples else {
            let hint = name == "test" ? " (try split=train, or load it with split=F)" : (name == "val" ? " (make one with train val=F)" : "")
            throw command.error("\(data.name) has no \(name) split" + hint, at: "split")
        }
        return (name, samples)
    }

    static func augmentation(_ text: String, _ command: ParsedCommand) throws -> Augmentation {
        var a = Augmentation()
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: "=", maxSplits: 1).map(String.init)
            let name = pieces[0]
            var magnitude: Double? = nil
            if pieces.count == 2 {
                guard let value = Double(pieces[1]), value.isFinite, value >= 0 else {
                    throw command.error("augment: '\(part)' needs a number ≥ 0 after '='", at: "augment")
                }
                magnitude = value
            }
            switch name {
            case "none" where text == "none": return a
            case "flip": a.horizontalFlip = true
            case "vflip": a.verticalFlip = true
            case "crop":
                let low = magnitude ?? 0.6
                guard low > 0, low <= 1 else { throw command.error("augment: crop=MIN-AREA must be in (0, 1], got \(pieces[1])", at: "augment") }
                a.resizedCropScale = low...1
            case "rotate": a.maxRotation = magnitude ?? 10
            case "shift": a.maxTranslation = magnitude ?? 0.1
            case "brightness": a.brightness = magnitude ?? 0.2
            case "contrast": a.contrast = magnitude ?? 0.2
            case "saturation": a.saturation = magnitude ?? 0.2
            default: throw command.error("augment takes none, or flip, vflip, crop, rotate, shift, brightness, contrast, saturation; got '\(TextTable.cell(name, limit: 32))'", at: "augment")
            }
        }
        do { return try a.validated() } catch { throw command.error("augment: \(error)", at: "augment") }
    }

    static func confusionTable(_ result: EvaluationResult, classes: Int) -> String {
        let names = Array(result.classNames.prefix(classes)).map { TextTable.cell($0, limit: 32) }
        let width = max(5, names.map(\.count).max() ?? 0, String(result.count).count)
        var lines = ["confusion (rows: true class, columns: predicted)"]
        lines.append(String(repeating: " ", count: width) + "  " + names.map { $0.leftPadded(width) }.joined(separator: " "))
        for (i, name) in names.enumerated() {
            lines.append(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                + result.confusion[i].prefix(classes).map { String($0).leftPadded(width) }.joined(separator: " "))
        }
        lines.append("")
        lines.append("class".padding(toLength: width, withPad: " ", startingAt: 0) + "  precision  recall      f1")
        for (i, scores) in result.perClass.prefix(classes).enumerated() {
            lines.append(names[i].padding(toLength: width, withPad: " ", startingAt: 0) + "  " + fixed(scores.precision).leftPadded(9)
                + "  " + fixed(scores.recall).leftPadded(6) + "  " + fixed(scores.f1).leftPadded(6))
        }
        return lines.joined(separator: "\n")
    }

    /// What a command that looks at one input (`predict`, `activations`, `cam`) is given: an image
    /// file, a .npy array in graft's layout, or sample number N of a dataset's test split.
    struct ModelInput {
        /// [1, C, H, W] (or the array's N), normalized as the model expects.
        let batch: Tensor
        /// The input as shown, values in [0, 1] (nil for a .npy array).
        let image: Image?
        /// A dataset sample's true class: its index and the dataset's name for it.
        let label: (index: Int, name: String)?
    }

    static func modelInput(_ shell: Shell, _ input: String, dataset: String?) throws -> ModelInput {
        let model = try shell.model()
        if let index = Int(input) {
            let data = try shell.dataset(dataset)
            guard let samples = data.test ?? Optional(data.train) else { throw ShellError("\(data.name) has no samples") }
            guard (0..<samples.count).contains(index) else { throw ShellError("sample \(index) is outside 0…\(samples.count - 1) of \(data.name)'s \(data.test == nil ? "train" : "test") split") }
            try Trainer(model: model).checkCompatible(data, classes: .any)
            let values = normalized(samples.tensor(index: index), shape: samples.sampleShape, model.normalization ?? data.normalization)
            if let source = samples.source(index) { shell.print("sample \(index) of \(data.name): \(Terminal.visible(source))") }
            return ModelInput(batch: try Tensor(shape: [1] + samples.sampleShape, scalars: values), image: samples.isImage ? samples.image(index) : nil,
                              label: (samples.labels[index], data.classNames[samples.labels[index]]))
        }
        if input.lowercased().hasSuffix(".npy") {
            let array = try Tabular.readNumPy(shell.resolve(input))
            let shape = array.shape.count == model.inputShape.count ? [1] + array.shape : array.shape
            do { _ = try model.nodeShapes(forInput: Array(shape.dropFirst())) } catch {
                throw ShellError("\(input) holds \(formatShape(array.shape)); the model takes [N,\(model.inputShape.map(String.init).joined(separator: ","))]: \(error)")
            }
            if let bad = array.values.firstIndex(where: { !$0.isFinite }) {
                let position = Tensor.position(of: bad, in: array.shape)
                throw ShellError("\(input) holds \(array.values[bad].isNaN ? "NaN" : "an infinity") at index [\(position.map(String.init).joined(separator: ", "))]; the model needs finite numbers")
            }
            return ModelInput(batch: try Tensor(shape: shape, scalars: array.values), image: nil, label: nil)
        }
        if let hint = shell.nearbyName(input) { throw ShellError("cannot read \(input): no such file" + hint) }
        guard let transform = model.imageTransform else { throw ShellError("the model takes \(formatShape(model.inputShape)) inputs, not images") }
        let (channels, height, width) = (transform.channels, transform.height, transform.width)
        // The model's preprocessing: its training data's, or ImageNet's evaluation recipe at its size.
        let image = try transform.apply(try Image.load(shell.resolve(input)))
        let normalization = model.normalization ?? (try? shell.dataset())?.normalization ?? .unit
        return ModelInput(batch: try Tensor(shape: [1, channels, height, width], scalars: normalized(image.pixels, shape: model.inputShape, normalization)),
                          image: image, label: nil)
    }

    /// `predict FOLDER`: every image in it (and in its subfolders, as `data images` reads them), a
    /// row each — file, best class and its probability — and with `save=F.csv`, a table of every class's.
    static func predictFolder(_ shell: Shell, _ command: ParsedCommand, folder: String, names: [String]) throws {
        let model = try shell.model()
        let root = URL(fileURLWithPath: shell.resolve(folder))
        let files = ImageFolder.imageFiles(in: root) + ImageFolder.subfolders(of: root).flatMap { ImageFolder.imageFiles(in: root.appendingPathComponent($0)) }
        guard !files.isEmpty else { throw ShellError("\(folder) holds no images (.png, .jpg) in it or in its subfolders") }
        guard files.count <= 100_000 else { throw ShellError("\(folder) holds \(files.count) images; predict takes at most 100,000 at once") }
        if let save = command.string("save"), !save.lowercased().hasSuffix(".csv") {
            throw command.error("save= for a folder writes a table: give a .csv file name, got '\(save)'", at: "save")
        }
        let relative = files.map { String($0.dropFirst(root.path.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/")) }
        let visible = relative.map(Terminal.visible)
        let width = min(60, max(4, visible.map(\.count).max() ?? 4))
        shell.print("file".padding(toLength: width, withPad: " ", startingAt: 0) + "  class  probability")
        var csv = ["file," + names.map(CSV.field).joined(separator: ",")]
        var counts: [String: Int] = [:]
        for ((path, name), shownName) in zip(zip(files, relative), visible) {
            if shell.interruptRequested() { throw ShellError("interrupted after \(csv.count - 1) of \(files.count) images; nothing was saved") }
            let prepared = try modelInput(shell, path, dataset: nil)
            let probabilities = try Evaluation.probabilities(model, prepared.batch)
            guard let best = Evaluation.top(probabilities, k: 1, classNames: names).first?.top.first, probabilities.scalars.allSatisfy(\.isFinite) else {
                throw ShellError("the model's output holds NaN or an infinity for \(shownName)")
            }
            counts[best.name, default: 0] += 1
            let shown = shownName.count > width ? "…" + shownName.suffix(width - 1) : shownName.padding(toLength: width, withPad: " ", startingAt: 0)
            shell.print(shown + "  " + Terminal.visible(best.name) + "  " + fixed(best.probability))
            csv.append(CSV.field(name) + "," + probabilities.scalars.map { String(format: "%.6f", Double($0)) }.joined(separator: ","))
        }
        shell.print("\(files.count) image\(files.count == 1 ? "" : "s"): " + counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        shell.figure("images \(files.count) " + counts.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","))
        if let save = command.string("save") {
            let written = try shell.write(Data((csv.joined(separator: "\n") + "\n").utf8), to: save)
            shell.print("wrote \(shell.shown(save, written)) (\(files.count) rows, a column per class)")
        }
    }

    static func predict(_ shell: Shell, _ command: ParsedCommand) throws {
        let model = try shell.model()
        let input = command.argument("input") ?? ""
        let top = command.int("top") ?? 5
        let outputs = model.outputShape.last ?? 1
        // A model without class names of its own (0, 1, 2 …) shows the dataset's when they fit.
        var names = model.classNames
        if !ClassMatching.named(names),
           let data = try? shell.dataset(command.string("on")), data.classes == outputs { names = data.classNames }
        var isFolder: ObjCBool = false
        if Int(input) == nil, FileManager.default.fileExists(atPath: shell.resolve(input), isDirectory: &isFolder), isFolder.boolValue {
            return try predictFolder(shell, command, folder: input, names: names)
        }
        if !ClassMatching.named(names), outputs > 1 {
            shell.print("(the model carries no class names, so classes show as numbers: load it with labels=NAME,NAME,… to name its \(outputs) outputs)")
        }
        let prepared = try modelInput(shell, input, dataset: command.string("on"))
        let (batch, label) = (prepared.batch, prepared.label)
        if let path = command.string("save") {
            let raw = try model.predict(batch)
            let written = try shell.write(NumPyArray(shape: raw.shape, values: raw.scalars).encoded(), to: path)
            shell.print("saved the output \(formatShape(raw.shape)) to \(shell.shown(path, written))")
        }
        let probabilities = try Evaluation.probabilities(model, batch)
        if probabilities.scalars.contains(where: { !$0.isFinite }) {
            throw ShellError("the model's output holds NaN or an infinity for \(input) (its weights or the input are not finite numbers)")
        }
        let predictions = Evaluation.top(probabilities, k: min(top, outputs), classNames: names.map { TextTable.cell($0, limit: 40) })
        for (row, prediction) in predictions.enumerated() {
            if predictions.count > 1 { shell.print("sample \(row):") }
            if let label {
                // The names on both sides must be the same list, or both sides show indices.
                let shown = TextTable.cell(label.name, limit: 40)
                shell.print("true class: " + (label.index < names.count && names[label.index] == label.name ? shown : "\(label.index) (\(shown) in the dataset)"))
            }
            let width = prediction.top.map(\.name.count).max() ?? 0
            for entry in prediction.top {
                let bar = String(repeating: "█", count: Charts.cells(entry.probability, width: 30))
                shell.print("  " + entry.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + fixed(entry.probability) + "  " + bar)
            }
            if let best = prediction.top.first { shell.figure("top \(best.name) \(fixed(best.probability))") }
        }
    }
}

/// One sample's values in [0, 1] as the model's input.
func normalized(_ values: [Float], shape: [Int], _ normalization: Normalization) -> [Float] {
    var values = values
    let channels = shape.count == 3 ? shape[0] : 1
    values.withUnsafeMutableBufferPointer { buffer in
        if let base = buffer.baseAddress { normalization.apply(base, channels: channels, plane: buffer.count / channels) }
    }
    return values
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
