import Foundation
import GraftData
import GraftFormats
import GraftModels
import GraftTensor
import GraftTraining
import GraftNN

/// Silent training log for benchmarks (messages only with --verbose).
final class QuietLog: TrainingLog {
    let verbose: Bool
    init(verbose: Bool) { self.verbose = verbose }
    func record(_ event: TrainingEvent) {
        guard verbose else { return }
        switch event {
        case let .message(text): print("  " + text)
        case let .epoch(record, epochs): print("  " + ConsoleTrainingLog.line(record, epochs: epochs))
        case .batch, .progress: break
        }
    }
}

/// W3: training throughput of the MNIST CNN, batch 128, SGD with momentum, on the 5,000 digits.
func mnistThroughput(_ options: Options) throws {
    let data = try MNIST.load()
    let generator = Generator(seed: 3)
    let model = try Architecture.mnistCNN.build(classes: 10, generator: generator)
    var training = TrainingOptions()
    training.epochs = 1
    training.batchSize = 128
    training.learningRate = 0.01
    training.optimizer = .sgd(momentum: 0.9, nesterov: false)
    training.cache = .off
    let trainer = Trainer(model: model)
    let log = QuietLog(verbose: false)
    _ = try trainer.fit(data, options: training, generator: generator, log: log)  // warm-up
    var rates: [Double] = []
    for _ in 0..<max(3, options.repeats / 3) {
        let result = try trainer.fit(data, options: training, generator: generator, log: log)
        rates.append(result.imagesPerSecond)
    }
    print(String(format: "W3 mnist-cnn-train           median %8.0f images/s (min %.0f, max %.0f)", median(rates), rates.min() ?? 0, rates.max() ?? 0))
    print("RESULT W3 mnist-cnn-train images/s \(median(rates)) \(rates.min() ?? 0) \(rates.max() ?? 0)")
}

/// W8: the MNIST transfer recipe. Train the MNIST CNN on digits 0–4 for 5 epochs; freeze the two
/// convolutions; graft a new dense(5) head; train 5 epochs on 5–9; evaluate on the 5–9 test split.
/// Then few-shot: 50 training images per class of 5–9, transfer against the same network from scratch.
/// Writes the exact splits to Benchmarks/out/ so the PyTorch peer trains on the same images.
func transferRecipe(_ options: Options, verbose: Bool) throws {
    let seed: UInt64 = 42
    let generator = Generator(seed: seed)
    let low = try MNIST.load(digits: [0, 1, 2, 3, 4])
    let high = try MNIST.load(digits: [5, 6, 7, 8, 9])
    let fewShot = try MNIST.load(digits: [5, 6, 7, 8, 9], perClass: 50, generator: generator)
    try exportSplits(["low_train": low.train, "high_train": high.train, "high_test": high.test!, "few_train": fewShot.train])

    var recipe = TrainingOptions()
    recipe.epochs = 5
    recipe.batchSize = 64
    recipe.learningRate = 0.01
    recipe.optimizer = .sgd(momentum: 0.9, nesterov: false)
    let log = QuietLog(verbose: verbose)

    func test(_ model: Model) throws -> Float {
        try Evaluation.evaluate(model, high.test!, normalization: .unit, classNames: high.classNames).accuracy
    }
    func transfer(from source: Model, on data: Dataset) throws -> (Model, Double) {
        let start = Date()
        let copy = try cloneModel(source)
        try copy.setTrainable(false, ["conv1", "conv2"])
        try copy.replaceHead(classes: 5, classNames: data.classNames, generator: generator)
        _ = try Trainer(model: copy).fit(data, options: recipe, generator: generator, log: log)
        return (copy, Date().timeIntervalSince(start))
    }

    var start = Date()
    let base = try Architecture.mnistCNN.build(classes: 5, generator: generator)
    _ = try Trainer(model: base).fit(low, options: recipe, generator: generator, log: log)
    let baseSeconds = Date().timeIntervalSince(start)
    let baseAccuracy = try Evaluation.evaluate(base, low.test!, normalization: .unit, classNames: low.classNames).accuracy

    let (transferred, transferSeconds) = try transfer(from: base, on: high)
    let (fewTransferred, fewTransferSeconds) = try transfer(from: base, on: fewShot)
    start = Date()
    let scratch = try Architecture.mnistCNN.build(classes: 5, generator: generator)
    _ = try Trainer(model: scratch).fit(fewShot, options: recipe, generator: generator, log: log)
    let scratchSeconds = Date().timeIntervalSince(start)

    let rows: [(String, Float, Double)] = [
        ("base-0-4", baseAccuracy, baseSeconds),
        ("transfer-5-9", try test(transferred), transferSeconds),
        ("fewshot-transfer-5-9", try test(fewTransferred), fewTransferSeconds),
        ("fewshot-scratch-5-9", try test(scratch), scratchSeconds),
    ]
    for (name, accuracy, seconds) in rows {
        print(String(format: "W8 %-24@ test accuracy %.4f   %.2f s", name, accuracy, seconds))
        print("RESULT W8 \(name) accuracy \(accuracy) \(accuracy) \(accuracy)")
        print("RESULT W8 \(name) s \(seconds) \(seconds) \(seconds)")
    }
}

/// A deep copy of a model's weights into a fresh model of the same architecture (the recipe reuses one base twice).
func cloneModel(_ model: Model) throws -> Model {
    let copy = try Architecture.named(model.architecture).build(classes: model.outputShape[0], inputShape: model.inputShape,
                                                                 generator: Generator(seed: 0))
    for ((_, target), (_, source)) in zip(copy.parameters, model.parameters) { try target.assign(source.value, name: "clone") }
    for ((_, target), (_, source)) in zip(copy.buffers, model.buffers) {
        source.withUnsafeBufferPointer { s in target.withUnsafeMutableBufferPointer { d in for i in d.indices { d[i] = s[i] } } }
    }
    return copy
}

func exportSplits(_ splits: [String: Samples]) throws {
    let folder = URL(fileURLWithPath: "Benchmarks/out/mnist-splits")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (name, samples) in splits {
        let x = try samples.tensor()
        try writeAtomically(NumPyArray(shape: x.shape, values: x.scalars).encoded(), to: folder.appendingPathComponent("\(name)_x.npy"))
        try writeAtomically(NumPyArray(shape: [samples.count], integers: samples.labels).encoded(), to: folder.appendingPathComponent("\(name)_y.npy"))
    }
}
