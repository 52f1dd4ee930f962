import Foundation
import GraftData
import GraftFormats
import GraftNN
import GraftTensor

/// Keras models saved as HDF5 (Keras 2 and tf-keras `.h5`): the `model_config` JSON rebuilt as a
/// graft graph (Sequential or Functional, from `inbound_nodes`), the weights read through graft's
/// HDF5 reader and transposed from channels-last (NHWC activations, HWIO kernels) to graft's
/// NCHW/OIHW. Keras layer names are kept. Layers that would run code (`Lambda`, `TFOpLambda`,
/// custom classes) are refused by name, never run.
public enum KerasImporter {
    static let format = "keras"

    /// Layer classes graft rebuilds.
    static let supported: Set<String> = [
        "InputLayer", "Conv2D", "SeparableConv2D", "DepthwiseConv2D", "BatchNormalization", "Activation", "ReLU", "LeakyReLU",
        "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Add", "Multiply", "Concatenate",
        "Dense", "Dropout", "SpatialDropout2D", "Flatten", "Reshape", "ZeroPadding2D", "Rescaling", "Permute",
    ]

    struct Failure: Error { let message: String }

    public static func load(_ data: Data, name: String, modelName: String) throws -> Model {
        let file = try HDF5File(data: data, source: name)
        let rootAttributes = try file.attributes(of: file.rootAddress)
        guard let configText = rootAttributes["model_config"]?.string else {
            throw FormatError.malformed(format: format, where: name, reason: "no model_config attribute (a weights-only file: graft needs the full model saved with model.save)")
        }
        guard let config = try? JSONSerialization.jsonObject(with: Data(configText.utf8)) as? [String: Any] else {
            throw FormatError.malformed(format: format, where: "\(name) model_config", reason: "not valid JSON")
        }
        let weightsRoot = (try? file.address(of: "model_weights")) ?? file.rootAddress
        let weights = try readWeights(file, root: weightsRoot)
        return try build(config, weights: weights, source: name, modelName: modelName)
    }

    /// Every layer's weights, by layer name, in `weight_names` order: [(short name, tensor in Keras layout)].
    static func readWeights(_ file: HDF5File, root: Int) throws -> [String: [(String, Tensor)]] {
        var result: [String: [(String, Tensor)]] = [:]
        let layerNames = try file.attributes(of: root)["layer_names"]?.strings ?? file.children(of: root).map(\.0)
        for layer in layerNames {
            guard let group = try file.children(of: root).first(where: { $0.0 == layer })?.1 else { continue }
            let names = try file.attributes(of: group)["weight_names"]?.strings ?? []
            var tensors: [(String, Tensor)] = []
            for weightName in names {
                // The dataset path is layer/ + each weight name (which may have its own groups).
                var address = group
                for part in weightName.split(separator: "/") {
                    guard let next = try file.children(of: address).first(where: { $0.0 == part })?.1 else {
                        throw FormatError.malformed(format: format, where: "weights of layer '\(layer)'", reason: "no dataset '\(weightName)'")
                    }
                    address = next
                }
                let (shape, values) = try file.dataset(at: address, name: weightName)
                let short = String(weightName.split(separator: "/").last ?? "").replacingOccurrences(of: ":0", with: "")
                tensors.append((short, try Tensor(shape: shape, scalars: values)))
            }
            result[layer] = tensors
        }
        return result
    }

    // MARK: The graph

    struct LayerSpec {
        let className: String
        let name: String
        let config: [String: Any]
        let inputs: [String]
    }

    static func layers(of config: [String: Any], source: String) throws -> (layers: [LayerSpec], sequential: Bool) {
        guard let className = config["class_name"] as? String else { throw Failure(message: "\(source): model_config has no class_name") }
        var body = config["config"]
        let sequential = className == "Sequential"
        guard sequential || className == "Model" || className == "Functional" else {
            throw Failure(message: "\(source): model class '\(className)' (graft reads Sequential and Functional models)")
        }
        if let list = body as? [Any] { body = ["layers": list] }
        guard let dictionary = body as? [String: Any], let entries = dictionary["layers"] as? [[String: Any]] else {
            throw Failure(message: "\(source): model_config has no layer list")
        }
        guard entries.count <= 10_000 else { throw Failure(message: "\(source): more than 10,000 layers") }
        var result: [LayerSpec] = []
        for (index, entry) in entries.enumerated() {
            let layerClass = entry["class_name"] as? String ?? "?"
            let layerConfig = entry["config"] as? [String: Any] ?? [:]
            let layerName = entry["name"] as? String ?? layerConfig["name"] as? String ?? "layer_\(index)"
            if let module = entry["module"] as? String, !module.hasPrefix("keras") {
                throw Failure(message: "layer '\(layerName)' comes from module '\(module)': graft refuses custom layers (they would run code)")
            }
            guard supported.contains(layerClass) else {
                let why = ["Lambda", "TFOpLambda", "SlicingOpLambda"].contains(layerClass) ? " (it would run code; graft never runs code from a model file)" : ""
                throw Failure(message: "layer '\(layerName)' of class \(layerClass) is not supported\(why)")
            }
            var inputs: [String] = []
            if sequential {
                if let previous = result.last { inputs = [previous.name] }
            } else {
                inputs = try inbound(entry["inbound_nodes"], layer: layerName)
            }
            result.append(LayerSpec(className: layerClass, name: layerName, config: layerConfig, inputs: inputs))
        }
        return (result, sequential)
    }

    /// The names of the layers feeding this one (Keras 2 and Keras 3 forms; shared layers refused).
    static func inbound(_ value: Any?, layer: String) throws -> [String] {
        guard let nodes = value as? [Any], !nodes.isEmpty else { return [] }
        guard nodes.count == 1 else { throw Failure(message: "layer '\(layer)' is called \(nodes.count) times (shared layers are not supported)") }
        var names: [String] = []
        func collect(_ item: Any) {
            if let history = (item as? [String: Any]).flatMap({ ($0["config"] as? [String: Any])?["keras_history"] as? [Any] }),
               let name = history.first as? String {
                names.append(name)
            } else if let list = item as? [Any], let name = list.first as? String, list.count >= 3 {
                names.append(name)                                   // Keras 2: [name, node, tensor, kwargs]
            } else if let list = item as? [Any] {
                list.forEach(collect)
            } else if let dictionary = item as? [String: Any], let args = dictionary["args"] {
                collect(args)
            }
        }
        collect(nodes[0])
        return names
    }

    static func ints(_ value: Any?, count: Int = 2) -> [Int]? {
        if let single = value as? Int { return [Int](repeating: single, count: count) }
        return (value as? [Any])?.compactMap { $0 as? Int }
    }

    static func build(_ config: [String: Any], weights: [String: [(String, Tensor)]], source: String, modelName: String) throws -> Model {
        let (specs, sequential) = try layers(of: config, source: source)
        guard let first = specs.first else { throw Failure(message: "\(source): the model has no layers") }
        // The input: an InputLayer, or the first Sequential layer's batch_input_shape.
        let inputConfig = first.className == "InputLayer" ? first.config : first.config
        guard let batchShape = (inputConfig["batch_input_shape"] ?? inputConfig["batch_shape"]) as? [Any], batchShape.count >= 2 else {
            throw Failure(message: "\(source): the input shape is not recorded")
        }
        let dims = batchShape.dropFirst().map { $0 as? Int }
        guard dims.allSatisfy({ $0 != nil }) else {
            throw Failure(message: "\(source): the input has free dimensions \(batchShape); graft needs a fixed input size")
        }
        let hwc = dims.compactMap { $0 }
        let inputShape = hwc.count == 3 ? [hwc[2], hwc[0], hwc[1]] : hwc
        var builder = try GraphBuilder(inputShape: inputShape, inputName: first.className == "InputLayer" ? first.name : "input")
        var output: [String: Int] = [:]
        if first.className == "InputLayer" { output[first.name] = builder.input }
        var assignments: [(Parameter, Tensor, String)] = []
        var bufferAssignments: [(Tensor, Tensor)] = []
        let generator = Generator(seed: 0)

        for spec in specs where spec.className != "InputLayer" {
            let inputs: [Int]
            if sequential && output.isEmpty {
                inputs = [builder.input]
            } else {
                inputs = try spec.inputs.map { name in
                    guard let index = output[name] else { throw Failure(message: "layer '\(spec.name)' reads '\(name)', which is not defined before it") }
                    return index
                }
            }
            guard let firstInput = inputs.first else { throw Failure(message: "layer '\(spec.name)' has no inputs") }
            let inShape = builder.shape(of: firstInput)
            let c = spec.config
            let w = weights[spec.name] ?? []
            func weight(_ suffix: String) -> Tensor? { w.first { $0.0 == suffix || $0.0.hasSuffix("/" + suffix) }?.1 }
            func padding() -> PaddingMode { (c["padding"] as? String) == "same" ? .same : .valid }
            func checkChannelsLast() throws {
                if let format = c["data_format"] as? String, format != "channels_last" {
                    throw Failure(message: "layer '\(spec.name)': data_format \(format) is not supported")
                }
            }
            var last: Int
            switch spec.className {
            case "Conv2D", "DepthwiseConv2D", "SeparableConv2D":
                try checkChannelsLast()
                let kernel = ints(c["kernel_size"]) ?? [1, 1], strides = ints(c["strides"]) ?? [1, 1], dilation = ints(c["dilation_rate"]) ?? [1, 1]
                guard inShape.count == 3 else { throw Failure(message: "layer '\(spec.name)' needs an image input, got \(inShape)") }
                let channels = inShape[0]
                let useBias = c["use_bias"] as? Bool ?? true
                if spec.className == "SeparableConv2D" {
                    let filters = c["filters"] as? Int ?? 0, multiplier = c["depth_multiplier"] as? Int ?? 1
                    let layer = try SeparableConv2d(channels, filters, kernel: (kernel[0], kernel[1]), stride: (strides[0], strides[1]), padding: padding(),
                                                    depthMultiplier: multiplier, bias: useBias, generator: generator)
                    last = try builder.add(layer, name: spec.name, inputs: inputs)
                    guard let depthwise = weight("depthwise_kernel"), let pointwise = weight("pointwise_kernel") else { throw missing(spec) }
                    assignments.append((layer.parameters[0].parameter, try depthwise.permuted([2, 3, 0, 1]).reshaped([channels * multiplier, 1, kernel[0], kernel[1]]), spec.name))
                    assignments.append((layer.parameters[1].parameter, try pointwise.permuted([3, 2, 0, 1]), spec.name))
                    if useBias, let bias = weight("bias") { assignments.append((layer.parameters[2].parameter, bias, spec.name)) }
                } else {
                    let depthwise = spec.className == "DepthwiseConv2D"
                    let multiplier = c["depth_multiplier"] as? Int ?? 1
                    let filters = depthwise ? channels * multiplier : (c["filters"] as? Int ?? 0)
                    let layer = try Conv2d(channels, filters, kernel: (kernel[0], kernel[1]), stride: (strides[0], strides[1]), padding: padding(),
                                           dilation: (dilation[0], dilation[1]), groups: depthwise ? channels : (c["groups"] as? Int ?? 1), bias: useBias,
                                           generator: generator)
                    last = try builder.add(layer, name: spec.name, inputs: inputs)
                    guard let kernelValues = weight(depthwise ? "depthwise_kernel" : "kernel") else { throw missing(spec) }
                    let converted = depthwise ? try kernelValues.permuted([2, 3, 0, 1]).reshaped([filters, 1, kernel[0], kernel[1]])
                                              : try kernelValues.permuted([3, 2, 0, 1])
                    assignments.append((layer.parameters[0].parameter, converted, spec.name))
                    if useBias, let bias = weight("bias") { assignments.append((layer.parameters[1].parameter, bias, spec.name)) }
                }
                last = try activation(c["activation"], after: last, name: spec.name, builder: &builder)
            case "Dense":
                let units = c["units"] as? Int ?? 0
                guard inShape.count == 1 else { throw Failure(message: "layer '\(spec.name)': Dense on a rank-\(inShape.count) input is not supported (add a Flatten)") }
                let useBias = c["use_bias"] as? Bool ?? true
                let layer = try Dense(inShape[0], units, bias: useBias, generator: generator)
                last = try builder.add(layer, name: spec.name, inputs: inputs)
                guard let kernel = weight("kernel") else { throw missing(spec) }
                assignments.append((layer.parameters[0].parameter, try kernel.transposed(), spec.name))
                if useBias, let bias = weight("bias") { assignments.append((layer.parameters[1].parameter, bias, spec.name)) }
                last = try activation(c["activation"], after: last, name: spec.name, builder: &builder)
            case "BatchNormalization":
                let axis = (c["axis"] as? Int) ?? ((c["axis"] as? [Int])?.first ?? -1)
                guard axis == -1 || axis == inShape.count else { throw Failure(message: "layer '\(spec.name)': BatchNormalization over axis \(axis) is not supported") }
                let keras = Float(c["momentum"] as? Double ?? 0.99)
                let layer = try BatchNorm(inShape[0], epsilon: Float(c["epsilon"] as? Double ?? 1e-3), momentum: 1 - keras,
                                          kind: inShape.count == 3 ? "BatchNorm2d" : "BatchNorm1d")
                last = try builder.add(layer, name: spec.name, inputs: inputs)
                let channels = inShape[0]
                let ones = try Tensor.ones([channels]), zeros = try Tensor.zeros([channels])
                assignments.append((layer.parameters[0].parameter, weight("gamma") ?? ones, spec.name))
                assignments.append((layer.parameters[1].parameter, weight("beta") ?? zeros, spec.name))
                guard let mean = weight("moving_mean"), let variance = weight("moving_variance") else { throw missing(spec) }
                bufferAssignments.append((layer.buffers[0].tensor, mean))
                bufferAssignments.append((layer.buffers[1].tensor, variance))
            case "Activation":
                last = try activation(c["activation"], after: inputs[0], name: spec.name, builder: &builder, nameItself: true)
            case "ReLU":
                let maxValue = c["max_value"] as? Double, slope = c["negative_slope"] as? Double ?? 0
                if (c["threshold"] as? Double ?? 0) != 0 { throw Failure(message: "layer '\(spec.name)': ReLU with a threshold is not supported") }
                let function: Activation.Function = maxValue == 6 && slope == 0 ? .relu6 : (slope != 0 && maxValue == nil ? .leakyRelu(Float(slope)) : .relu)
                if maxValue != nil && maxValue != 6 { throw Failure(message: "layer '\(spec.name)': ReLU capped at \(maxValue ?? 0) is not supported") }
                last = try builder.add(Activation(function), name: spec.name, inputs: inputs)
            case "LeakyReLU":
                last = try builder.add(Activation(.leakyRelu(Float(c["alpha"] as? Double ?? c["negative_slope"] as? Double ?? 0.3))), name: spec.name, inputs: inputs)
            case "MaxPooling2D", "AveragePooling2D":
                try checkChannelsLast()
                let pool = ints(c["pool_size"]) ?? [2, 2], strides = ints(c["strides"]) ?? pool
                last = try builder.add(try Pool2d(spec.className == "MaxPooling2D" ? .max : .average, kernel: (pool[0], pool[1]), stride: (strides[0], strides[1]),
                                                  padding: padding(), countPadding: false), name: spec.name, inputs: inputs)
            case "GlobalAveragePooling2D", "GlobalMaxPooling2D":
                try checkChannelsLast()
                if c["keepdims"] as? Bool == true { throw Failure(message: "layer '\(spec.name)': keepdims is not supported") }
                last = try builder.add(GlobalPool2d(spec.className == "GlobalMaxPooling2D" ? .max : .average), name: spec.name, inputs: inputs)
            case "Add": last = try builder.add(Merge(.add), name: spec.name, inputs: inputs)
            case "Multiply": last = try builder.add(Merge(.multiply), name: spec.name, inputs: inputs)
            case "Concatenate":
                let axis = c["axis"] as? Int ?? -1
                guard axis == -1 || axis == inShape.count else { throw Failure(message: "layer '\(spec.name)': concatenation along axis \(axis) is not supported (only channels)") }
                last = try builder.add(Merge(.concatenate), name: spec.name, inputs: inputs)
            case "Dropout", "SpatialDropout2D":
                last = try builder.add(try Dropout(Float(c["rate"] as? Double ?? 0)), name: spec.name, inputs: inputs)
            case "Flatten":
                // Keras flattens channels-last: permute [C, H, W] to [H, W, C] first, so the order (and any Dense after it) matches.
                if inShape.count == 3 {
                    let permuted = try builder.add(try Permute([1, 2, 0]), name: spec.name + ".channels_last", inputs: inputs)
                    last = try builder.add(Flatten(), name: spec.name, inputs: [permuted])
                } else {
                    last = try builder.add(Flatten(), name: spec.name, inputs: inputs)
                }
            case "Reshape":
                guard let target = c["target_shape"] as? [Int] else { throw missing(spec) }
                guard inShape.count == 1 && target.count == 1 || target.count == 3 && inShape.count == 1 else {
                    throw Failure(message: "layer '\(spec.name)': Reshape from \(inShape) to \(target) is not supported")
                }
                if target.count == 3 {
                    // Keras target [H, W, C] channels-last: reshape to [H, W, C], then permute to graft's [C, H, W].
                    let reshaped = try builder.add(try Reshape(target), name: spec.name + ".channels_last", inputs: inputs)
                    last = try builder.add(try Permute([2, 0, 1]), name: spec.name, inputs: [reshaped])
                } else {
                    last = try builder.add(try Reshape(target), name: spec.name, inputs: inputs)
                }
            case "Permute":
                guard let dims = c["dims"] as? [Int], dims.sorted() == [1, 2, 3], inShape.count == 3 else { throw Failure(message: "layer '\(spec.name)': Permute \(c["dims"] ?? "?") is not supported") }
                // Keras dims are over channels-last axes (1: H, 2: W, 3: C); graft's sample is [C, H, W].
                let kerasToGraft = [1: 1, 2: 2, 3: 0]
                let outputKeras = dims                               // output axis i (H', W', C') takes input axis dims[i]
                let order = [outputKeras[2], outputKeras[0], outputKeras[1]].compactMap { kerasToGraft[$0] }
                last = try builder.add(try Permute(order), name: spec.name, inputs: inputs)
            case "ZeroPadding2D":
                let raw = c["padding"]
                var pad = Padding2D.zero
                if let single = raw as? Int { pad = Padding2D(single, single) }
                else if let pair = raw as? [Any], pair.count == 2 {
                    if let h = pair[0] as? Int, let w = pair[1] as? Int { pad = Padding2D(h, w) }
                    else if let h = pair[0] as? [Int], let w = pair[1] as? [Int], h.count == 2, w.count == 2 {
                        pad = Padding2D(top: h[0], bottom: h[1], left: w[0], right: w[1])
                    }
                }
                last = try builder.add(try ZeroPadding2d(pad), name: spec.name, inputs: inputs)
            case "Rescaling":
                func values(_ key: String, _ fallback: Float) -> [Float] {
                    if let number = c[key] as? Double { return [Float(number)] }
                    if let list = c[key] as? [Double] { return list.map(Float.init) }
                    return [fallback]
                }
                last = try builder.add(try Affine(scale: values("scale", 1), offset: values("offset", 0)), name: spec.name, inputs: inputs)
            default:
                throw Failure(message: "layer '\(spec.name)' of class \(spec.className) is not supported")
            }
            output[spec.name] = last
        }
        let model = builder.build(name: modelName, architecture: "keras")
        for (parameter, tensor, layer) in assignments { try parameter.assign(tensor, name: layer) }
        for (buffer, tensor) in bufferAssignments {
            guard buffer.shape == tensor.shape else { throw Failure(message: "BatchNormalization statistics of shape \(tensor.shape) for \(buffer.shape)") }
            tensor.withUnsafeBufferPointer { s in buffer.withUnsafeMutableBufferPointer { d in for i in d.indices { d[i] = s[i] } } }
        }
        let outputs = model.outputShape.last ?? 0
        model.classNames = (0..<outputs).map(String.init)
        // Keras marks non-trainable layers in the config.
        for spec in specs where (spec.config["trainable"] as? Bool) == false {
            _ = try? model.setTrainable(false, [spec.name])
        }
        return model
    }

    static func missing(_ spec: LayerSpec) -> Failure { Failure(message: "layer '\(spec.name)' (\(spec.className)) has no weights in the file") }

    /// Adds the layer's fused activation as its own node (`conv2d_7.relu`), or names the node itself for Activation layers.
    static func activation(_ value: Any?, after input: Int, name: String, builder: inout GraphBuilder, nameItself: Bool = false) throws -> Int {
        let text = (value as? String) ?? ((value as? [String: Any])?["config"] as? [String: Any])?["name"] as? String ?? "linear"
        if text == "linear" {
            if nameItself { return try builder.add(try Affine(scale: [1], offset: [0]), name: name, inputs: [input]) }
            return input
        }
        guard text != "hard_sigmoid" else { throw Failure(message: "activation 'hard_sigmoid' of '\(name)': Keras 2's (0.2·x + 0.5, clipped) is not supported") }
        guard let function = Activation.Function(name: text) else { throw Failure(message: "activation '\(text)' of layer '\(name)' is not supported") }
        return try builder.add(Activation(function), name: nameItself ? name : "\(name).\(text)", inputs: [input])
    }
}

extension KerasImporter.Failure: CustomStringConvertible { var description: String { message } }
