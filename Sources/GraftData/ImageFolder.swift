import Dispatch
import Foundation
import GraftTensor

/// Image datasets in the usual folder conventions:
/// `root/<class>/*.png|jpg|jpeg`, or `root/train/<class>/…` with `root/val|validation/<class>/…`
/// and/or `root/test/<class>/…`.
///
/// Every image is decoded (in parallel), converted to the wanted channel count, resized so its
/// shorter side is `size` and center-cropped to `size × size`, then kept in memory as bytes.
/// Unreadable images are skipped and reported, never fatal.
public enum ImageFolder {
    static let extensions: Set<String> = ["png", "jpg", "jpeg"]
    /// The seed of the fixed held-out split (`split=F`), so a folder's test set is the same in every session.
    static let splitSeed: UInt64 = 0x464F_4C44  // "FOLD"

    /// With `width`, every image is resized to exactly `size × width` instead (torchvision's
    /// `Resize((h, w))`), for models with non-square inputs.
    public static func load(_ root: String, size: Int = 224, width: Int? = nil, channels: Int = 3, testFraction: Double? = nil,
                            name: String? = nil, reserve: (_ images: Int, _ bytes: Int) throws(DataError) -> Void = { _, _ in }) throws(DataError) -> Dataset {
        guard (1...4096).contains(size), (1...4096).contains(width ?? size) else {
            throw .invalidArgument(what: "size", reason: "must be 1–4096, got \(width.map { "\(size)×\($0)" } ?? "\(size)")")
        }
        let height = size, sampleWidth = width ?? size
        guard [1, 3].contains(channels) else { throw .invalidArgument(what: "channels", reason: "must be 1 or 3, got \(channels)") }
        let rootURL = URL(fileURLWithPath: root)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue else {
            throw .unreadable(path: root, reason: "no such folder")
        }
        let top = subfolders(of: rootURL)
        let splitNames = ["train", "val", "validation", "test"]
        let bySplitFolders = top.contains("train")
        let trainRoot = bySplitFolders ? rootURL.appendingPathComponent("train") : rootURL
        let classNames = subfolders(of: trainRoot)
        guard !classNames.isEmpty else {
            throw .empty(path: trainRoot.path, reason: "no class folders (expected \(trainRoot.lastPathComponent)/<class>/*.png|jpg)")
        }
        if !bySplitFolders, let stray = top.first(where: { splitNames.contains($0) }) {
            throw .empty(path: root, reason: "has a '\(stray)' folder but no 'train' folder")
        }
        var skipped: [String] = []
        func list(_ folder: URL, required: Bool) throws(DataError) -> [(String, Int)] {
            var files: [(String, Int)] = []
            for (label, className) in classNames.enumerated() {
                let classFolder = folder.appendingPathComponent(className)
                let images = imageFiles(in: classFolder)
                if images.isEmpty && required {
                    throw .empty(path: classFolder.path, reason: "class '\(className)' has no images")
                }
                files += images.map { ($0, label) }
            }
            return files
        }
        func decode(_ files: [(String, Int)], in folder: URL, required: Bool) throws(DataError) -> Samples {
            let decoded = decodeAll(files.map(\.0), size: size, width: width, channels: channels)
            var bytes: [UInt8] = [], labels: [Int] = [], sources: [String] = []
            bytes.reserveCapacity(files.count * channels * height * sampleWidth)
            for ((path, label), result) in zip(files, decoded) {
                let relative = path.hasPrefix(root) ? String(path.dropFirst(root.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/")) : path
                switch result {
                case let .success(pixels):
                    bytes += pixels
                    labels.append(label)
                    sources.append(relative)
                case let .failure(error):
                    skipped.append("skipped \(relative): \(error.reason)")
                }
            }
            if required, let empty = Samples(sampleShape: [channels, height, sampleWidth], labels: labels, bytes: bytes)
                .classCounts(classes: classNames.count).firstIndex(of: 0) {
                // Say which files were skipped and why (a 30000×30000 PNG is refused by size, not silently).
                let why = skipped.filter { $0.hasPrefix("skipped \(classNames[empty])/") || $0.contains("/\(classNames[empty])/") }.prefix(3).map { $0.replacingOccurrences(of: "skipped ", with: "") }
                throw .empty(path: folder.appendingPathComponent(classNames[empty]).path,
                             reason: "class '\(classNames[empty])' has no readable images" + (why.isEmpty ? "" : " (skipped " + why.joined(separator: "; ") + ")"))
            }
            return Samples(sampleShape: [channels, height, sampleWidth], labels: labels, bytes: bytes).named(sources)
        }
        // Every split is listed before any image is decoded, to say what they will take: their
        // pixels at the target size, twice (decoded, then gathered into one buffer).
        let valRoot = bySplitFolders ? ["val", "validation"].first(where: top.contains).map { rootURL.appendingPathComponent($0) } : nil
        let testRoot = bySplitFolders && top.contains("test") ? rootURL.appendingPathComponent("test") : nil
        let trainFiles = try list(trainRoot, required: true)
        let valFiles = try valRoot.map { (folder) throws(DataError) in try list(folder, required: false) }
        let testFiles = try testRoot.map { (folder) throws(DataError) in try list(folder, required: false) }
        let images = trainFiles.count + (valFiles?.count ?? 0) + (testFiles?.count ?? 0)
        let (pixels, overflow) = images.multipliedReportingOverflow(by: 2 * channels * height * sampleWidth)
        try reserve(images, overflow ? .max : pixels)
        var train = try decode(trainFiles, in: trainRoot, required: true)
        var validation: Samples? = nil, test: Samples? = nil
        if let valRoot, let valFiles { validation = try decode(valFiles, in: valRoot, required: false) }
        if let testRoot, let testFiles { test = try decode(testFiles, in: testRoot, required: false) }
        if let testFraction {
            guard test == nil else { throw .invalidArgument(what: "split", reason: "\(root) already has a test folder") }
            (train, test) = try train.stratifiedSplit(fraction: testFraction, classes: classNames.count, generator: Generator(seed: splitSeed))
        }
        var data = Dataset(name: name ?? rootURL.lastPathComponent, classNames: classNames, train: train, validation: validation,
                           test: test, skipped: skipped)
        data.imageTransform = .folder(channels: channels, height: height, width: width)
        return data
    }

    /// Visible subfolders, sorted.
    public static func subfolders(of folder: URL) -> [String] {
        let items = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.isDirectoryKey],
                                                                   options: [.skipsHiddenFiles])) ?? []
        return items.filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
            .map(\.lastPathComponent).sorted()
    }

    /// Image files (by extension) directly in `folder`, sorted by name.
    public static func imageFiles(in folder: URL) -> [String] {
        let items = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil,
                                                                   options: [.skipsHiddenFiles])) ?? []
        return items.filter { extensions.contains($0.pathExtension.lowercased()) }.map(\.path).sorted()
    }

    struct Failure: Error { let reason: String }

    /// Decodes and prepares every file, in parallel across the engine's threads; results in input order.
    static func decodeAll(_ paths: [String], size: Int, width: Int?, channels: Int) -> [Result<[UInt8], Failure>] {
        let results = UnsafeMutableBufferPointer<Result<[UInt8], Failure>>.allocate(capacity: paths.count)
        results.initialize(repeating: .failure(Failure(reason: "not decoded")))
        // Deinitialized before it is freed: the decoded pixels it holds are released (freeing it
        // alone leaked every image a `data images` decoded — AddressSanitizer's leak check found it).
        defer {
            _ = results.deinitialize()
            results.deallocate()
        }
        nonisolated(unsafe) let slots = results
        let work: @Sendable (Int) -> Void = { index in
            do throws(DataError) {
                var transform = ImageTransform.folder(channels: channels, height: size, width: width)
                transform.eightBit = false  // rounded here, once
                let image = try transform.apply(try Image.load(paths[index]))
                slots[index] = .success(image.pixels.map(ImageTransform.byte))
            } catch {
                if case let .unreadable(_, why) = error {
                    slots[index] = .failure(Failure(reason: why))
                } else {
                    slots[index] = .failure(Failure(reason: error.description))
                }
            }
        }
        if Threads.count > 1 && paths.count > 1 {
            DispatchQueue.concurrentPerform(iterations: paths.count, execute: work)
        } else {
            for index in paths.indices { work(index) }
        }
        return Array(results)
    }
}
