import Foundation
import GraftData
import GraftModels
import GraftNN
import GraftTensor
import GraftTraining

/// `compare`: transfer learning's A/B experiment — recipes run on copies of the same model, from
/// the same seed, on the same data for the same number of epochs, in one table and one chart.
extension CommandTable {
    /// The recipes `compare` knows, defined here and nowhere else.
    enum Recipe: String, CaseIterable {
        case featureExtract = "feature-extract", fineTune = "fine-tune", scratch, bnTrap = "bn-trap"

        var summary: String {
            switch self {
            case .featureExtract: return "the backbone frozen, a new head trained (features cached when they can be)"
            case .fineTune: return "one epoch of the head alone, then the rest with everything unfrozen (head lr/2, backbone lr/20), pretrained BatchNorm kept in inference mode"
            case .scratch: return "the same graph, every weight initialized afresh (PyTorch's defaults), everything trained"
            case .bnTrap: return "fine-tune's mistake on purpose: BatchNorm updating its statistics (bn=train) on batches of 4"
            }
        }
    }

    static let experiments: [CommandSpec] = [
        CommandSpec(["compare"], arguments: [.init("recipes", .text, required: false, variadic: true)], options: [
            .init("epochs", .int(1...1000), default: "3", "epochs of every recipe (fine-tune: 1 with the backbone frozen, the rest unfrozen)"),
            .init("lr", .float(1e-8...10), default: "0.002", "learning rate of every recipe (Adam, one-cycle)"),
            .init("batch", .int(2...8192), default: "32", "batch size (bn-trap uses 4)"),
            .init("per-class", .int(1...1_000_000), "train on the first N training samples of each class (how few examples transfer needs)"),
            .init("on", .text, "dataset (default: the current one)"),
        ], flags: ["dry-run"], summary: "Runs recipes — feature-extract, fine-tune, scratch, bn-trap (default: the first three) — on copies of the current model with a new head, from one seed, on the same data and epochs; prints one table (trainable params, time, cached?, train/val/test accuracy, test loss) and their curves in one chart. Keeps each trained copy as MODEL-RECIPE; the current model is unchanged. 'dry-run' estimates each recipe's time and memory instead.",
        example: "compare feature-extract fine-tune scratch epochs=3", recording: .figures) { shell, command in
            try compare(shell, command)
        },
    ]

    struct RecipeOutcome {
        let recipe: Recipe
        let model: Model
        let epochs: [EpochRecord]
        let seconds: Double
        let cached: Bool
        let trainable: Int
        let validation: EvaluationResult?
        let test: EvaluationResult?
    }

    static func compare(_ shell: Shell, _ command: ParsedCommand) throws {
        let baseName = shell.currentModel ?? ""
        let base = try shell.model()
        let names = command.arguments["recipes"] ?? []
        var recipes: [Recipe] = []
        for name in names.isEmpty ? ["feature-extract", "fine-tune", "scratch"] : names {
            guard let recipe = Recipe(rawValue: name) else {
                let known = Recipe.allCases.map(\.rawValue)
                throw ShellError("unknown recipe '\(name)'" + (nearest(name, in: known).map { "; did you mean '\($0)'?" } ?? "") + " (recipes: \(known.joined(separator: ", ")))")
            }
            if !recipes.contains(recipe) { recipes.append(recipe) }
        }
        var data = try shell.dataset(command.string("on"))
        if let n = command.int("per-class") { data = perClass(data, n) }
        let epochs = command.int("epochs") ?? 3
        let lr = Float(command.float("lr") ?? 0.002)
        let batch = command.int("batch") ?? 32
        // One seed for every recipe, drawn once from the session's generator.
        let generatorState = shell.generator.state
        let seed = shell.generator.next()
        if command.has("dry-run") {
            shell.print("dry run of compare on \(data.name): \(recipes.map(\.rawValue).joined(separator: ", ")), \(epochs) epoch\(epochs == 1 ? "" : "s") each, \(data.train.count) training samples; measured on a batch or two per recipe, nothing changed")
            shell.print("recipe".padding(toLength: 16, withPad: " ", startingAt: 0) + "trainable".leftPadded(12) + "  cached" + "time".leftPadded(10) + "peak memory".leftPadded(13))
            var total = 0.0
            for recipe in recipes {
                let estimates = try estimate(recipe, base: base, data: data, epochs: epochs, lr: lr, batch: batch, seed: seed, shell: shell)
                let seconds = estimates.reduce(0) { $0 + $1.estimate.totalSeconds }
                total += seconds
                shell.print(recipe.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0) + grouped(estimates.last?.trainable ?? 0).leftPadded(12)
                    + (estimates.contains { $0.estimate.cached } ? "yes" : "no").leftPadded(8) + String(format: "%.1f s", seconds).leftPadded(10)
                    + String(format: "%.0f MB", Double(estimates.map(\.estimate.peakBytes).max() ?? 0) / 1e6).leftPadded(13))
            }
            shell.print(String(format: "in all: about %.1f s, plus evaluating each recipe", total))
            shell.generator.state = generatorState
            shell.changedNothing = true
            return
        }
        shell.print("compare on \(data.name): \(recipes.map(\.rawValue).joined(separator: ", ")) — \(epochs) epoch\(epochs == 1 ? "" : "s") each, \(data.train.count) training samples, Adam at lr \(String(format: "%g", Double(lr))) one-cycle, batch \(batch), seed \(seed)")
        var outcomes: [RecipeOutcome] = []
        for (index, recipe) in recipes.enumerated() {
            shell.print("\n── \(recipe.rawValue): \(recipe.summary)")
            do {
                outcomes.append(try run(recipe, base: base, data: data, epochs: epochs, lr: lr, batch: batch, seed: seed, shell: shell))
            } catch where shell.interruptRequested() && !outcomes.isEmpty {
                // Ctrl-C: the recipes that finished are kept (each ran from the same seed, so the
                // session records the command with them alone, and it replays to their figures).
                let finished = outcomes.map(\.recipe.rawValue), dropped = recipes[index...].map(\.rawValue)
                shell.print("interrupted in \(recipe.rawValue): kept what finished (\(finished.joined(separator: ", "))); not run: \(dropped.joined(separator: ", "))")
                shell.recordedLine = (["compare"] + finished + ["epochs", "lr", "batch", "per-class", "on"].compactMap { name in
                    command.options[name].map { "\(name)=\($0)" }
                }).joined(separator: " ")
                break
            }
        }

        // The table, every cell a figure.
        let hasVal = outcomes.contains { $0.validation != nil }, hasTest = outcomes.contains { $0.test != nil }
        var header = "recipe".padding(toLength: 16, withPad: " ", startingAt: 0) + "trainable".leftPadded(12) + "time".leftPadded(9) + "  cached" + "train acc".leftPadded(11)
        if hasVal { header += "val acc".leftPadded(9) }
        if hasTest { header += "test acc".leftPadded(10) + "test loss".leftPadded(11) }
        shell.print("")
        shell.print(header)
        shell.print(String(repeating: "─", count: header.count))
        for o in outcomes {
            var row = o.recipe.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0) + grouped(o.trainable).leftPadded(12)
                + String(format: "%.1f s", o.seconds).leftPadded(9) + (o.cached ? "yes" : "no").leftPadded(8) + fixed(o.epochs.last?.accuracy ?? 0).leftPadded(11)
            if hasVal { row += (o.validation.map { fixed($0.accuracy) } ?? "–").leftPadded(9) }
            if hasTest { row += (o.test.map { fixed($0.accuracy) } ?? "–").leftPadded(10) + (o.test.map { fixed($0.loss) } ?? "–").leftPadded(11) }
            shell.print(row)
            var figure = "\(o.recipe.rawValue) trainable \(o.trainable) train_accuracy \(fixed(o.epochs.last?.accuracy ?? 0))"
            if let v = o.validation { figure += " val_accuracy \(fixed(v.accuracy)) val_loss \(fixed(v.loss))" }
            if let t = o.test { figure += " test_accuracy \(fixed(t.accuracy)) test_loss \(fixed(t.loss))" }
            var scales: [String: FigureScale] = [:]
            if let last = o.epochs.last { scales["train_accuracy"] = .samples(last.samples) }
            for (prefix, result) in [("val", o.validation), ("test", o.test)] {
                guard let result else { continue }
                scales[prefix + "_accuracy"] = .samples(result.count)
                scales[prefix + "_loss"] = .standardError(result.lossStandardError)
            }
            shell.figure(figure, scales: scales)
        }
        if let best = outcomes.max(by: { ($0.test ?? $0.validation)?.accuracy ?? 0 < ($1.test ?? $1.validation)?.accuracy ?? 0 }), hasTest || hasVal {
            shell.print("best on \(hasTest ? "test" : "val"): \(best.recipe.rawValue)")
        }

        // All the curves in one chart.
        let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
        let chart = LineChart(title: "\(baseName) on \(data.name): train accuracy per epoch", xTitle: "epoch", yTitle: "accuracy (fraction correct)",
                              series: outcomes.enumerated().map { i, o in
                                  .init(name: o.recipe.rawValue, colour: colours[i % colours.count], points: o.epochs.map { (Double($0.epoch), Double($0.accuracy)) })
                              }, integerX: true)
        if epochs > 1 { shell.print(chart.text(height: 8)) }
        try showPicture(shell, name: "compare", title: chart.title, svg: chart.svg(), png: { try chart.png() }, save: nil)
        var kept: [String] = []
        for o in outcomes {
            let name = shell.uniqueName("\(baseName)-\(o.recipe.rawValue)", in: Set(shell.models.keys))
            o.model.name = name
            shell.models[name] = o.model
            kept.append(name)
        }
        shell.print("kept as models: \(kept.joined(separator: ", ")) ('use NAME' to look at one); the current model is still \(baseName)")
    }

    /// The first `n` training samples of each class (validation and test as they are).
    static func perClass(_ data: Dataset, _ n: Int) -> Dataset {
        var seen = [Int](repeating: 0, count: max(data.classes, 1))
        var keep: [Int] = []
        for (index, label) in data.train.labels.enumerated() where label < seen.count && seen[label] < n {
            seen[label] += 1
            keep.append(index)
        }
        var subset = data
        subset.train = data.train.subset(keep)
        return subset
    }

    /// What each phase of a recipe would take (one phase; fine-tune's two), on a copy set up as `run` sets it up.
    static func estimate(_ recipe: Recipe, base: Model, data: Dataset, epochs: Int, lr: Float, batch: Int, seed: UInt64,
                         shell: Shell) throws -> [(trainable: Int, estimate: CostEstimate)] {
        let generator = Generator(seed: seed)
        let model = try ModelFiles.copy(base)
        _ = try model.replaceHead(classes: data.classes, classNames: data.classNames, generator: generator) { bytes throws(ModelError) in
            if let refusal = shell.memoryRefusal(bytes, for: "the new head") { throw .invalidArgument(what: "head", reason: refusal) }
        }
        let trainer = Trainer(model: model)
        var options = TrainingOptions()
        (options.learningRate, options.batchSize, options.optimizer, options.schedule, options.epochs) = (lr, recipe == .bnTrap ? 4 : batch, .adamDefaults, .oneCycle, epochs)
        let head = model.nodes.filter(\.isHead).map(\.name)
        try model.setTrainable(false, ["all"])
        try model.setTrainable(true, head)
        switch recipe {
        case .featureExtract:
            return [(model.trainableParameterCount, try trainer.estimate(data, options: options, generator: generator))]
        case .scratch:
            try model.setTrainable(true, ["all"], batchNormTrains: true)
            return [(model.trainableParameterCount, try trainer.estimate(data, options: options, generator: generator))]
        case .fineTune, .bnTrap:
            var phases: [(Int, CostEstimate)] = []
            if epochs > 1 {
                options.epochs = 1
                phases.append((model.trainableParameterCount, try trainer.estimate(data, options: options, generator: generator)))
                options.epochs = epochs - 1
            }
            try model.setTrainable(true, ["all"], batchNormTrains: recipe == .bnTrap)
            phases.append((model.trainableParameterCount, try trainer.estimate(data, options: options, generator: generator)))
            return phases
        }
    }

    static func run(_ recipe: Recipe, base: Model, data: Dataset, epochs: Int, lr: Float, batch: Int, seed: UInt64, shell: Shell) throws -> RecipeOutcome {
        let generator = Generator(seed: seed)
        let model = try ModelFiles.copy(base)
        _ = try model.replaceHead(classes: data.classes, classNames: data.classNames, generator: generator) { bytes throws(ModelError) in
            if let refusal = shell.memoryRefusal(bytes, for: "the new head") { throw .invalidArgument(what: "head", reason: refusal) }
        }
        let trainer = Trainer(model: model)
        try trainer.checkCompatible(data)
        var options = TrainingOptions()
        (options.learningRate, options.batchSize, options.optimizer, options.schedule) = (lr, batch, .adamDefaults, .oneCycle)
        let head = model.nodes.filter(\.isHead).map(\.name)
        var results: [TrainingResult] = []
        func fit() throws {
            let result = try trainer.fit(data, options: options, generator: generator, log: ShellTrainingLog(shell: shell), shouldStop: shell.interruptRequested)
            if result.stoppedAtStep != nil { throw ShellError("compare was interrupted in \(recipe.rawValue); nothing changed") }
            results.append(result)
        }
        switch recipe {
        case .featureExtract:
            try model.setTrainable(false, ["all"])
            try model.setTrainable(true, head)
            options.epochs = epochs
            try fit()
        case .scratch:
            try model.reinitialize(generator: generator)
            try model.setTrainable(true, ["all"], batchNormTrains: true)
            options.epochs = epochs
            try fit()
        case .fineTune, .bnTrap:
            if recipe == .bnTrap { options.batchSize = 4 }
            let fineTune = FineTuneRecipe(freezeEpochs: epochs > 1 ? 1 : 0, epochs: epochs > 1 ? epochs - 1 : 1, selectors: ["all"],
                                          batchNormTrains: recipe == .bnTrap, base: options, headRate: lr / 2, backboneRate: lr / 20)
            results = try fineTune.run(model, head: head, trainer: trainer, data: data, shell: shell, generator: generator).map(\.result)
        }
        var combined: [EpochRecord] = []
        for result in results { combined += result.epochs.map { $0.renumbered($0.epoch + combined.count) } }
        func evaluate(_ samples: Samples?) throws -> EvaluationResult? {
            guard let samples, samples.count > 0 else { return nil }
            return try Evaluation.evaluate(model, samples, normalization: model.normalization ?? data.normalization, classNames: data.classNames,
                                           log: ShellTrainingLog(shell: shell), shouldStop: shell.interruptRequested)
        }
        let outcome = RecipeOutcome(recipe: recipe, model: model, epochs: combined, seconds: results.reduce(0) { $0 + $1.seconds },
                                    cached: results.contains(where: \.usedCache), trainable: model.trainableParameterCount,
                                    validation: try evaluate(data.validation), test: try evaluate(data.test))
        shell.print("\(recipe.rawValue): " + (outcome.test.map { "test accuracy \(fixed($0.accuracy)), loss \(fixed($0.loss))" } ?? "trained"))
        return outcome
    }
}
