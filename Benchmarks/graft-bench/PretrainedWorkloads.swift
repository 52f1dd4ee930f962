import Foundation
import GraftData
import GraftModels
import GraftTensor
import GraftTraining

/// W4: loading the shipped EfficientNet-Lite0 checkpoint (18 MB .pth, ms), then inference on
/// 224×224 images, batch 8 (images/s).
func efficientNetInference(_ options: Options) throws {
    let path = try ExampleFiles.locate("models/efficientnet-lite0.pth")
    reportTime("W4", "efficientnet-lite0-load", seconds: try measure(repeats: options.repeats) { _ = try ModelFiles.load(path) })
    let model = try ModelFiles.load(path)
    let batch = try Tensor.randomUniform([8, 3, 224, 224], low: -1, high: 1, generator: Generator(seed: 4))
    let times = try measure(repeats: options.repeats) { _ = try model.predict(batch) }
    let rates = times.map { 8 / $0 }
    print(String(format: "W4 efficientnet-lite0-b8      median %8.1f images/s (min %.1f, max %.1f)", median(rates), rates.min() ?? 0, rates.max() ?? 0))
    print("RESULT W4 efficientnet-lite0-b8 images/s \(median(rates)) \(rates.min() ?? 0) \(rates.max() ?? 0)")
    try printProfile("W4", "efficientnet-lite0-b8", model, batch)
}

/// W5: EfficientNet-Lite0 with its backbone frozen and a new Dense(10), 512 random 224×224 images,
/// 5 epochs, batch 32: wall seconds (graft caches the frozen backbone's features by itself).
func frozenBackbone(_ options: Options) throws {
    let generator = Generator(seed: 5)
    let model = try ModelFiles.load(try ExampleFiles.locate("models/efficientnet-lite0.pth"))
    try model.setTrainable(false, ["all"])
    try model.replaceHead(classes: 10, generator: generator)
    var pixels = [UInt8](repeating: 0, count: 512 * 3 * 224 * 224)
    for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: generator.next()) }
    let samples = Samples(sampleShape: [3, 224, 224], labels: (0..<512).map { $0 % 10 }, bytes: pixels)
    let data = Dataset(name: "random", classNames: (0..<10).map(String.init), train: samples)
    var training = TrainingOptions()
    training.epochs = 5
    training.batchSize = 32
    // The dry run's estimate first (issue 12: within 30 % of the run it predicts).
    let trainer = Trainer(model: model)
    let estimate = try trainer.estimate(data, options: training, generator: generator)
    let start = Date()
    let result = try trainer.fit(data, options: training, generator: generator, log: QuietLog(verbose: options.verbose))
    let seconds = Date().timeIntervalSince(start)
    print(String(format: "W5 frozen-backbone            %.2f s (features cached: %@)", seconds, result.usedCache ? "yes" : "no"))
    print(String(format: "W5 dry-run estimate           %.2f s (cache %.2f s + training %.2f s): %.2f of the measured run", estimate.totalSeconds,
                 estimate.cacheSeconds, estimate.totalSeconds - estimate.cacheSeconds, estimate.totalSeconds / seconds))
    print("RESULT W5 frozen-backbone s \(seconds) \(seconds) \(seconds)")
}
