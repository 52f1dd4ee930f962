import Foundation
import GraftData
import GraftFormats
import GraftNN
import GraftTensor

/// Keras models: Keras 3 `.keras` archives (zip of `config.json`, `model.weights.h5`,
/// `metadata.json`), and HDF5 files of Keras 3, tf-keras and Keras 2 (`model.save("x.h5")`). The
/// model config is rebuilt as a graft graph (Sequential or Functional, from `inbound_nodes`), one
/// handler per Keras class (``KerasImporter/layers``); the weights are read through graft's HDF5
/// reader and transposed from channels-last (NHWC activations, HWIO kernels) to graft's
/// NCHW/OIHW. Keras layer names are kept. Layers that would run code (`Lambda`, custom classes)
/// are refused by name, never run.
public enum KerasImporter {
    static let format = "keras"

    struct Failure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// One layer's stored variables: by name where the file names them (HDF5 `weight_names`), in
    /// creation order either way.
    struct StoredWeights {
        var names: [String?]
        /// Each variable, read from the file only when its layer is built: the weights are never
        /// all in memory twice (as read, and as the layers' own transposed tensors).
        var tensors: [StoredTensor]
    }

    struct StoredTensor {
        let read: () throws -> Tensor
        init(_ file: HDF5File, _ address: Int, name: String) {
            read = { try file.tensor(at: address, name: name) }
        }
    }

    // MARK: Files

    /// An HDF5 file written by `model.save("x.h5")`: `model_config` and `keras_version` attributes,
    /// weights under `model_weights/<layer>/…` listed by `layer_names` and `weight_names`.
    public static func load(_ data: Data, name: String, modelName: String) throws -> Model {
        let file = try HDF5File(data: data, source: name)
        let rootAttributes = try file.attributes(of: file.rootAddress)
        guard let configText = rootAttributes["model_config"]?.string else {
            throw FormatError.malformed(format: format, where: name, reason: "no model_config attribute (a weights-only file: graft needs the full model saved with model.save)")
        }
        let config = try json(configText, what: "\(name) model_config")
        let weightsRoot = (try? file.address(of: "model_weights")) ?? file.rootAddress
        let weights = try readNamedWeights(file, root: weightsRoot)
        let version = rootAttributes["keras_version"]?.string ?? ""
        return try build(config, weights: .named(weights), keras3: version.hasPrefix("3"), source: name, modelName: modelName)
    }

    /// A Keras 3 `.keras` archive: `config.json` (the model config) and `model.weights.h5`, whose
    /// variables sit at `layers/<layer>/vars/<i>` in creation order.
    public static func loadArchive(_ data: Data, name: String, modelName: String) throws -> Model {
        let archive = try ZipArchive(data: data, source: name)
        guard let configEntry = archive.entry("config.json") else {
            throw FormatError.malformed(format: format, where: name, reason: "no config.json in the archive (not a Keras 3 .keras file)")
        }
        guard let weightsEntry = archive.entry("model.weights.h5") else {
            throw FormatError.malformed(format: format, where: name, reason: "no model.weights.h5 in the archive")
        }
        let configData = try archive.contents(configEntry, limit: 64 << 20)
        let config = try json(String(decoding: configData, as: UTF8.self), what: "\(name) config.json")
        let weightsData = try archive.contents(weightsEntry, limit: 8 << 30)
        let file = try HDF5File(data: weightsData, source: "\(name) model.weights.h5")
        var weights: [String: StoredWeights] = [:]
        if let layersGroup = try? file.address(of: "layers") {
            try collectArchiveWeights(file, group: layersGroup, path: "layers", into: &weights)
        }
        return try build(config, weights: .archive(weights), keras3: true, source: name, modelName: modelName)
    }

    static func json(_ text: String, what: String) throws -> [String: Any] {
        if let depth = JSONDepth.beyond(text.utf8, limit: JSONDepth.limit) {
            throw FormatError.malformed(format: format, where: what, reason: "nested \(depth)+ levels deep, more than graft reads (\(JSONDepth.limit)): a model of models that deep is not one graft opens")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw FormatError.malformed(format: format, where: what, reason: "not valid JSON")
        }
        return object
    }

    /// `layers/<key>/vars/0…n`, where a layer's key is its class in snake case numbered in layer
    /// order (`conv2d`, `conv2d_1`; see ``archiveKeys(_:)``); nested models keep theirs under
    /// `layers/<key>/layers/…`. Keyed by path (`layers/sequential/layers/conv2d`).
    static func collectArchiveWeights(_ file: HDF5File, group: Int, path: String, into weights: inout [String: StoredWeights], depth: Int = 0) throws {
        guard depth < 8 else { throw Failure(message: "model.weights.h5 nests layers more than 8 deep") }
        for (key, address) in try file.children(of: group) {
            let layerName = "\(path)/\(key)"
            let members = try file.children(of: address)
            if let vars = members.first(where: { $0.0 == "vars" })?.1 {
                let datasets = try file.children(of: vars).compactMap { entry -> (Int, Int)? in Int(entry.0).map { ($0, entry.1) } }.sorted { $0.0 < $1.0 }
                guard datasets.map(\.0) == Array(0..<datasets.count) else {
                    throw Failure(message: "weights of layer '\(layerName)': variables are not numbered 0…\(datasets.count - 1)")
                }
                var stored = StoredWeights(names: [], tensors: [])
                for (index, dataset) in datasets {
                    stored.names.append(nil)
                    stored.tensors.append(StoredTensor(file, dataset, name: "\(layerName)/vars/\(index)"))
                }
                if !stored.tensors.isEmpty { weights[layerName] = stored }
            }
            if let nested = members.first(where: { $0.0 == "layers" })?.1 {
                try collectArchiveWeights(file, group: nested, path: "\(layerName)/layers", into: &weights, depth: depth + 1)
            }
        }
    }

    /// Every layer's weights in `weight_names` order. A name with `/` (DenseNet's `conv1/conv`) is a
    /// path of nested groups, for layer names and weight names alike.
    static func readNamedWeights(_ file: HDF5File, root: Int) throws -> [String: StoredWeights] {
        func walk(_ start: Int, _ path: String, what: String) throws -> Int? {
            var address = start
            for part in path.split(separator: "/") {
                guard let next = try file.children(of: address).first(where: { $0.0 == part })?.1 else { return nil }
                address = next
            }
            return address
        }
        var result: [String: StoredWeights] = [:]
        let layerNames = try file.attributes(of: root)["layer_names"]?.strings ?? file.children(of: root).map(\.0)
        for layer in layerNames {
            guard let group = try walk(root, layer, what: layer) else { continue }
            let names = try file.attributes(of: group)["weight_names"]?.strings ?? []
            var stored = StoredWeights(names: [], tensors: [])
            for weightName in names {
                guard let address = try walk(group, weightName, what: weightName) else {
                    throw FormatError.malformed(format: format, where: "weights of layer '\(layer)'", reason: "no dataset '\(weightName)'")
                }
                stored.names.append(weightName)
                stored.tensors.append(StoredTensor(file, address, name: weightName))
            }
            result[layer] = stored
        }
        return result
    }

    // MARK: The graph

    /// Where the weights came from: HDF5 groups by layer name (weight names kept whole), or a
    /// `.keras` archive's variables by path.
    enum WeightSource {
        case named([String: StoredWeights])
        case archive([String: StoredWeights])
    }

    /// An input of a layer call: another layer's output, or a number (Keras 3 records `x + 3.0` as
    /// an `Add` with a constant operand).
    enum Operand {
        case tensor(String)
        case number(Double)
    }

    struct LayerSpec {
        let className: String
        let name: String
        let config: [String: Any]
        /// The call's operands in order.
        var operands: [Operand]
        /// Keyword arguments of the call (a TFOpLambda's `y`).
        let callArguments: [String: Any]
        /// Where its weights are: the HDF5 group (the layer, or the nested model holding it) and,
        /// inside a nested model, the layer's own name; and its `.keras` variable path.
        var group: String
        var innerName: String?
        var archivePath: String

        /// The layers feeding this one, in call order.
        var inputs: [String] { operands.compactMap { if case let .tensor(name) = $0 { return name } else { return nil } } }
        var numbers: [Double] { operands.compactMap { if case let .number(value) = $0 { return value } else { return nil } } }
    }

    /// Keras's `to_snake_case` of a class name (`BatchNormalization` → `batch_normalization`, `ReLU` → `re_lu`).
    static func snakeCase(_ name: String) -> String {
        var text = name.filter { $0.isLetter || $0.isNumber || $0 == "_" }
        func replace(_ pattern: String) {
            guard let regex = try? NSRegularExpression(pattern: pattern) else { return }
            text = regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1_$2")
        }
        replace("(.)([A-Z][a-z]+)")
        replace("([a-z])([A-Z])")
        return text.lowercased()
    }

    /// The custom layers of `keras.applications` whose meaning is fixed by the Keras source.
    static let applicationModules = ["keras.src.applications", "keras.applications", "keras_applications"]

    static func layers(of config: [String: Any], source: String) throws -> (layers: [LayerSpec], sequential: Bool, outputs: [String]) {
        var count = 0
        let (specs, sequential, outputs) = try flatten(config, source: source, archivePath: "layers", group: nil, depth: 0, count: &count)
        return (specs, sequential, outputs)
    }

    /// The model's layers in order, nested Sequential and Functional models inlined: their inner
    /// layers take the nested model's inputs, and later layers read the nested model's output.
    static func flatten(_ config: [String: Any], source: String, archivePath: String, group: String?, depth: Int,
                        count: inout Int) throws -> (layers: [LayerSpec], sequential: Bool, outputs: [String]) {
        guard depth < 8 else { throw Failure(message: "\(source): models nested more than 8 deep") }
        guard let className = config["class_name"] as? String else { throw Failure(message: "\(source): the model config has no class_name") }
        var body = config["config"]
        let sequential = className == "Sequential"
        guard sequential || className == "Model" || className == "Functional" else {
            throw Failure(message: "\(source): model class '\(className)' (graft reads Sequential and Functional models)")
        }
        if let list = body as? [Any] { body = ["layers": list] }
        guard let dictionary = body as? [String: Any], let entries = dictionary["layers"] as? [[String: Any]] else {
            throw Failure(message: "\(source): the model config has no layer list")
        }
        var result: [LayerSpec] = []
        var used: [String: Int] = [:]
        /// Nested model name → the layer whose output is the nested model's.
        var aliases: [String: String] = [:]
        for (index, entry) in entries.enumerated() {
            count += 1
            guard count <= 10_000 else { throw Failure(message: "\(source): more than 10,000 layers") }
            var layerClass = entry["class_name"] as? String ?? "?"
            if layerClass.hasPrefix("Custom>") { layerClass = String(layerClass.dropFirst(7)) }   // tf-keras's registered names
            let layerConfig = entry["config"] as? [String: Any] ?? [:]
            let layerName = entry["name"] as? String ?? layerConfig["name"] as? String ?? "layer_\(index)"
            if let module = entry["module"] as? String, !module.hasPrefix("keras") {
                throw Failure(message: "layer '\(layerName)' comes from module '\(module)': graft refuses custom layers (they would run code)")
            }
            var key = snakeCase(layerClass)
            if let n = used[key] { used[key] = n + 1; key += "_\(n + 1)" } else { used[key] = 0 }
            var operands: [Operand] = []
            var arguments: [String: Any] = [:]
            if sequential {
                if let previous = result.last { operands = [.tensor(previous.name)] }
            } else {
                (operands, arguments) = try inbound(entry["inbound_nodes"], layer: layerName)
            }
            operands = operands.map { if case let .tensor(name) = $0, let alias = aliases[name] { return .tensor(alias) } else { return $0 } }
            if ["Functional", "Sequential", "Model"].contains(layerClass) {
                let inner = try flatten(entry, source: source, archivePath: "\(archivePath)/\(key)/layers", group: group ?? layerName, depth: depth + 1, count: &count)
                var layers = inner.layers
                // The nested model's input layers become its callers' outputs.
                let innerInputs = layers.filter { $0.className == "InputLayer" }.map(\.name)
                var renamed: [String: String] = [:]
                for (k, input) in innerInputs.enumerated() {
                    guard k < operands.count, case let .tensor(outer) = operands[k] else { throw Failure(message: "nested model '\(layerName)' takes more inputs than it is given") }
                    renamed[input] = outer
                }
                layers = layers.filter { $0.className != "InputLayer" }
                if inner.sequential, let first = layers.indices.first, let outer = operands.first {
                    if layers[first].operands.isEmpty { layers[first].operands = [outer] }
                }
                for k in layers.indices {
                    layers[k].operands = layers[k].operands.map { if case let .tensor(name) = $0, let outer = renamed[name] { return .tensor(outer) } else { return $0 } }
                }
                guard let last = inner.outputs.last ?? layers.last?.name else { throw Failure(message: "nested model '\(layerName)' has no layers") }
                aliases[layerName] = last
                result += layers
                continue
            }
            guard handlers[layerClass] != nil else {
                let why = ["Lambda", "TFOpLambda", "SlicingOpLambda"].contains(layerClass) ? " (it would run code; graft never runs code from a model file)" : ""
                throw Failure(message: "layer '\(layerName)' of class \(layerClass) is not supported\(why)")
            }
            result.append(LayerSpec(className: layerClass, name: layerName, config: layerConfig, operands: operands, callArguments: arguments,
                                    group: group ?? layerName, innerName: group == nil ? nil : layerName, archivePath: "\(archivePath)/\(key)"))
        }
        var outputs: [String] = []
        if !sequential, let list = dictionary["output_layers"] as? [Any] {
            // [[name, node, tensor], …] or a single [name, node, tensor].
            if let single = list.first as? String { outputs = [single] } else { outputs = list.compactMap { ($0 as? [Any])?.first as? String } }
        }
        if sequential, let last = result.last { outputs = [last.name] }
        return (result, sequential, outputs.map { aliases[$0] ?? $0 })
    }

    /// The operands of the layer's call and its keyword arguments (Keras 2 and Keras 3 forms;
    /// shared layers refused). A Keras 2 keyword argument that is a tensor (`y` of a TFOpLambda) is
    /// an operand too.
    static func inbound(_ value: Any?, layer: String) throws -> ([Operand], [String: Any]) {
        guard let nodes = value as? [Any], !nodes.isEmpty else { return ([], [:]) }
        guard nodes.count == 1 else { throw Failure(message: "layer '\(layer)' is called \(nodes.count) times (shared layers are not supported)") }
        var operands: [Operand] = []
        var arguments: [String: Any] = [:]
        func isKeras2Tensor(_ list: [Any]) -> Bool { list.count >= 3 && list[0] is String && list[1] is Int && list[2] is Int }
        func collect(_ item: Any, depth: Int) {
            guard depth < 16 else { return }
            if let dictionary = item as? [String: Any] {
                if let history = (dictionary["config"] as? [String: Any])?["keras_history"] as? [Any], let name = history.first as? String {
                    operands.append(.tensor(name))                   // Keras 3: a __keras_tensor__
                } else if let args = dictionary["args"] {
                    collect(args, depth: depth + 1)
                    for (key, value) in dictionary["kwargs"] as? [String: Any] ?? [:] { arguments[key] = value }
                }
            } else if let list = item as? [Any], isKeras2Tensor(list), let name = list[0] as? String {
                operands.append(.tensor(name))                       // Keras 2: [name, node, tensor, kwargs]
                if list.count >= 4, let kwargs = list[3] as? [String: Any] {
                    for (key, value) in kwargs {
                        if let tensor = value as? [Any], isKeras2Tensor(tensor), let other = tensor[0] as? String { operands.append(.tensor(other)) } else { arguments[key] = value }
                    }
                }
            } else if let list = item as? [Any] {
                for element in list { collect(element, depth: depth + 1) }
            } else if let number = item as? Double, !isJSONBoolean(item) {
                operands.append(.number(number))
            }
        }
        collect(nodes[0], depth: 0)
        return (operands, arguments)
    }

    /// Everything the handlers build into: the import (the graph so far, the weights to assign at
    /// the end) and the Keras version.
    final class BuildState: ImportBuild {
        /// Keras 3 files (`hard_sigmoid` is relu6(x + 3)/6 there, 0.2·x + 0.5 clipped before).
        let keras3: Bool
        /// What the file's `Random*` layers ask of training (they are identity at inference).
        var augmentation: SourceAugmentation?
        init(builder: GraphBuilder, keras3: Bool) {
            self.keras3 = keras3
            super.init(builder: builder)
        }
    }

    static func build(_ config: [String: Any], weights: WeightSource, keras3: Bool, source: String, modelName: String) throws -> Model {
        let (specs, sequential, outputs) = try layers(of: config, source: source)
        guard let first = specs.first else { throw Failure(message: "\(source): the model has no layers") }
        // The input: an InputLayer, or the first Sequential layer's batch_input_shape.
        guard let batchShape = (first.config["batch_input_shape"] ?? first.config["batch_shape"]) as? [Any], batchShape.count >= 2 else {
            throw Failure(message: "\(source): the input shape is not recorded")
        }
        let dims = batchShape.dropFirst().map { $0 as? Int }
        // Free height and width ((None, None, 3)) run at any size; the graph is built for 224×224.
        guard dims.count == 3 ? dims[2] != nil : !dims.contains(nil) else {
            throw Failure(message: "\(source): the input has free dimensions \(batchShape); graft needs a fixed size there")
        }
        let channelsLast = dims.map { $0 ?? 224 }
        let inputShape = channelsLast.count == 3 ? [channelsLast[2], channelsLast[0], channelsLast[1]] : channelsLast
        let free = dims.count == 3 ? [dims[0] == nil ? 1 : nil, dims[1] == nil ? 2 : nil].compactMap { $0 } : []
        let state = BuildState(builder: try GraphBuilder(inputShape: inputShape, freeAxes: free, inputName: first.className == "InputLayer" ? first.name : "input"), keras3: keras3)
        var output: [String: Int] = [:]
        if first.className == "InputLayer" { output[first.name] = state.builder.input }

        for spec in specs where spec.className != "InputLayer" {
            let inputs: [Int]
            if sequential && output.isEmpty {
                inputs = [state.builder.input]
            } else {
                inputs = try spec.inputs.map { name in
                    guard let index = output[name] else { throw Failure(message: "layer '\(spec.name)' reads '\(name)', which is not defined before it") }
                    return index
                }
            }
            guard !inputs.isEmpty else { throw Failure(message: "layer '\(spec.name)' has no inputs") }
            guard let handler = handlers[spec.className] else { throw Failure(message: "layer '\(spec.name)' of class \(spec.className) is not supported") }
            let stored = try resolve(storedWeights(spec, in: weights), expected: handler.variables(spec.config), layer: spec)
            let context = LayerContext(spec: spec, inputs: inputs, weights: stored, state: state)
            do { output[spec.name] = try handler.build(context) } catch let error as ModelError {
                throw Failure(message: "layer '\(spec.name)' (\(spec.className)): \(error)")
            }
            // The file's tensors a layer rearranged (HWIO kernels) are gone: not kept for reuse.
            Tensor.releasePooledBuffers()
        }
        let model = try state.finish(name: modelName, architecture: "keras", output: outputs.last.flatMap { output[$0] })
        model.sourceAugmentation = state.augmentation
        // Keras marks non-trainable layers in the config.
        for spec in specs where (spec.config["trainable"] as? Bool) == false {
            _ = try? model.setTrainable(false, [spec.name])
        }
        return model
    }

    /// The layer's variables in the file, names shortened to their last component (`kernel`).
    static func storedWeights(_ spec: LayerSpec, in source: WeightSource) -> StoredWeights? {
        switch source {
        case let .archive(weights): return weights[spec.archivePath]
        case let .named(weights):
            guard var stored = weights[spec.group] else { return nil }
            if let inner = spec.innerName {
                // A nested model's group holds every inner layer's weights: `inner/kernel:0` or `model/inner/kernel`.
                let keep = stored.names.map { name -> Bool in
                    let parts = (name ?? "").split(separator: "/")
                    return parts.count >= 2 && parts[parts.count - 2] == inner
                }
                stored = StoredWeights(names: zip(stored.names, keep).filter(\.1).map(\.0), tensors: zip(stored.tensors, keep).filter(\.1).map(\.0))
            }
            stored.names = stored.names.map { $0.map { String($0.split(separator: "/").last ?? "").replacingOccurrences(of: ":0", with: "") } }
            return stored
        }
    }

    /// The layer's stored variables under their canonical names (`expected`, in creation order):
    /// by the names the file gives where they all match, else by position.
    static func resolve(_ stored: StoredWeights?, expected: [String], layer: LayerSpec) throws -> [String: Tensor] {
        guard let stored, !stored.tensors.isEmpty else {
            guard expected.isEmpty else { throw Failure(message: "layer '\(layer.name)' (\(layer.className)) has no weights in the file (expected \(expected.joined(separator: ", ")))") }
            return [:]
        }
        // Keras 3 calls a depthwise kernel `kernel`; tf-keras `depthwise_kernel`.
        let aliases = ["kernel": "depthwise_kernel", "depthwise_kernel": "kernel"]
        let names = stored.names.compactMap { $0 }
        if names.count == stored.tensors.count {
            var byName: [String: StoredTensor] = [:]
            for (name, tensor) in zip(names, stored.tensors) {
                if expected.contains(name) { byName[name] = tensor } else if let alias = aliases[name], expected.contains(alias) { byName[alias] = tensor }
            }
            if byName.count == expected.count && byName.count == stored.tensors.count { return try byName.mapValues { try $0.read() } }
        }
        guard stored.tensors.count == expected.count else {
            let found = stored.names.enumerated().map { $0.element ?? "#\($0.offset)" }
            throw Failure(message: "layer '\(layer.name)' (\(layer.className)): the file holds \(stored.tensors.count) weights (\(found.joined(separator: ", "))), expected \(expected.count) (\(expected.joined(separator: ", ")))")
        }
        return Dictionary(uniqueKeysWithValues: try zip(expected, stored.tensors).map { ($0, try $1.read()) })
    }
}
