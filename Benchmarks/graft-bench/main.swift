import Foundation
import GraftData
import GraftTensor

// graft-bench: the engine's benchmark workloads (DESIGN.md, "Benchmarks"). Build in release:
//     swift build -c release --product graft-bench && .build/release/graft-bench W1 W2
// Each measurement prints a human line and a machine line for Benchmarks/compare.sh:
//     RESULT <workload> <case> <unit> <median> <min> <max>
// Options: --repeats N, --threads N, --verbose, --models DIR (W9, W10's files), --blas-core (print
// OpenBLAS's kernel set, after graft's own choice where OpenBLAS fell back to generic kernels).
// --numerics portable|native (graft's own GEMM, the default, or OpenBLAS's kernels for this CPU).
// --precision float32|bf16 (bf16: bfloat16 products, CPUs with AVX-512 BF16 only); --bf16-available
// (prints yes or no). --only TEXT: K's layers whose name contains TEXT (to profile one layer).

struct Options {
    var workloads: [String] = []
    var repeats = 10
    var threads = 2
    var verbose = false
    var modelsDirectory = "Benchmarks/out/models"
    var peakLoad: String?
    var numerics = Numerics.portable
    var precision = Precision.float32
    var only: String?

    init(_ arguments: [String]) {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--repeats": repeats = rest.popFirst().flatMap(Int.init) ?? repeats
            case "--threads": threads = rest.popFirst().flatMap(Int.init) ?? threads
            case "--verbose": verbose = true
            case "--models": modelsDirectory = rest.popFirst() ?? modelsDirectory
            case "--peak-load": peakLoad = rest.popFirst()
            case "--blas-core": print(EngineInfo.blasCoreName); exit(0)
            case "--numerics": numerics = rest.popFirst().flatMap(Numerics.init(rawValue:)) ?? numerics
            case "--precision": precision = rest.popFirst().flatMap(Precision.init(rawValue:)) ?? precision
            case "--only": only = rest.popFirst()
            case "--bf16-available": print(Precision.available ? "yes" : "no"); exit(0)
            default: workloads.append(argument.uppercased())
            }
        }
        if workloads.isEmpty { workloads = ["W1", "W2", "DATA"] }
    }
}

/// Wall-clock seconds of each of `repeats` runs of `body`, after one warm-up run.
func measure(repeats: Int, _ body: () throws -> Void) rethrows -> [Double] {
    try body()
    return try (0..<repeats).map { _ in
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Prints seconds as the requested unit: "ms" (time) or "GFLOP/s" (given the work in FLOPs).
func report(_ workload: String, _ name: String, seconds: [Double], flops: Double) {
    let ms = seconds.map { $0 * 1e3 }
    let rates = seconds.map { flops / $0 / 1e9 }
    print(String(format: "%@ %-24@ median %8.2f ms (min %.2f, max %.2f)   %7.1f GFLOP/s (min %.1f, max %.1f)",
                 workload, name, median(ms), ms.min() ?? 0, ms.max() ?? 0, median(rates), rates.min() ?? 0, rates.max() ?? 0))
    print("RESULT \(workload) \(name) ms \(median(ms)) \(ms.min() ?? 0) \(ms.max() ?? 0)")
    print("RESULT \(workload) \(name) GFLOP/s \(median(rates)) \(rates.min() ?? 0) \(rates.max() ?? 0)")
}

/// W1: square GEMM through `Tensor.matmul` (output allocated from the pool, as in real use).
func gemm(_ options: Options) throws {
    let generator = Generator(seed: 1)
    for n in [512, 1024, 2048] {
        let a = try Tensor.randomUniform([n, n], generator: generator)
        let b = try Tensor.randomUniform([n, n], generator: generator)
        let times = try measure(repeats: options.repeats) { _ = try a.matmul(b) }
        report("W1", "gemm-n\(n)", seconds: times, flops: 2 * pow(Double(n), 3))
    }
}

/// W2: Conv2d 64→64, 3×3, padding 1, on [32, 64, 56, 56], no bias; forward, and forward + backward
/// (gradients of input and weight, as a training step of a middle layer needs).
func convolution(_ options: Options) throws {
    let generator = Generator(seed: 2)
    let x = try Tensor.randomUniform([32, 64, 56, 56], low: -1, high: 1, generator: generator)
    let w = try Tensor.randomNormal([64, 64, 3, 3], std: 0.05, generator: generator)
    let upstream = try Tensor.randomUniform([32, 64, 56, 56], low: -1, high: 1, generator: generator)
    let flops = 2.0 * 32 * 64 * 64 * 9 * 56 * 56
    let forward = try measure(repeats: options.repeats) {
        _ = try withoutGradients { try x.conv2d(w, padding: Padding2D(1, 1)) }
    }
    report("W2", "conv-forward", seconds: forward, flops: flops)
    let (xg, wg) = (x.requiringGrad(), w.requiringGrad())
    let training = try measure(repeats: options.repeats) {
        let y = try xg.conv2d(wg, padding: Padding2D(1, 1))
        try y.backward(seed: upstream)
        xg.zeroGrad()
        wg.zeroGrad()
    }
    report("W2", "conv-forward-backward", seconds: training, flops: 3 * flops)
}

/// DATA: loading the bundled MNIST subset (gunzip + parse + fixed split), and a folder of 1,000
/// photos (the four example photos, 250 links each, in four classes) decoded and resized to 224×224.
func dataLoading(_ options: Options) throws {
    let repeats = max(1, options.repeats / 2)
    let mnist = try measure(repeats: repeats) { _ = try MNIST.load() }
    reportTime("DATA", "mnist-5k-load", seconds: mnist)

    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-bench-folder-\(getpid())")
    defer { try? FileManager.default.removeItem(at: folder) }
    let photos = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"]
    for (index, photo) in photos.enumerated() {
        let source = try ExampleFiles.locate("images/\(photo)")
        let classFolder = folder.appendingPathComponent("class\(index)")
        try FileManager.default.createDirectory(at: classFolder, withIntermediateDirectories: true)
        for copy in 0..<250 {
            let ext = (photo as NSString).pathExtension
            try FileManager.default.createSymbolicLink(atPath: classFolder.appendingPathComponent("\(copy).\(ext)").path,
                                                       withDestinationPath: source)
        }
    }
    var loaded: Dataset?
    let folderTimes = try measure(repeats: repeats) { loaded = try ImageFolder.load(folder.path, size: 224, channels: 3) }
    reportTime("DATA", "folder-1000-photos-224", seconds: folderTimes)
    if let loaded {
        print(String(format: "DATA folder: %d images kept in memory, %.1f MB", loaded.train.count, Double(loaded.memoryBytes) / 1_048_576))
    }
}

func reportTime(_ workload: String, _ name: String, seconds: [Double]) {
    let ms = seconds.map { $0 * 1e3 }
    print(String(format: "%@ %-24@ median %8.1f ms (min %.1f, max %.1f)", workload, name, median(ms), ms.min() ?? 0, ms.max() ?? 0))
    print("RESULT \(workload) \(name) ms \(median(ms)) \(ms.min() ?? 0) \(ms.max() ?? 0)")
}

BLASCore.relaunchIfNeeded()
let options = Options(Array(CommandLine.arguments.dropFirst()))
do {
    try Threads.set(options.threads)
    Numerics.current = options.numerics
    try Precision.set(options.precision)
    if let path = options.peakLoad {
        try printPeakOfLoad(path)
        exit(0)
    }
    print("graft-bench: numerics \(Numerics.label)\(Numerics.wideKernels ? ", AVX-512" : ""), precision \(Precision.current.rawValue), \(options.threads) threads, \(options.repeats) repeats after one warm-up, median (min, max)")
    for workload in options.workloads {
        switch workload {
        case "W1": try gemm(options)
        case "W2": try convolution(options)
        case "DATA": try dataLoading(options)
        case "W3": try mnistThroughput(options)
        case "W8": try transferRecipe(options, verbose: options.verbose)
        case "W7": try startup(options)
        case "W4": try efficientNetInference(options)
        case "W5": try frozenBackbone(options)
        case "W6": try resnetTrainingStep(options)
        case "DW": try depthwiseShapes(options)
        case "K": try kernelLayers(options)
        case "W9": try modelLoading(options)
        case "W10": try modelInference(options)
        case "W11": try vitTrainingStep(options)
        default: print("graft-bench: unknown workload \(workload) (known: W1, W2, W3, W4, W5, W6, W7, W8, W9, W10, W11, DATA, DW, K)")
        }
    }
} catch {
    print("graft-bench: error: \(error)")
    exit(1)
}
