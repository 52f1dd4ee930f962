import Foundation
import GraftData
import GraftModels
import GraftTensor

/// W4: EfficientNet-Lite0 inference on 224×224 images, batch 8 (images/s), from the shipped checkpoint.
func efficientNetInference(_ options: Options) throws {
    let model = try ModelFiles.load(try ExampleFiles.locate("models/efficientnet-lite0.pth"))
    let batch = try Tensor.randomUniform([8, 3, 224, 224], low: -1, high: 1, generator: Generator(seed: 4))
    let times = try measure(repeats: options.repeats) { _ = try model.predict(batch) }
    let rates = times.map { 8 / $0 }
    print(String(format: "W4 efficientnet-lite0-b8      median %8.1f images/s (min %.1f, max %.1f)", median(rates), rates.min() ?? 0, rates.max() ?? 0))
    print("RESULT W4 efficientnet-lite0-b8 images/s \(median(rates)) \(rates.min() ?? 0) \(rates.max() ?? 0)")
}
