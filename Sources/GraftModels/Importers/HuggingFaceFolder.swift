import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// A Hugging Face `save_pretrained` folder: `config.json` (the model's class and sizes, `id2label`),
/// `model.safetensors` or `pytorch_model.bin`, and, when the image processor was saved beside it,
/// `preprocessor_config.json` (the size, mean and std images are given). graft reads ViT, DeiT,
/// DINOv2, ConvNext and ResNet folders; the config is data from outside like any file: its sizes are checked against the
/// weights before anything is built, its nesting and size are bounded, and a config that asks to
/// run the model's own code (`auto_map`, `trust_remote_code`) is refused by name.
public enum HuggingFaceFolder {
    struct Refusal: Error, CustomStringConvertible { let description: String }

    /// The model types graft builds, with the classes `save_pretrained` writes for them.
    static let modelTypes = ["vit", "deit", "dinov2", "dinov2_with_registers", "swin"] + KeyRenaming.all.compactMap(\.modelType).sorted()

    /// The most a config file may hold (real ones are a few kilobytes, ImageNet's id2label 70 KB).
    static let configLimit = 4 << 20

    static func isFolder(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// A JSON object from `file` in `folder` (nil when the file is absent).
    static func json(_ folder: URL, _ file: String) throws -> [String: Any]? {
        let url = folder.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch { throw Refusal(description: "\(file) cannot be read") }
        return try json(data, file)
    }

    /// `data` as a JSON object, its size and nesting bounded first.
    static func json(_ data: Data, _ file: String) throws -> [String: Any] {
        guard data.count <= configLimit else { throw Refusal(description: "\(file) holds \(data.count) bytes, more than a config's \(configLimit)") }
        if let depth = JSONDepth.beyond(data, limit: 32) { throw Refusal(description: "\(file) nests \(depth)+ levels deep, more than a config does (32)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw Refusal(description: "\(file) is not a JSON object") }
        return object
    }

    static func load(_ path: String) throws -> Model {
        let folder = URL(fileURLWithPath: path)
        guard let config = try json(folder, "config.json") else {
            throw Refusal(description: "the folder has no config.json (graft reads Hugging Face save_pretrained folders)")
        }
        if config["model_type"] == nil, let architecture = config["architecture"] as? String {
            try refuseCode(config)
            return try timm(folder, config, architecture: architecture)
        }
        return try model(config: config, weights: try weights(folder), preprocessor: try json(folder, "preprocessor_config.json"), name: folder.lastPathComponent)
    }

    /// The model a config, its weights and an image processor's config make (every value checked:
    /// the fuzz target `hfconfig` feeds it configs).
    public static func model(configData: Data, weights state: StateDict, preprocessorData: Data? = nil, name: String) throws -> Model {
        try model(config: try json(configData, "config.json"), weights: state, preprocessor: try preprocessorData.map { try json($0, "preprocessor_config.json") }, name: name)
    }

    /// A config that asks to run the model's own code is refused by name.
    static func refuseCode(_ config: [String: Any]) throws {
        for key in ["auto_map", "trust_remote_code"] where config[key] != nil {
            throw Refusal(description: "config.json asks to run the model's own code ('\(key)'); graft runs no code from a file")
        }
    }

    static func model(config: [String: Any], weights state: StateDict, preprocessor: [String: Any]?, name: String) throws -> Model {
        try refuseCode(config)
        let modelType = (config["model_type"] as? String) ?? "?"
        guard modelTypes.contains(modelType) else {
            throw Refusal(description: "config.json names model_type '\(TextTable.cell(modelType))'; graft reads \(modelTypes.joined(separator: ", ")) folders")
        }
        let model: Model
        if let renaming = KeyRenaming.all.first(where: { $0.modelType == modelType }) {
            model = try renamedModel(config: config, weights: state, modelType: modelType, renaming: renaming, name: name)
            if let preprocessor, let normalization = normalization(preprocessor) { model.normalization = normalization }
        } else if modelType == "swin" {
            model = try swin(config: config, weights: state, name: name)
            if let preprocessor, let normalization = normalization(preprocessor) { model.normalization = normalization }
        } else {
            var shapes: [String: [Int]] = [:]
            for (key, tensor) in state.tensors where !Architecture.ignorable(key) { shapes[key] = tensor.shape }
            guard var c = VisionTransformer.detectHuggingFace(shapes) else {
                throw Refusal(description: "the weights are not a \(modelType) model's (no encoder.layer.0.attention.attention.query)")
            }
            try adopt(config, into: &c)
            if let preprocessor, let normalization = normalization(preprocessor) { c.normalization = normalization }
            let architecture = VisionTransformer.architecture(VisionTransformer.name(c), c)
            model = try architecture.build(classes: Swift.max(c.classes, 2), generator: .structureOnly(), name: name)
            let kept = StateDict(tensors: state.tensors.filter { !Architecture.ignorable($0.name) }, metadata: state.metadata)
            do { try StateDictLoader.apply(kept, to: model, adopting: true) } catch {
                throw Refusal(description: "the weights do not fit config.json's \(modelType): " + "\(error)".replacingOccurrences(of: "load: ", with: ""))
            }
        }
        if let labels = config["id2label"] as? [String: Any], labels.count == model.outputShape.last, model.outputShape.count == 1 {
            let names = (0..<labels.count).map { labels[String($0)].map { "\($0)" } }
            if names.allSatisfy({ $0 != nil }) { model.classNames = names.compactMap { $0 } }
        }
        if let preprocessor, let transform = transform(preprocessor), transform.fits(model.inputShape) { model.preprocessing = transform }
        return model
    }

    /// A model type that is a built-in architecture: the config's settings checked, the keys
    /// renamed, the architecture read off the renamed tensors (exactly, or refused), then loaded.
    static func renamedModel(config: [String: Any], weights state: StateDict, modelType: String, renaming: KeyRenaming, name: String) throws -> Model {
        for (setting, wanted) in renaming.requires.sorted(by: { $0.key < $1.key }) {
            guard let value = config[setting] else { continue }
            let text = (value as? Bool).map { $0 ? "true" : "false" } ?? (value as? String) ?? "\(value)"
            guard text == wanted else {
                throw Refusal(description: "config.json's \(setting) is '\(TextTable.cell(text))'; graft builds \(modelType) with \(wanted)")
            }
        }
        let kept = StateDict(tensors: state.tensors.filter { !Architecture.ignorable($0.name) || $0.name.hasSuffix(".num_batches_tracked") }, metadata: state.metadata)
        let renamed: StateDict
        do { renamed = try renaming.renamed(kept) } catch {
            throw Refusal(description: "\(error)".replacingOccurrences(of: "the weights: they hold", with: "the weights hold"))
        }
        guard let fit = Architecture.fits(renamed).first, fit.isExact else {
            throw Refusal(description: "the weights are not a \(modelType) model graft builds")
        }
        let model = try fit.architecture.build(classes: fit.classes, generator: .structureOnly(), name: name)
        do { try StateDictLoader.apply(renamed, to: model, adopting: true) } catch {
            throw Refusal(description: "the weights do not fit config.json's \(modelType): " + "\(error)".replacingOccurrences(of: "load: ", with: ""))
        }
        return model
    }

    /// A timm model as the hub keeps it: timm's config.json (`architecture`, `num_classes`,
    /// `label_names`, `pretrained_cfg` with mean and std) beside the weights under timm's key names.
    static func timm(_ folder: URL, _ config: [String: Any], architecture: String) throws -> Model {
        let file = ["model.safetensors", "pytorch_model.bin"].map { folder.appendingPathComponent($0) }.first { FileManager.default.fileExists(atPath: $0.path) }
        guard let file else { throw Refusal(description: "the folder has no model.safetensors or pytorch_model.bin") }
        // `vit_base_patch16_224.augreg2_in21k_ft_in1k`: the model, then its weights' tag.
        let base = String(architecture.prefix { $0 != "." })
        let model = try ModelFiles.load(file.path, architecture: Architecture(rawValue: base) != nil ? base : nil)
        model.name = folder.lastPathComponent
        if let labels = config["label_names"] as? [String], labels.count == model.outputShape.last, model.outputShape.count == 1 { model.classNames = labels }
        if let pretrained = config["pretrained_cfg"] as? [String: Any], let normalization = normalization(["image_mean": pretrained["mean"] as Any, "image_std": pretrained["std"] as Any]) {
            model.normalization = normalization
        }
        return model
    }

    /// `model.safetensors`, else `pytorch_model.bin` (read by graft's allowlisted unpickler).
    static func weights(_ folder: URL) throws -> StateDict {
        let safetensors = folder.appendingPathComponent("model.safetensors"), bin = folder.appendingPathComponent("pytorch_model.bin")
        if FileManager.default.fileExists(atPath: safetensors.path) {
            return try SafeTensors.read(try Data(contentsOf: safetensors, options: .alwaysMapped), name: safetensors.path)
        }
        if FileManager.default.fileExists(atPath: bin.path) {
            return try PyTorchCheckpoint.read(try Data(contentsOf: bin, options: .alwaysMapped), name: bin.path)
        }
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors.index.json").path) {
            throw Refusal(description: "the weights are sharded (model.safetensors.index.json); graft reads one model.safetensors")
        }
        throw Refusal(description: "the folder has no model.safetensors or pytorch_model.bin")
    }

    /// A `SwinModel` / `SwinForImageClassification` folder: the settings read off the weights, and
    /// config.json's checked against them (V1 without absolute position embeddings, GELU).
    static func swin(config: [String: Any], weights state: StateDict, name: String) throws -> Model {
        var shapes: [String: [Int]] = [:]
        for (key, tensor) in state.tensors where !Architecture.ignorable(key) { shapes[key] = tensor.shape }
        guard var c = SwinTransformer.detect(shapes), c.source == .huggingface else {
            throw Refusal(description: "the weights are not a swin model's (no encoder.layers.0.blocks.0.attention.self.relative_position_bias_table)")
        }
        func int(_ key: String) -> Int? { whole(config[key]) }
        func ints(_ key: String) -> [Int]? { (config[key] as? [Any])?.map { whole($0) ?? -1 } }
        if (config["use_absolute_embeddings"] as? Bool) == true { throw Refusal(description: "config.json asks for absolute position embeddings (use_absolute_embeddings), which graft does not build") }
        if let act = config["hidden_act"] as? String, act != "gelu" { throw Refusal(description: "config.json's hidden_act '\(TextTable.cell(act))' is not gelu") }
        if let width = int("embed_dim"), width != c.width { throw Refusal(description: "config.json's embed_dim \(width) is not the weights' \(c.width)") }
        if let window = int("window_size"), window != c.window { throw Refusal(description: "config.json's window_size \(window) is not the weights' \(c.window)") }
        if let depths = ints("depths"), depths != c.depths { throw Refusal(description: "config.json's depths \(depths) are not the weights' \(c.depths)") }
        if let heads = ints("num_heads"), heads != c.heads { throw Refusal(description: "config.json's num_heads \(heads) are not the weights' \(c.heads)") }
        if let channels = int("num_channels"), channels != 3 { throw Refusal(description: "config.json's num_channels \(channels): graft reads RGB models") }
        if let size = int("image_size"), (1...4096).contains(size) { c.size = size }
        if let epsilon = (config["layer_norm_eps"] as? NSNumber)?.floatValue {
            guard epsilon >= 0, epsilon < 1 else { throw Refusal(description: "config.json's layer_norm_eps \(epsilon) is not a small positive number") }
            c.epsilon = epsilon
        }
        let model = try SwinTransformer.architecture(SwinTransformer.name(c), c).build(classes: Swift.max(c.classes, 2), generator: .structureOnly(), name: name)
        let kept = StateDict(tensors: state.tensors.filter { !Architecture.ignorable($0.name) }, metadata: state.metadata)
        do { try StateDictLoader.apply(kept, to: model, adopting: true) } catch {
            throw Refusal(description: "the weights do not fit config.json's swin: " + "\(error)".replacingOccurrences(of: "load: ", with: ""))
        }
        return model
    }

    /// config.json's sizes over what the weights say, each checked against them.
    static func adopt(_ config: [String: Any], into c: inout VisionTransformer.Config) throws {
        func int(_ key: String) -> Int? { whole(config[key]) }
        if let width = int("hidden_size"), width != c.width { throw Refusal(description: "config.json's hidden_size \(width) is not the weights' \(c.width)") }
        if let depth = int("num_hidden_layers"), depth != c.depth { throw Refusal(description: "config.json's num_hidden_layers \(depth) is not the weights' \(c.depth)") }
        if let patch = int("patch_size"), patch != c.patch { throw Refusal(description: "config.json's patch_size \(patch) is not the weights' \(c.patch)") }
        if let heads = int("num_attention_heads") {
            guard heads >= 1, heads <= c.width, c.width % heads == 0 else {
                throw Refusal(description: "config.json's num_attention_heads \(heads) does not divide hidden_size \(c.width)")
            }
            c.heads = heads
        }
        if let epsilon = (config["layer_norm_eps"] as? NSNumber)?.floatValue {
            guard epsilon >= 0, epsilon < 1 else { throw Refusal(description: "config.json's layer_norm_eps \(epsilon) is not a small positive number") }
            c.epsilon = epsilon
        }
        if let act = config["hidden_act"] as? String {
            switch act {
            case "gelu": c.activation = .gelu
            case "gelu_pytorch_tanh", "gelu_new", "gelu_fast": c.activation = .geluTanh
            default: throw Refusal(description: "config.json's hidden_act '\(TextTable.cell(act))' is not one graft has (gelu, gelu_pytorch_tanh)")
            }
        }
        if let channels = int("num_channels"), channels != 3 { throw Refusal(description: "config.json's num_channels \(channels): graft reads RGB models") }
        if (config["use_swiglu_ffn"] as? Bool) == true { throw Refusal(description: "config.json asks for a SwiGLU MLP (use_swiglu_ffn), which graft does not build yet") }
        if let registers = int("num_register_tokens"), registers != c.registers {
            throw Refusal(description: "config.json's num_register_tokens \(registers) is not the weights' \(c.registers)")
        }
    }

    /// A JSON number that is a whole number within ±2³¹ (NaN, infinities, fractions, booleans and
    /// huge values are nil: never converted to Int unchecked).
    static func whole(_ value: Any?) -> Int? {
        guard let value, let number = value as? NSNumber, !isJSONBoolean(value) else { return nil }
        let double = number.doubleValue
        guard double.isFinite, double == double.rounded(), Swift.abs(double) < 2_147_483_648 else { return nil }
        return Int(double)
    }

    /// `image_mean` and `image_std`, three values each (std positive), as the model's normalization.
    static func normalization(_ preprocessor: [String: Any]) -> Normalization? {
        guard (preprocessor["do_normalize"] as? Bool) != false,
              let mean = (preprocessor["image_mean"] as? [NSNumber])?.map(\.floatValue), let std = (preprocessor["image_std"] as? [NSNumber])?.map(\.floatValue),
              mean.count == 3, std.count == 3, std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else { return nil }
        return .custom(mean: mean, std: std)
    }

    /// How the image processor sizes images: straight to `size` (ViT), or the shorter side to
    /// `size.shortest_edge`, then the central `crop_size` (DeiT, DINOv2).
    static func transform(_ preprocessor: [String: Any]) -> ImageTransform? {
        func side(_ value: Any?, _ key: String) -> Int? { whole((value as? [String: Any])?[key]) }
        let size = preprocessor["size"], crop = preprocessor["crop_size"]
        if (preprocessor["do_center_crop"] as? Bool) == true, let shortest = side(size, "shortest_edge"),
           let height = side(crop, "height"), let width = side(crop, "width"), height == width {
            return ImageTransform(channels: 3, height: height, width: width, resize: shortest, eightBit: false)
        }
        if let height = side(size, "height"), let width = side(size, "width") {
            return ImageTransform(channels: 3, height: height, width: width, resize: nil, eightBit: false)
        }
        return nil
    }
}
