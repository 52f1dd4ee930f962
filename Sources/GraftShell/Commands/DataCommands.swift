import Foundation
import GraftData
import GraftNN
import GraftTensor
import GraftModels

extension CommandTable {
    static let data: [CommandSpec] = [
        CommandSpec(["data", "mnist"], options: [
            .init("digits", .text, default: "0-9", "digits to keep: 0-4, 5-9, 1,3,7"),
            .init("per-class", .int(1...400), "training images per class, drawn with the session's seed (few-shot)"),
            .init("size", .size(8...1024), default: "28", "resize the digits to SIZE×SIZE, or to H×W"),
            .init("channels", .int(1...3), default: "1", "1, or 3 to repeat the gray channel (for RGB models)"),
        ], takesName: true, summary: "The bundled MNIST subset (5,000 real digits) with its fixed, stratified 80/20 train/test split.",
           example: "data mnist digits=5-9 per-class=50 as few", recording: .stateChange) { shell, command in
            let digits = try MNIST.parseDigits(command.string("digits") ?? "0-9")
            var data = try MNIST.load(digits: digits, perClass: command.int("per-class"), generator: shell.generator)
            let size = command.size("size") ?? (28, 28), channels = command.int("channels") ?? 1
            guard channels != 2 else { throw command.error("channels must be 1 or 3", at: "channels") }
            if size != (28, 28) || channels != 1 {
                let samples = data.train.count + (data.validation?.count ?? 0) + (data.test?.count ?? 0)
                try shell.reserve(samples * channels * size.height * size.width, for: "data mnist at \(size.height)×\(size.width)×\(channels)")
                data = try data.resized(height: size.height, width: size.width, channels: channels)
            }
            shell.store(dataset: data, as: command.name ?? "mnist")
            printLoaded(shell, shell.datasets[shell.currentDataset ?? ""] ?? data)
        },
        CommandSpec(["data", "images"], arguments: [.init("dir", .path)], options: [
            .init("size", .size(8...1024), default: "224", "shorter side resized to SIZE, then the central SIZE×SIZE crop; HxW resizes to exactly H×W"),
            .init("channels", .int(1...3), default: "3", "1 (gray) or 3 (RGB)"),
            .init("split", .float(0.05...0.95), "hold out this fraction as the test split (when there is no test folder)"),
        ], takesName: true, summary: "An image folder: DIR/<class>/*.png|jpg, or DIR/train|val|test/<class>/…; unreadable files are skipped and listed.",
           example: "data images ~/photos size=224 split=0.2 as pets", recording: .stateChange) { shell, command in
            let directory = shell.resolve(command.argument("dir") ?? "")
            if let hint = shell.nearbyName(command.argument("dir") ?? "") { throw ShellError("cannot read \(command.argument("dir") ?? ""): no such folder" + hint) }
            let channels = command.int("channels") ?? 3
            guard channels != 2 else { throw command.error("channels must be 1 or 3", at: "channels") }
            let size = command.size("size")
            let square = size.map { $0.height == $0.width } ?? true
            let data = try ImageFolder.load(directory, size: size?.height ?? 224, width: square ? nil : size?.width, channels: channels,
                                            testFraction: command.float("split")) { images, bytes throws(DataError) in
                let shape = "\(channels)×\(size?.height ?? 224)×\(size?.width ?? 224)"
                if let refusal = shell.memoryRefusal(bytes, for: "its \(grouped(images)) images at \(shape)") { throw .invalidArgument(what: "data images", reason: refusal) }
            }
            for line in data.skipped.prefix(20) { shell.print(line) }
            if data.skipped.count > 20 { shell.print("… and \(data.skipped.count - 20) more skipped") }
            shell.store(dataset: data, as: command.name ?? Shell.name(fromFile: URL(fileURLWithPath: directory).lastPathComponent))
            printLoaded(shell, data)
        },
        CommandSpec(["data", "csv"], arguments: [.init("path", .path)], options: [
            .init("label", .int(-10_000...10_000), default: "-1", "the label column (negative counts from the end)"),
            .init("split", .float(0.05...0.95), "hold out this fraction as the test split"),
        ], takesName: true, summary: "A CSV table of numbers with a label column (names or integers); a non-numeric first row is a header.",
           example: "data csv iris.csv label=-1 split=0.2", recording: .stateChange) { shell, command in
            var data = try Tabular.loadCSV(shell.resolve(command.argument("path") ?? ""), labelColumn: command.int("label") ?? -1)
            if let fraction = command.float("split") { data = try data.heldOut(fraction: fraction) }
            shell.store(dataset: data, as: command.name ?? Shell.name(fromFile: data.name))
            printLoaded(shell, data)
        },
        CommandSpec(["data", "npy"], arguments: [.init("features", .path), .init("labels", .path)], options: [
            .init("split", .float(0.05...0.95), "hold out this fraction as the test split"),
        ], takesName: true, summary: "Features [N, …] and integer labels [N] from two NumPy .npy files (images as N×C×H×W in [0, 1]).",
           example: "data npy x.npy y.npy split=0.2 as arrays", recording: .stateChange) { shell, command in
            var data = try Tabular.loadArrays(features: shell.resolve(command.argument("features") ?? ""),
                                              labels: shell.resolve(command.argument("labels") ?? ""))
            if let fraction = command.float("split") { data = try data.heldOut(fraction: fraction) }
            shell.store(dataset: data, as: command.name ?? Shell.name(fromFile: data.name))
            printLoaded(shell, data)
        },
        CommandSpec(["data", "info"], arguments: [.init("name", .dataset, required: false)],
                    summary: "A dataset's shape, splits, per-class counts, normalization and memory.",
                    example: "data info mnist", recording: .never) { shell, command in
            let data = try shell.dataset(command.argument("name"))
            shell.print(data.summary)
            // What training and scoring really apply: the model's own normalization wins over the data's.
            if let model = try? shell.model(), let own = model.normalization, own != data.normalization {
                shell.print("  the current model \(shell.currentModel ?? model.name) normalizes its inputs with \(own) (its own, used when training and scoring it on \(data.name))")
            }
            if let transform = data.imageTransform { shell.print("  images: \(transform.description)") }
        },
    ]

    static func printLoaded(_ shell: Shell, _ data: Dataset) {
        let splits = [("train", Optional(data.train)), ("val", data.validation), ("test", data.test)].compactMap { name, samples in samples.map { "\(name) \($0.count)" } }
        shell.print("\(shell.currentDataset ?? data.name): \(data.classes) classes (\(listed(data.classNames, limit: 10))), samples \(data.sampleShape.map(String.init).joined(separator: "×")), \(splits.joined(separator: ", "))"
            + String(format: ", %.1f MB", Double(data.memoryBytes) / 1_048_576)
            + (data.skipped.isEmpty ? "" : ", \(data.skipped.count) file\(data.skipped.count == 1 ? "" : "s") skipped"))
        // A class too small to learn from or to score on is worth a word before anyone trains on it.
        let train = data.train.classCounts(classes: data.classes), test = data.test?.classCounts(classes: data.classes)
        for (c, name) in data.classNames.enumerated() where train[c] < 2 || test?[c] == 0 {
            shell.print("warning: class \(Terminal.visible(name)) has \(train[c]) training image\(train[c] == 1 ? "" : "s")" + (test.map { ", \($0[c]) test" } ?? "")
                        + (train[c] < 2 ? ": too few to learn it" : ": it is never scored"))
        }
    }
}

extension Dataset {
    /// Every split resized to height×width with `channels` channels (gray repeated for RGB models).
    func resized(height: Int, width: Int, channels: Int) throws -> Dataset {
        func convert(_ samples: Samples) throws -> Samples {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(samples.count * channels * height * width)
            for index in 0..<samples.count {
                var image = try Image(channels: samples.sampleShape[0], height: samples.sampleShape[1], width: samples.sampleShape[2],
                                      pixels: samples.tensor(index: index)).converted(toChannels: channels)
                image = try image.resized(height: height, width: width)
                bytes += image.pixels.map(ImageTransform.byte)
            }
            let resized = Samples(sampleShape: [channels, height, width], labels: samples.labels, bytes: bytes)
            return samples.sources.map(resized.named) ?? resized
        }
        var copy = self
        copy.train = try convert(train)
        copy.validation = try validation.map(convert)
        copy.test = try test.map(convert)
        copy.imageTransform = imageTransform.map { _ in ImageTransform(channels: channels, height: height, width: width, resize: nil, eightBit: true) }
        return copy
    }

    /// A stratified test split held out with a fixed seed (the same test set in every session).
    func heldOut(fraction: Double) throws -> Dataset {
        guard test == nil else { throw ShellError("\(name) already has a test split") }
        var copy = self
        (copy.train, copy.test) = try train.stratifiedSplit(fraction: fraction, classes: classes, generator: Generator(seed: 0x5445_5354))
        return copy
    }
}

extension Samples {
    /// One sample's values in [0, 1].
    func tensor(index: Int) -> [Float] {
        let size = sampleSize
        var values = [Float](repeating: 0, count: size)
        values.withUnsafeMutableBufferPointer { if let base = $0.baseAddress { write(index, into: base) } }
        return values
    }
}
