import Foundation
import GraftModels
import GraftTensor
import GraftTraining
import GraftNN

// W9 and W10 read the files Benchmarks/peers/models.py makes (Benchmarks/compare.sh makes them once,
// into Benchmarks/out/models; --models DIR points elsewhere).

/// The models W10 runs; W9 loads the first in every format.
let benchmarkModels = ["resnet50", "mobilenet_v3_large", "convnext_tiny", "vit_b_16", "vit_small_patch16_224"]

/// The path of a benchmark model file, or nil (with a note) when it has not been made.
func benchmarkFile(_ options: Options, _ name: String, _ workload: String) -> String? {
    let path = (options.modelsDirectory as NSString).appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: path) else {
        print("\(workload): \(path) is missing (Benchmarks/compare.sh makes it with Benchmarks/peers/models.py)")
        return nil
    }
    return path
}

/// W9: loading ResNet-50 (torchvision, random weights) from `.pth`, `.safetensors`, `.onnx` and
/// `.keras`, and ViT-B/16 (torchvision, 330 MB) from the first three (ms), and the memory one load
/// adds in a fresh process (MB, and as a multiple of the model's tensors).
func modelLoading(_ options: Options) throws {
    for (name, format) in ["pth", "safetensors", "onnx", "keras"].map({ (benchmarkModels[0], $0) }) + ["pth", "safetensors", "onnx"].map({ ("vit_b_16", $0) }) {
        guard let path = benchmarkFile(options, "\(name).\(format)", "W9") else { continue }
        reportTime("W9", "\(name)-load-\(format)", seconds: try measure(repeats: options.repeats) { _ = try ModelFiles.load(path) })
        let (added, tensors) = try peakOfOneLoad(path)
        let mb = Double(added) / 1_048_576
        print(String(format: "W9 %@-load-%@ memory: %.1f MB added at the peak, %.2f× the model's %.1f MB of tensors",
                     name, format, mb, Double(added) / Double(max(tensors, 1)), Double(tensors) / 1_048_576))
        print("RESULT W9 \(name)-load-\(format)-memory MB \(mb) \(mb) \(mb)")
    }
}

/// W10: inference, batch 8 at 224×224, on each benchmark model loaded from its `.pth` (images/s).
func modelInference(_ options: Options) throws {
    let batch = try Tensor.randomUniform([8, 3, 224, 224], low: -1, high: 1, generator: Generator(seed: 4))
    for name in benchmarkModels {
        guard let path = benchmarkFile(options, "\(name).pth", "W10") else { continue }
        let model = try ModelFiles.load(path)
        let times = try measure(repeats: options.repeats) { _ = try model.predict(batch) }
        let rates = times.map { 8 / $0 }
        print(String(format: "W10 %-24@ median %8.1f images/s (min %.1f, max %.1f)", "\(name)-b8", median(rates), rates.min() ?? 0, rates.max() ?? 0))
        print("RESULT W10 \(name)-b8 images/s \(median(rates)) \(rates.min() ?? 0) \(rates.max() ?? 0)")
        try printProfile("W10", "\(name)-b8", model, batch)
    }
}

/// `PROFILE W CASE share label · …`: where graft's own pass spends its time, by kind of step (from
/// `Model.profile`, three passes), so that `report.py` names what holds back a missed target.
func printProfile(_ workload: String, _ name: String, _ model: Model, _ batch: Tensor) throws {
    let result = try model.profile(batch, repeats: 3)
    var shares: [String: Double] = [:]
    for row in result.rows {
        let layer = model.nodes[row.nodes[0]].layer
        var label = layer.kind
        if let conv = layer as? Conv2d {
            let depthwise = conv.groups > 1 && conv.groups == conv.inChannels
            label = "\(conv.kernel.0)×\(conv.kernel.1)\(depthwise ? " depthwise" : "") conv\(conv.stride.0 > 1 ? " stride \(conv.stride.0)" : "")"
            if row.nodes.count > 3 { label = "fused separable block" }
        }
        shares[label, default: 0] += row.seconds / Swift.max(result.passSeconds, 1e-12)
    }
    let top = shares.sorted { $0.value > $1.value }.prefix(4)
    print("PROFILE \(workload) \(name) " + top.map { String(format: "%.0f%% ", 100 * $0.value) + $0.key }.joined(separator: " · "))
}

/// Runs `graft-bench --peak-load PATH` in a fresh process: the bytes its memory grew by at the peak
/// of one load, and the bytes of the loaded model's parameters and buffers.
func peakOfOneLoad(_ path: String) throws -> (added: Int, tensors: Int) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    process.arguments = ["--peak-load", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let numbers = output.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    guard process.terminationStatus == 0, numbers.count == 2 else { throw BenchmarkError.failed("peak load of \(path): \(output)") }
    return (numbers[0], numbers[1])
}

/// The child side of `peakOfOneLoad`: prints "ADDED TENSORS" in bytes.
func printPeakOfLoad(_ path: String) throws {
    let before = processStatus("VmRSS")
    let model = try ModelFiles.load(path)
    let peak = processStatus("VmHWM")
    if ProcessInfo.processInfo.environment["GRAFT_BENCH_DEBUG"] != nil {
        FileHandle.standardError.write("before \(before >> 20) MB, peak \(peak >> 20), now anon \(processStatus("RssAnon") >> 20) file \(processStatus("RssFile") >> 20)\n".data(using: .utf8)!)
    }
    let tensors = model.parameters.reduce(0) { $0 + $1.parameter.count } + model.buffers.reduce(0) { $0 + $1.tensor.count }
    print("\(peak - before) \(tensors * MemoryLayout<Float>.size)")
}

/// A figure of /proc/self/status in bytes (VmRSS: resident now, VmHWM: the high-water mark).
func processStatus(_ field: String) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * 1024
    }
    return 0
}

enum BenchmarkError: Error { case failed(String) }

/// W6: one full fine-tuning step of ResNet-18 (torchvision's layout, 10 classes) on 3×64×64 inputs,
/// batch 32: forward in training mode (BatchNorm on batch statistics), cross-entropy, backward
/// through every layer, SGD with momentum 0.9 (ms per step).
func resnetTrainingStep(_ options: Options) throws {
    let generator = Generator(seed: 6)
    let model = try Architecture.named("resnet18").build(classes: 10, inputShape: [3, 64, 64], generator: generator)
    let x = try Tensor.randomUniform([32, 3, 64, 64], low: -1, high: 1, generator: generator)
    reportTime("W6", "resnet18-step-b32-64px", seconds: try trainingSteps(model, x, generator: generator, options))
}

/// W11: one fine-tuning step of a ViT-S/16 (timm's vit_small_patch16_224, 10 classes) at 224×224,
/// batch 32, the last four blocks, the final norm and the head trainable (the rest frozen, as
/// transformer fine-tuning recipes do): forward, cross-entropy, backward to the trainable blocks,
/// SGD with momentum 0.9 (ms per step).
func vitTrainingStep(_ options: Options) throws {
    let generator = Generator(seed: 11)
    let model = try Architecture.named("vit_small_patch16_224").build(classes: 10, generator: generator)
    try model.setTrainable(false, ["all"])
    try model.setTrainable(true, ["blocks.8-11", "norm", "head"])
    let x = try Tensor.randomUniform([32, 3, 224, 224], low: -1, high: 1, generator: generator)
    reportTime("W11", "vit_s16-step-b32-last4", seconds: try trainingSteps(model, x, generator: generator, options))
}

/// W6 and W11's step, timed: forward in training mode, cross-entropy on labels 0…9 in turn,
/// backward, SGD with momentum 0.9 over the trainable parameters.
func trainingSteps(_ model: Model, _ x: Tensor, generator: Generator, _ options: Options) throws -> [Double] {
    let labels = (0..<x.shape[0]).map { $0 % 10 }
    let optimizer = Optimizer(.sgd(momentum: 0.9, nesterov: false), parameters: model.trainableParameters.map(\.parameter))
    return try measure(repeats: options.repeats) {
        let logits = try model.forward(x, ForwardContext(training: true, generator: generator))
        try logits.crossEntropy(labels: labels).backward()
        optimizer.step(rate: 0.01)
        optimizer.zeroGrad()
    }
}

/// DW: depthwise convolutions of EfficientNet-Lite0's shapes at batch 8 (forward, inference), GFLOP/s.
func depthwiseShapes(_ options: Options) throws {
    let generator = Generator(seed: 7)
    for (channels, size, kernel, stride) in [(32, 112, 3, 1), (96, 112, 3, 2), (144, 56, 3, 1), (240, 28, 5, 1), (672, 14, 5, 2), (1152, 7, 3, 1)] {
        let x = try Tensor.randomUniform([8, channels, size, size], low: -1, high: 1, generator: generator)
        let w = try Tensor.randomNormal([channels, 1, kernel, kernel], std: 0.1, generator: generator)
        let pad = Padding2D(kernel / 2, kernel / 2)
        let out = (size + 2 * (kernel / 2) - kernel) / stride + 1
        let times = try measure(repeats: options.repeats) { _ = try withoutGradients { try x.conv2d(w, stride: (stride, stride), padding: pad, groups: channels) } }
        report("DW", "c\(channels)-\(size)px-k\(kernel)-s\(stride)", seconds: times, flops: 2.0 * 8 * Double(channels * out * out * kernel * kernel))
    }
}

/// K: the inference layers of W4 and W10's CNNs that Benchmarks/peers/kernels.c times with oneDNN and
/// XNNPACK (issue 28's measured choice), the same rows with graft's kernels: depthwise 3×3, 5×5 and
/// 7×7 at stride 1 and 2, pointwise projections and a 3×3 convolution, batch 8, forward (ms); the depthwise and
/// pointwise rows again through the channels-last kernels (`-nhwc`), as a model's chains run them.
func kernelLayers(_ options: Options) throws {
    let generator = Generator(seed: 8)
    let layers: [(name: String, c: Int, h: Int, o: Int, k: Int, stride: Int, groups: Int)] = [
        ("dw3x3-s1-96x56", 96, 56, 96, 3, 1, 96), ("dw3x3-s2-96x112", 96, 112, 96, 3, 2, 96),
        ("dw5x5-s1-240x28", 240, 28, 240, 5, 1, 240), ("dw5x5-s2-144x56", 144, 56, 144, 5, 2, 144),
        ("dw7x7-s1-96x56", 96, 56, 96, 7, 1, 96), ("pw-144to24-56", 144, 56, 24, 1, 1, 1),
        ("pw-24to144-56", 24, 56, 144, 1, 1, 1), ("conv3x3-64-56", 64, 56, 64, 3, 1, 1),
    ]
    for l in layers where options.only.map(l.name.contains) ?? true {
        let x = try Tensor.randomUniform([8, l.c, l.h, l.h], low: -1, high: 1, generator: generator)
        let w = try Tensor.randomNormal([l.o, l.c / l.groups, l.k, l.k], std: 0.1, generator: generator)
        let out = (l.h + 2 * (l.k / 2) - l.k) / l.stride + 1
        let times = try measure(repeats: options.repeats) {
            _ = try withoutGradients { try x.conv2d(w, stride: (l.stride, l.stride), padding: Padding2D(l.k / 2, l.k / 2), groups: l.groups) }
        }
        let flops = 2.0 * 8 * Double(l.o * out * out * (l.c / l.groups) * l.k * l.k)
        report("K", l.name, seconds: times, flops: flops)
        // The channels-last kernels a model's chains run (the input already channels-last, as the
        // libraries' rows have theirs in their own layout).
        let padding = Padding2D(l.k / 2, l.k / 2)
        guard Tensor.runsChannelsLast(inChannels: l.c, weight: w.shape, stride: (l.stride, l.stride), padding: padding, dilation: (1, 1), groups: l.groups)
        else { continue }
        let last = try x.channelsLast()
        let chained = try measure(repeats: options.repeats) {
            _ = try withoutGradients { try last.conv2dChannelsLast(w, stride: (l.stride, l.stride), padding: padding, groups: l.groups) }
        }
        report("K", "\(l.name)-nhwc", seconds: chained, flops: flops)
    }
}
