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
    @discardableResult
    public static func save(_ model: Model, to path: String) throws -> Int {
        guard path.lowercased().hasSuffix(".safetensors") else {
            throw ModelError.invalidArgument(what: "save model", reason: "graft saves .safetensors files; name the file PATH.safetensors")
        }
        let description = try GraphDescription(model)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let graph = String(decoding: try encoder.encode(description), as: UTF8.self)
        let state = StateDict(tensors: model.parameters.map { ($0.key, $0.parameter.value) } + model.buffers.map { ($0.key, $0.tensor) },
                              metadata: [formatKey: formatVersion, graphKey: graph, "graft.version": "1"])
        let data = try SafeTensors.encode(state)
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try writeAtomically(data, to: url)
        return data.count
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
    public static func load(_ path: String, architecture: String? = nil) throws -> Model {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "no such file or unreadable")
        }
        let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let lower = path.lowercased()
        if data.starts(with: [0x50, 0x4B, 0x03, 0x04]) || lower.hasSuffix(".pth") || lower.hasSuffix(".pt") || lower.hasSuffix(".h5")
            || lower.hasSuffix(".keras") || lower.hasSuffix(".onnx") || data.starts(with: [0x89, 0x48, 0x44, 0x46]) {
            throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "PyTorch, Keras and ONNX files are not readable yet (only .safetensors)")
        }
        let state: StateDict
        do { state = try SafeTensors.read(data, name: path) } catch { throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "\(error)") }
        if state.metadata[formatKey] == formatVersion, let graph = state.metadata[graphKey] {
            let description: GraphDescription
            do { description = try JSONDecoder().decode(GraphDescription.self, from: Data(graph.utf8)) } catch {
                throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "its graph description is not valid")
            }
            let model = try description.build(name: name)
            try StateDictLoader.apply(state, to: model)
            return model
        }
        guard let architecture else {
            throw ModelError.invalidArgument(what: "cannot load \(path)", reason: "it holds weights only; say which architecture they belong to with arch=NAME")
        }
        let arch = try Architecture.named(architecture)
        let classes = state.tensors.last { $0.name.hasSuffix(".weight") && $0.tensor.rank == 2 }?.tensor.shape[0]
        let model = try arch.build(classes: classes, generator: Generator(seed: 0), name: name)
        try StateDictLoader.apply(state, to: model)
        return model
    }
}
