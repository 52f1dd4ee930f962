import Foundation
import GraftData
import GraftFormats
import GraftNN
import GraftTensor

/// Reading and writing model files, choosing the format by content (magic bytes) and extension.
public enum ModelFiles {
    /// Metadata keys of graft's safetensors files.
    static let formatKey = "graft.format", graphKey = "graft.graph", formatVersion = "graft-model-1"

    /// Saves weights, buffers and the graph description (structure, class names, trainable flags,
    /// preprocessing) as safetensors, atomically. Returns the bytes written.
    /// `optimizer` and `checkpoint` travel in the same file (safetensors only): `save model
    /// optimizer=yes` and training checkpoints.
    @discardableResult
    public static func save(_ model: Model, to path: String, optimizer: SavedOptimizer? = nil, checkpoint: Checkpoint? = nil) throws -> Int {
        let data = try encoded(model, for: path, optimizer: optimizer, checkpoint: checkpoint)
        try writeAtomically(data, to: URL(fileURLWithPath: path))
        return data.count
    }

    /// The bytes ``save(_:to:optimizer:checkpoint:)`` writes to `path` (its extension picks the format).
    public static func encoded(_ model: Model, for path: String, optimizer: SavedOptimizer? = nil, checkpoint: Checkpoint? = nil) throws -> Data {
        if path.lowercased().hasSuffix(".onnx") {
            if optimizer != nil || checkpoint != nil {
                throw ModelError.invalidArgument(what: "save model", reason: "an ONNX file cannot carry the optimizer's state; save PATH.safetensors")
            }
            return try ONNXExporter.encode(model)
        }
        guard path.lowercased().hasSuffix(".safetensors") else {
            throw ModelError.invalidArgument(what: "save model", reason: "graft saves PATH.safetensors (everything, to load back) or PATH.onnx (to run elsewhere)")
        }
        let description = try GraphDescription(model)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let graph = String(decoding: try encoder.encode(description), as: UTF8.self)
        var state = StateDict(tensors: model.parameters.map { ($0.key, $0.parameter.value) } + model.buffers.map { ($0.key, $0.tensor) },
                              metadata: [formatKey: formatVersion, graphKey: graph, "graft.version": "1"])
        try optimizer?.encode(into: &state)
        try checkpoint?.encode(into: &state)
        return try SafeTensors.encode(state)
    }

    /// The format a path's file is read as, for messages.
    public static func formatName(_ path: String) -> String {
        let lower = path.lowercased()
        if lower.hasSuffix(".onnx") { return "ONNX" }
        if lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") { return "Keras HDF5" }
        if lower.hasSuffix(".keras") { return "Keras" }
        if lower.hasSuffix(".pth") || lower.hasSuffix(".pt") { return "PyTorch" }
        return "safetensors"
    }

    /// A deep copy: the same graph description rebuilt, every parameter and buffer copied.
    public static func copy(_ model: Model) throws -> Model {
        let copy = try GraphDescription(model).build(name: model.name)
        let state = StateDict(tensors: model.parameters.map { ($0.key, $0.parameter.value) } + model.buffers.map { ($0.key, $0.tensor) })
        try StateDictLoader.apply(state, to: copy)
        return copy
    }

    /// Loads a model file. graft's own safetensors rebuild exactly; other safetensors files map onto
    /// the built-in architecture `architecture` by parameter names.
    public static func load(_ path: String, architecture: String? = nil, inputShape: [Int]? = nil) throws -> Model {
        try open(path, architecture: architecture, inputShape: inputShape).model
    }

    /// What a graft file carries besides the model.
    public struct TrainingExtras {
        public var optimizer: SavedOptimizer? = nil
        public var checkpoint: Checkpoint? = nil
    }

    /// ``load``, with the optimizer state and checkpoint a graft file may carry.
    public static func open(_ path: String, architecture: String? = nil, inputShape: [Int]? = nil) throws -> (model: Model, extras: TrainingExtras) {
        var extras = TrainingExtras()
        let (model, graftFile) = try read(path, architecture: architecture, inputShape: inputShape, extras: &extras)
        if !graftFile {
            // Pretrained elsewhere: its BatchNorms keep their statistics when unfrozen (bn=train opts out).
            for norm in model.statisticsLayers { norm.keepsStatistics = true }
        }
        if let inputShape, inputShape != model.inputShape { try model.setInputShape(inputShape) }
        return (model, extras)
    }

    /// Files people mistake for models, by their magic bytes.
    static let otherFormats: [(magic: [UInt8], name: String)] = [
        ([0x89, 0x50, 0x4E, 0x47], "a PNG image"), ([0xFF, 0xD8, 0xFF], "a JPEG image"), ([0x47, 0x49, 0x46, 0x38], "a GIF image"),
        ([0x25, 0x50, 0x44, 0x46], "a PDF document"), ([0x1F, 0x8B], "a gzip file (unpack it first)"),
        ([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59], "a NumPy array (data npy or predict take those)"),
    ]

    /// The model read from `path`, and whether it is a graft file (whose flags it restores exactly).
    static func read(_ path: String, architecture: String?, inputShape: [Int]?, extras: inout TrainingExtras) throws -> (Model, Bool) {
        if HuggingFaceFolder.isFolder(path) {
            do { return (try HuggingFaceFolder.load(path), false) } catch let FormatError.refused(file, reason) {
                throw ModelError.invalidArgument(what: "refusing to load \(file)", reason: reason)
            } catch {
                throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "\(error)")
            }
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "no such file or unreadable")
        }
        return try read(data, path: path, architecture: architecture, inputShape: inputShape, extras: &extras)
    }

    /// A model file's bytes as `load` reads them (`path` chooses the reader by extension and names
    /// the file in messages); for the fuzz targets.
    public static func load(_ data: Data, path: String) throws -> Model {
        var extras = TrainingExtras()
        return try read(data, path: path, architecture: nil, inputShape: nil, extras: &extras).0
    }

    static func read(_ data: Data, path: String, architecture: String?, inputShape: [Int]?, extras: inout TrainingExtras) throws -> (Model, Bool) {
        if let other = otherFormats.first(where: { data.starts(with: $0.magic) }) {
            throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "\(URL(fileURLWithPath: path).lastPathComponent) is \(other.name), not a model file (load reads .safetensors, .pth/.pt, .h5, .keras, .onnx)")
        }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let lower = path.lowercased()
        if lower.hasSuffix(".onnx") {
            do { return (try ONNXImporter.load(data, name: path, modelName: name, inputShape: inputShape), false) } catch let error as ModelError {
                throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "\(error)")
            } catch {
                throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "\(error)")
            }
        }
        if lower.hasSuffix(".keras") {
            do { return (try KerasImporter.loadArchive(data, name: path, modelName: name), false) } catch let FormatError.refused(file, reason) {
                throw ModelError.invalidArgument(what: "refusing to load \(file)", reason: reason)
            } catch {
                throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "\(error)")
            }
        }
        if data.starts(with: [0x89, 0x48, 0x44, 0x46]) || lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") {
            do { return (try KerasImporter.load(data, name: path, modelName: name), false) } catch let error as ModelError {
                throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "\(error)")
            } catch {
                throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "\(error)")
            }
        }
        var state: StateDict
        do {
            if PyTorchCheckpoint.isLegacy(data) || PyTorchCheckpoint.isZip(data) || lower.hasSuffix(".pth") || lower.hasSuffix(".pt") {
                state = try PyTorchCheckpoint.read(data, name: path)
            } else {
                state = try SafeTensors.read(data, name: path)
            }
        } catch let FormatError.refused(file, reason) {
            throw ModelError.invalidArgument(what: "refusing to load \(file)", reason: reason)
        } catch {
            throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "\(error)")
        }
        if state.metadata[formatKey] == formatVersion, let graph = state.metadata[graphKey] {
            extras.optimizer = try SavedOptimizer.decode(from: &state, path: path)
            extras.checkpoint = try Checkpoint.decode(from: &state, path: path)
            let description: GraphDescription
            do { description = try JSONDecoder().decode(GraphDescription.self, from: Data(graph.utf8)) } catch {
                throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "its graph description is not valid")
            }
            let model = try description.build(name: name)
            try StateDictLoader.apply(state, to: model, adopting: true)
            return (model, true)
        }
        // Another library's names for a built-in network (timm's RegNet): renamed to the built-in's.
        if let renaming = KeyRenaming.matching(state), renaming.modelType == nil {
            let kept = StateDict(tensors: state.tensors.filter { !Architecture.ignorable($0.name) || $0.name.hasSuffix(".num_batches_tracked") }, metadata: state.metadata)
            do { state = try renaming.renamed(kept) } catch {
                throw ModelError.invalidArgument(what: "cannot load \(path) as \(renaming.name)", reason: "\(error)")
            }
        }
        let arch: Architecture, classes: Int
        let fits = Architecture.fits(state)
        if let named = try architecture.map(Architecture.named) {
            arch = named
            classes = fits.first { $0.architecture == named }?.classes ?? named.defaultClasses
        } else if let best = fits.first, best.isExact {
            (arch, classes) = (best.architecture, best.classes)
        } else if let closest = fits.first, closest.matching > 0 {
            throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "unknown architecture; the closest is \(closest.architecture.rawValue) (\(closest.matching) of \(closest.expected) tensors match\(closest.extra > 0 ? ", \(closest.extra) more in the file" : "")); say which with arch=NAME")
        } else {
            throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "its keys match no built-in architecture; say which with arch=NAME")
        }
        // Built without drawing weights, then given the file's tensors themselves: every one is
        // replaced (the load requires them all), and the weights exist once in memory.
        let model = try arch.build(classes: classes, generator: .structureOnly(), name: name)
        let kept = StateDict(tensors: state.tensors.filter { !Architecture.ignorable($0.name) || $0.name.hasSuffix(".num_batches_tracked") }, metadata: state.metadata)
        do { try StateDictLoader.apply(kept, to: model, adopting: true) } catch {
            throw ModelError.invalidArgument(what: "cannot load \(path) as \(arch.rawValue)", reason: "\(error)".replacingOccurrences(of: "load: ", with: ""))
        }
        if classes == 1000, let names = ImageNet.classNames { model.classNames = names }
        return (model, false)
    }
}

/// The 1,000 ImageNet class names (`Examples/imagenet_classes.txt`, torchvision's order).
public enum ImageNet {
    public static let classNames: [String]? = {
        guard let path = try? ExampleFiles.locate("imagenet_classes.txt"),
              let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let names = text.split(separator: "\n").map(String.init)
        return names.count == 1000 ? names : nil
    }()
}
