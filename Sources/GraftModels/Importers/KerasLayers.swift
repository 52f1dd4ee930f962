import Foundation
import GraftFormats
import GraftNN
import GraftTensor

extension KerasImporter {
    /// One Keras layer as its handler sees it: its config, its inputs (graft nodes), its variables
    /// under canonical names, and the graph being built.
    struct LayerContext {
        let spec: LayerSpec
        let inputs: [Int]
        let weights: [String: Tensor]
        let state: BuildState

        var name: String { spec.name }
        var config: [String: Any] { spec.config }
        /// The first input's shape in graft's layout ([C, H, W] for images).
        var inShape: [Int] { state.builder.shape(of: inputs[0]) }

        func fail(_ reason: String) -> Failure { Failure(message: "layer '\(name)' (\(spec.className)): \(reason)") }

        func weight(_ key: String) throws -> Tensor {
            guard let tensor = weights[key] else { throw fail("no '\(key)' weight in the file") }
            return tensor
        }

        /// Adds `layer` (named after the Keras layer unless `suffix` names a helper node).
        @discardableResult
        func add(_ layer: Layer, suffix: String? = nil, inputs: [Int]? = nil) throws -> Int {
            try state.builder.add(layer, name: suffix.map { "\(name).\($0)" } ?? name, inputs: inputs ?? self.inputs)
        }

        func assign(_ parameter: Parameter?, _ tensor: Tensor) throws {
            guard let parameter else { throw fail("has no parameter for a weight of shape \(tensor.shape)") }
            state.assign(parameter, tensor.shape == parameter.shape ? tensor : try tensor.reshaped(parameter.shape), layer: name)
        }

        func assignBuffer(_ buffer: Tensor, _ tensor: Tensor) { state.copy(into: buffer, tensor, layer: name) }

        func bool(_ key: String, _ fallback: Bool) -> Bool { config[key] as? Bool ?? fallback }
        func int(_ key: String, _ fallback: Int) -> Int { config[key] as? Int ?? fallback }
        func float(_ key: String, _ fallback: Float) -> Float { (config[key] as? Double).map(Float.init) ?? fallback }

        /// A pair setting (`kernel_size: 3` or `[3, 3]`).
        func pair(_ key: String, _ fallback: (Int, Int)) throws -> (Int, Int) {
            guard let value = config[key], !(value is NSNull) else { return fallback }
            if let single = value as? Int { return (single, single) }
            if let list = value as? [Any], list.count == 2, let a = list[0] as? Int, let b = list[1] as? Int { return (a, b) }
            throw fail("\(key) \(value) is not one or two integers")
        }

        func padding() throws -> PaddingMode {
            switch config["padding"] as? String ?? "valid" {
            case "same": return .same
            case "valid": return .valid
            case let other: throw fail("padding '\(other)' is not supported")
            }
        }

        func checkChannelsLast() throws {
            if let format = config["data_format"] as? String, format != "channels_last" {
                throw fail("data_format \(format) is not supported")
            }
        }

        func image() throws -> [Int] {
            guard inShape.count == 3 else { throw fail("needs an image input, got \(inShape)") }
            return inShape
        }

        /// The channel axis of a channels-last Keras tensor (`axis` -1, or the last axis by number).
        func requireChannelAxis(_ key: String = "axis") throws {
            var axes: [Int] = []
            if let single = config[key] as? Int { axes = [single] } else if let list = config[key] as? [Int] { axes = list } else if config[key] == nil { axes = [-1] }
            guard axes.count == 1, axes[0] == -1 || axes[0] == inShape.count else {
                throw fail("\(key) \(config[key] ?? "?") is not the channel axis (graft normalizes and concatenates over channels)")
            }
        }

        /// The fused `activation` setting as a node of its own (`conv1.relu`); the layer itself when it is `linear`.
        func fusedActivation(after node: Int) throws -> Int {
            try activation(config["activation"], after: node, name: nil)
        }

        /// A Keras activation (by name, or as a serialized function) after `node`, named `name.function`
        /// (or the layer's own name when `name` is nil and the layer is an Activation).
        func activation(_ value: Any?, after node: Int, name nodeName: String?, ownNode: Bool = false) throws -> Int {
            var text = value as? String ?? "linear"
            if let dictionary = value as? [String: Any] {
                text = dictionary["config"] as? String ?? (dictionary["config"] as? [String: Any])?["name"] as? String ?? dictionary["class_name"] as? String ?? "?"
            }
            let suffix: String? = ownNode ? nil : text
            switch text {
            case "linear":
                return ownNode ? try add(try Affine(scale: [1], offset: [0]), inputs: [node]) : node
            case "hard_sigmoid" where !state.keras3:
                // tf-keras and Keras 2: clip(0.2·x + 0.5, 0, 1).
                let scaled = try add(try Affine(scale: [0.2], offset: [0.5]), suffix: (suffix ?? "hard_sigmoid") + ".affine", inputs: [node])
                return try add(try Clamp(low: 0, high: 1), suffix: suffix, inputs: [scaled])
            case "hard_silu", "hard_swish":
                return try add(Activation(.hardswish), suffix: suffix, inputs: [node])
            default:
                guard let function = Activation.Function(name: text) else { throw fail("activation '\(text)' is not supported") }
                return try add(Activation(function), suffix: suffix, inputs: [node])
            }
        }
    }

    /// How graft rebuilds one Keras class: the variables it stores (canonical names in creation
    /// order, for its config) and the nodes it becomes.
    struct LayerHandler {
        var variables: ([String: Any]) -> [String] = { _ in [] }
        let build: (LayerContext) throws -> Int
    }

    static func bias(_ config: [String: Any]) -> [String] { config["use_bias"] as? Bool ?? true ? ["bias"] : [] }
    static func normalizationVariables(_ config: [String: Any], statistics: Bool) -> [String] {
        (config["scale"] as? Bool ?? true ? ["gamma"] : []) + (config["center"] as? Bool ?? true ? ["beta"] : [])
            + (statistics ? ["moving_mean", "moving_variance"] : [])
    }

    /// Every Keras class graft reads, by class name.
    nonisolated(unsafe) static let handlers: [String: LayerHandler] = [
        "InputLayer": LayerHandler { c in c.inputs[0] },
        "Conv2D": LayerHandler(variables: { ["kernel"] + bias($0) }, build: conv2D),
        "DepthwiseConv2D": LayerHandler(variables: { ["depthwise_kernel"] + bias($0) }, build: depthwiseConv2D),
        "SeparableConv2D": LayerHandler(variables: { ["depthwise_kernel", "pointwise_kernel"] + bias($0) }, build: separableConv2D),
        "Dense": LayerHandler(variables: { ["kernel"] + bias($0) }, build: dense),
        "BatchNormalization": LayerHandler(variables: { normalizationVariables($0, statistics: true) }, build: batchNormalization),
        "LayerNormalization": LayerHandler(variables: { normalizationVariables($0, statistics: false) }, build: layerNormalization),
        "GroupNormalization": LayerHandler(variables: { normalizationVariables($0, statistics: false) }, build: groupNormalization),
        "Normalization": LayerHandler(variables: { config in
            config["mean"] == nil || config["mean"] is NSNull ? ["mean", "variance", "count"] : []
        }, build: normalization),
        "Rescaling": LayerHandler(build: rescaling),
        "Resizing": LayerHandler(build: resizing),
        "UpSampling2D": LayerHandler(build: upSampling2D),
        "UnitNormalization": LayerHandler(build: unitNormalization),
        "CenterCrop": LayerHandler(build: centerCrop),
        "Activation": LayerHandler { c in try c.activation(c.config["activation"], after: c.inputs[0], name: nil, ownNode: true) },
        "ReLU": LayerHandler(build: relu),
        "LeakyReLU": LayerHandler { c in
            try c.add(Activation(.leakyRelu(Float(c.config["alpha"] as? Double ?? c.config["negative_slope"] as? Double ?? 0.3))))
        },
        "Softmax": LayerHandler { c in
            try c.requireChannelAxis()
            return try c.add(Activation(.softmax))
        },
        "MaxPooling2D": LayerHandler { c in try pooling(c, .max) },
        "AveragePooling2D": LayerHandler { c in try pooling(c, .average) },
        "GlobalAveragePooling2D": LayerHandler { c in try globalPooling(c, .average) },
        "GlobalMaxPooling2D": LayerHandler { c in try globalPooling(c, .max) },
        "Add": LayerHandler { c in try merge(c, .add) },
        "Subtract": LayerHandler { c in try merge(c, .subtract) },
        "Multiply": LayerHandler { c in try merge(c, .multiply) },
        "Concatenate": LayerHandler { c in
            try c.requireChannelAxis()
            return try c.add(Merge(.concatenate))
        },
        "Dropout": LayerHandler(build: dropout),
        "SpatialDropout2D": LayerHandler { c in try c.add(try Dropout(c.float("rate", 0))) },
        "StochasticDepth": LayerHandler { c in try c.add(try DropPath(c.float("drop_path_rate", 0))) },
        "Flatten": LayerHandler(build: flatten),
        "Reshape": LayerHandler(build: reshape),
        "Permute": LayerHandler(build: permute),
        "ZeroPadding2D": LayerHandler { c in try c.add(try ZeroPadding2d(try edges(c, "padding"))) },
        "Cropping2D": LayerHandler { c in try c.add(try Cropping2d(try edges(c, "cropping"))) },
        "TFOpLambda": LayerHandler(build: tfOperator),
        "CustomScaleLayer": LayerHandler(build: customScale),
        "LayerScale": LayerHandler(variables: { _ in ["gamma"] }, build: layerScale),
    ].merging(augmentationLayers.map { ($0, LayerHandler(build: randomAugmentation)) }) { first, _ in first }

    /// Keras's augmentation layers: identity at inference, random only in training.
    static let augmentationLayers = [
        "RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast", "RandomBrightness", "RandomHeight", "RandomWidth",
        "RandomSaturation", "RandomHue", "RandomGrayscale", "RandomColorJitter", "RandomColorDegeneration", "RandomSharpness", "RandomShear",
        "RandomPosterization", "RandomInvert", "RandomErasing", "RandomGaussianBlur", "RandomPerspective", "RandomElasticTransform",
        "RandAugment", "AugMix", "CutMix", "MixUp", "Solarization",
    ]

    // MARK: Convolutions and dense layers

    static func conv2D(_ c: LayerContext) throws -> Int {
        try c.checkChannelsLast()
        let shape = try c.image()
        let useBias = c.bool("use_bias", true), groups = c.int("groups", 1)
        let layer = try Conv2d(shape[0], c.int("filters", 0), kernel: try c.pair("kernel_size", (1, 1)), stride: try c.pair("strides", (1, 1)),
                               padding: try c.padding(), dilation: try c.pair("dilation_rate", (1, 1)), groups: groups, bias: useBias,
                               generator: c.state.generator)
        let node = try c.add(layer)
        try c.assign(layer.weight, try c.weight("kernel").permuted([3, 2, 0, 1]))   // HWIO → OIHW
        if useBias { try c.assign(layer.bias, try c.weight("bias")) }
        return try c.fusedActivation(after: node)
    }

    static func depthwiseConv2D(_ c: LayerContext) throws -> Int {
        try c.checkChannelsLast()
        let channels = try c.image()[0]
        let multiplier = c.int("depth_multiplier", 1), useBias = c.bool("use_bias", true)
        guard (1...1024).contains(multiplier) else { throw c.fail("depth_multiplier \(multiplier) is not 1…1024") }
        let kernel = try c.pair("kernel_size", (1, 1))
        let layer = try Conv2d(channels, channels * multiplier, kernel: kernel, stride: try c.pair("strides", (1, 1)), padding: try c.padding(),
                               dilation: try c.pair("dilation_rate", (1, 1)), groups: channels, bias: useBias, generator: c.state.generator)
        let node = try c.add(layer)
        // [kh, kw, in, m] → [in·m, 1, kh, kw]: output channel g·m + k comes from input channel g.
        try c.assign(layer.weight, try c.weight("depthwise_kernel").permuted([2, 3, 0, 1]).reshaped([channels * multiplier, 1, kernel.0, kernel.1]))
        if useBias { try c.assign(layer.bias, try c.weight("bias")) }
        return try c.fusedActivation(after: node)
    }

    static func separableConv2D(_ c: LayerContext) throws -> Int {
        try c.checkChannelsLast()
        let channels = try c.image()[0]
        let multiplier = c.int("depth_multiplier", 1), useBias = c.bool("use_bias", true)
        guard (1...1024).contains(multiplier) else { throw c.fail("depth_multiplier \(multiplier) is not 1…1024") }
        let kernel = try c.pair("kernel_size", (1, 1))
        let layer = try SeparableConv2d(channels, c.int("filters", 0), kernel: kernel, stride: try c.pair("strides", (1, 1)), padding: try c.padding(),
                                        dilation: try c.pair("dilation_rate", (1, 1)), depthMultiplier: multiplier, bias: useBias, generator: c.state.generator)
        let node = try c.add(layer)
        try c.assign(layer.depthwiseWeight, try c.weight("depthwise_kernel").permuted([2, 3, 0, 1]).reshaped([channels * multiplier, 1, kernel.0, kernel.1]))
        try c.assign(layer.pointwiseWeight, try c.weight("pointwise_kernel").permuted([3, 2, 0, 1]))
        if useBias { try c.assign(layer.bias, try c.weight("bias")) }
        return try c.fusedActivation(after: node)
    }

    /// Dense on [C] features, or on the channels of an image (ConvNeXt's pointwise layers): there it
    /// is a 1×1 convolution with the same weights.
    static func dense(_ c: LayerContext) throws -> Int {
        let units = c.int("units", 0), useBias = c.bool("use_bias", true)
        let kernel = try c.weight("kernel")                                  // [in, out]
        let node: Int
        switch c.inShape.count {
        case 1:
            let layer = try Dense(c.inShape[0], units, bias: useBias, generator: c.state.generator)
            node = try c.add(layer)
            try c.assign(layer.weight, try kernel.transposed())
            if useBias { try c.assign(layer.bias, try c.weight("bias")) }
        case 3:
            let layer = try Conv2d(c.inShape[0], units, kernel: (1, 1), bias: useBias, generator: c.state.generator, kind: "Dense")
            node = try c.add(layer)
            try c.assign(layer.weight, try kernel.transposed())
            if useBias { try c.assign(layer.bias, try c.weight("bias")) }
        default:
            throw c.fail("Dense on a rank-\(c.inShape.count) input is not supported")
        }
        return try c.fusedActivation(after: node)
    }

    // MARK: Normalization

    static func batchNormalization(_ c: LayerContext) throws -> Int {
        try c.requireChannelAxis()
        let scale = c.bool("scale", true), center = c.bool("center", true)
        let layer = try BatchNorm(c.inShape[0], epsilon: c.float("epsilon", 1e-3), momentum: 1 - c.float("momentum", 0.99), scale: scale, center: center,
                                  kind: c.inShape.count == 3 ? "BatchNorm2d" : "BatchNorm1d")
        let node = try c.add(layer)
        if scale { try c.assign(layer.weight, try c.weight("gamma")) }
        if center { try c.assign(layer.bias, try c.weight("beta")) }
        c.assignBuffer(layer.runningMean, try c.weight("moving_mean"))
        c.assignBuffer(layer.runningVar, try c.weight("moving_variance"))
        return node
    }

    static func layerNormalization(_ c: LayerContext) throws -> Int {
        try c.requireChannelAxis()
        let scale = c.bool("scale", true), center = c.bool("center", true)
        let layer = try LayerNorm(c.inShape[0], epsilon: c.float("epsilon", 1e-3), scale: scale, center: center)
        let node = try c.add(layer)
        if scale { try c.assign(layer.weight, try c.weight("gamma")) }
        if center { try c.assign(layer.bias, try c.weight("beta")) }
        return node
    }

    /// Keras's GroupNormalization over the channels (`groups=-1`: one group per channel).
    static func groupNormalization(_ c: LayerContext) throws -> Int {
        try c.requireChannelAxis()
        let scale = c.bool("scale", true), center = c.bool("center", true)
        let channels = c.inShape[0], groups = c.int("groups", 32)
        let layer = try GroupNorm(channels, groups: groups == -1 ? channels : groups, epsilon: c.float("epsilon", 1e-3), scale: scale, center: center)
        let node = try c.add(layer)
        if scale { try c.assign(layer.weight, try c.weight("gamma")) }
        if center { try c.assign(layer.bias, try c.weight("beta")) }
        return node
    }

    /// (x − mean) / max(√variance, 1e-7), per channel: an affine map with the stored or configured statistics.
    static func normalization(_ c: LayerContext) throws -> Int {
        try c.requireChannelAxis()
        guard !c.bool("invert", false) else { throw c.fail("invert=True is not supported") }
        func numbers(_ value: Any?) -> [Float]? {
            if let number = value as? Double { return [Float(number)] }
            if let list = value as? [Any] { return list.flatMap { numbers($0) ?? [] } }
            return nil
        }
        let mean = try numbers(c.config["mean"]) ?? c.weight("mean").scalars
        let variance = try numbers(c.config["variance"]) ?? c.weight("variance").scalars
        let channels = c.inShape[0]
        guard [1, channels].contains(mean.count), mean.count == variance.count, variance.allSatisfy({ $0 >= 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            throw c.fail("mean and variance of \(mean.count) and \(variance.count) values do not fit \(channels) channels")
        }
        let scale = variance.map { 1 / Swift.max($0.squareRoot(), 1e-7) }
        return try c.add(try Affine(scale: scale, offset: zip(mean, scale).map { -$0 * $1 }))
    }

    static func rescaling(_ c: LayerContext) throws -> Int {
        func values(_ key: String, _ fallback: Float) throws -> [Float] {
            if let number = c.config[key] as? Double { return [Float(number)] }
            if let list = c.config[key] as? [Any] {
                let numbers = list.compactMap { $0 as? Double }.map(Float.init)
                guard numbers.count == list.count else { throw c.fail("\(key) is not a list of numbers") }
                return numbers
            }
            return [fallback]
        }
        return try c.add(try Affine(scale: try values("scale", 1), offset: try values("offset", 0)))
    }

    /// `Resizing` to a fixed size, as TensorFlow's `image.resize` does it (half-pixel centres, no
    /// antialiasing; nearest rounds a half up). Cropping or padding to the aspect ratio is refused.
    static func resizing(_ c: LayerContext) throws -> Int {
        guard let height = HuggingFaceFolder.whole(c.config["height"]), let width = HuggingFaceFolder.whole(c.config["width"]) else {
            throw c.fail("height and width must be whole numbers")
        }
        for key in ["crop_to_aspect_ratio", "pad_to_aspect_ratio"] where (c.config[key] as? Bool) == true {
            throw c.fail("\(key) is not supported")
        }
        return try c.add(try Resize(size: (height, width), mode: try resizeMode(c, "bilinear"), coordinates: .halfPixel, rounding: .roundPreferCeil))
    }

    /// `UpSampling2D`: each value repeated (nearest) or interpolated (bilinear, half-pixel) by whole factors.
    static func upSampling2D(_ c: LayerContext) throws -> Int {
        let size = (c.config["size"] as? [Any])?.compactMap { HuggingFaceFolder.whole($0) } ?? [2, 2]
        guard size.count == 2, size.allSatisfy({ (1...1024).contains($0) }) else { throw c.fail("size must be two whole factors") }
        guard (c.config["data_format"] as? String ?? "channels_last") == "channels_last" else { throw c.fail("channels_first data is not supported") }
        let mode = try resizeMode(c, "nearest")
        return try c.add(try Resize(scale: (Float(size[0]), Float(size[1])), mode: mode, coordinates: mode == .nearest ? .asymmetric : .halfPixel, rounding: .floor))
    }

    /// `UnitNormalization`: each position's channels scaled to unit length. Keras 3 computes
    /// x · min(1/√Σx², 10¹²) (ε = 1e-12 on the length), tf-keras `l2_normalize`'s x / √max(Σx², 10⁻¹²) (ε = 1e-6).
    static func unitNormalization(_ c: LayerContext) throws -> Int {
        try c.requireChannelAxis()
        return try c.add(try UnitNorm(epsilon: c.state.keras3 ? 1e-12 : 1e-6))
    }

    /// `CenterCrop` of an image at least as large as the crop (Keras offsets by ⌊(size − crop) / 2⌋;
    /// it resizes a smaller image first, which is refused here).
    static func centerCrop(_ c: LayerContext) throws -> Int {
        let shape = try c.image()
        guard let height = HuggingFaceFolder.whole(c.config["height"]), let width = HuggingFaceFolder.whole(c.config["width"]), height >= 1, width >= 1 else {
            throw c.fail("height and width must be whole numbers ≥ 1")
        }
        guard height <= shape[1], width <= shape[2] else {
            throw c.fail("a \(height)×\(width) crop of a \(shape[1])×\(shape[2]) image resizes it first, which is not supported")
        }
        let top = (shape[1] - height) / 2, left = (shape[2] - width) / 2
        return try c.add(try Cropping2d(Padding2D(top: top, bottom: shape[1] - height - top, left: left, right: shape[2] - width - left)))
    }

    /// A `Random*` augmentation layer: identity at inference, so it becomes no node. What it does in
    /// training is kept as the model's ``SourceAugmentation`` where graft's `augment=` means the
    /// same (torchvision's flips, rotation and shift with a zero fill), else named as unsupported.
    static func randomAugmentation(_ c: LayerContext) throws -> Int {
        let layer = "\(c.spec.className) '\(c.spec.name)'"   // escaped where it is shown
        var augmentation = c.state.augmentation ?? SourceAugmentation()
        switch try randomAugmentationPart(c) {
        case let .success(part): augmentation.add(layer, part: part)
        case let .failure(reason): augmentation.add(layer, part: nil, unsupported: reason.message)
        }
        c.state.augmentation = augmentation
        return c.inputs[0]
    }

    struct Unsupported: Error { let message: String }

    /// graft's `augment=` part for one Keras augmentation layer, or why there is none.
    static func randomAugmentationPart(_ c: LayerContext) throws -> Result<String, Unsupported> {
        func symmetric(_ key: String) -> Double? {
            if let value = c.config[key] as? Double { return Swift.abs(value) }
            if let pair = c.config[key] as? [Any], pair.count == 2, let low = pair[0] as? Double, let high = pair[1] as? Double, low == -high { return Swift.abs(high) }
            return nil
        }
        func zeroFill() -> Unsupported? {
            let fill = c.config["fill_mode"] as? String ?? "reflect", value = c.config["fill_value"] as? Double ?? 0
            guard fill == "constant", value == 0 else {
                return Unsupported(message: "fill_mode '\(fill)'\(fill == "constant" ? " with fill_value \(value)" : ""); graft fills with zeros (fill_mode='constant', fill_value=0)")
            }
            guard (c.config["interpolation"] as? String ?? "bilinear") == "bilinear" else { return Unsupported(message: "graft interpolates bilinearly") }
            return nil
        }
        switch c.spec.className {
        case "RandomFlip":
            switch c.config["mode"] as? String ?? "horizontal_and_vertical" {
            case "horizontal": return .success("flip")
            case "vertical": return .success("vflip")
            case "horizontal_and_vertical": return .success("flip,vflip")
            case let other: return .failure(Unsupported(message: "mode '\(other)'"))
            }
        case "RandomRotation":
            guard let factor = symmetric("factor"), factor <= 0.5 else { return .failure(Unsupported(message: "graft rotates by a range symmetric about 0 of at most ±180°")) }
            if let refusal = zeroFill() { return .failure(refusal) }
            return .success("rotate=\(Double(Float(factor * 360)))")
        case "RandomTranslation":
            guard let height = symmetric("height_factor"), let width = symmetric("width_factor"), height == width, height < 1 else {
                return .failure(Unsupported(message: "graft shifts by one symmetric fraction of both the height and the width, below 1"))
            }
            if let refusal = zeroFill() { return .failure(refusal) }
            return .success("shift=\(Double(Float(height)))")
        default:
            return .failure(Unsupported(message: "graft has no augmentation with its meaning"))
        }
    }

    static func resizeMode(_ c: LayerContext, _ fallback: String) throws -> Resize.Mode {
        switch c.config["interpolation"] as? String ?? fallback {
        case "bilinear": return .bilinear
        case "nearest": return .nearest
        case let other: throw c.fail("interpolation '\(TextTable.cell(other))' is not supported (bilinear, nearest)")
        }
    }

    // MARK: Activations, pooling, shapes

    static func relu(_ c: LayerContext) throws -> Int {
        let maxValue = c.config["max_value"] as? Double, slope = c.config["negative_slope"] as? Double ?? 0
        guard (c.config["threshold"] as? Double ?? 0) == 0 else { throw c.fail("a threshold is not supported") }
        switch (maxValue, slope) {
        case (nil, 0): return try c.add(Activation(.relu))
        case (6?, 0): return try c.add(Activation(.relu6))
        case let (high?, 0): return try c.add(try Clamp(low: 0, high: Float(high)))
        case let (nil, s): return try c.add(Activation(.leakyRelu(Float(s))))
        default: throw c.fail("a capped leaky ReLU is not supported")
        }
    }

    static func pooling(_ c: LayerContext, _ kind: Pool2d.Kind) throws -> Int {
        try c.checkChannelsLast()
        _ = try c.image()
        let pool = try c.pair("pool_size", (2, 2))
        // TensorFlow's average over "same" windows divides by the pixels inside the image.
        return try c.add(try Pool2d(kind, kernel: pool, stride: try c.pair("strides", pool), padding: try c.padding(), countPadding: false))
    }

    static func globalPooling(_ c: LayerContext, _ kind: Pool2d.Kind) throws -> Int {
        try c.checkChannelsLast()
        _ = try c.image()
        return try c.add(GlobalPool2d(kind, keepDims: c.bool("keepdims", false)))
    }

    /// Dropout; with `noise_shape` (None, 1, 1, 1) it drops whole samples (EfficientNet's stochastic depth).
    static func dropout(_ c: LayerContext) throws -> Int {
        let rate = c.float("rate", 0)
        if let noise = c.config["noise_shape"] as? [Any], noise.count == c.inShape.count + 1, noise.dropFirst().allSatisfy({ ($0 as? Int) == 1 }) {
            return try c.add(try DropPath(rate))
        }
        return try c.add(try Dropout(rate))
    }

    /// Keras flattens channels-last: permute [C, H, W] to [H, W, C] first, so the order (and any Dense after it) matches.
    static func flatten(_ c: LayerContext) throws -> Int {
        guard c.inShape.count == 3 else { return try c.add(Flatten()) }
        let permuted = try c.add(try Permute([1, 2, 0]), suffix: "channels_last")
        return try c.add(Flatten(), inputs: [permuted])
    }

    /// Keras reshapes channels-last tensors: an image input is read as [H, W, C] and an image
    /// target ([H, W, C]) is made channels-first again, so the values land where Keras puts them.
    static func reshape(_ c: LayerContext) throws -> Int {
        guard let target = c.config["target_shape"] as? [Int], (1...3).contains(target.count) else { throw c.fail("no target_shape of 1 to 3 sizes") }
        var source = c.inputs[0]
        switch c.inShape.count {
        case 1: break
        case 3 where c.inShape[1] == 1 && c.inShape[2] == 1: break       // [C, 1, 1] is already in channels-last order
        case 3: source = try c.add(try Permute([1, 2, 0]), suffix: "channels_last")
        default: throw c.fail("Reshape from \(c.inShape) is not supported")
        }
        guard target.count == 3 else { return try c.add(try Reshape(target), inputs: [source]) }
        let reshaped = try c.add(try Reshape(target), suffix: "reshaped", inputs: [source])
        return try c.add(try Permute([2, 0, 1]), inputs: [reshaped])
    }

    /// Add, Subtract or Multiply of layers, or of one layer and a number (Keras 3's `x + 3.0`).
    static func merge(_ c: LayerContext, _ function: Merge.Function) throws -> Int {
        let numbers = c.spec.numbers
        guard !numbers.isEmpty else { return try c.add(Merge(function)) }
        guard c.inputs.count == 1, numbers.count == 1 else { throw c.fail("\(c.inputs.count) tensors and \(numbers.count) numbers") }
        let numberFirst: Bool
        if case .number = c.spec.operands[0] { numberFirst = true } else { numberFirst = false }
        let operation: ConstantOp.Function
        switch function {
        case .add: operation = .add
        case .multiply: operation = .multiply
        case .subtract: operation = numberFirst ? .reverseSubtract : .subtract
        default: throw c.fail("\(function) with a number is not supported")
        }
        return try c.add(try ConstantOp(operation, constant: Tensor(Float(numbers[0]))))
    }

    static func permute(_ c: LayerContext) throws -> Int {
        guard let dims = c.config["dims"] as? [Int], dims.sorted() == [1, 2, 3], c.inShape.count == 3 else {
            throw c.fail("Permute \(c.config["dims"] ?? "?") is not supported")
        }
        // Keras dims are over channels-last axes (1: H, 2: W, 3: C); graft's sample is [C, H, W].
        let kerasToGraft = [1: 1, 2: 2, 3: 0]
        return try c.add(try Permute([dims[2], dims[0], dims[1]].compactMap { kerasToGraft[$0] }))
    }

    /// `padding`/`cropping`: n, (h, w) or ((top, bottom), (left, right)).
    static func edges(_ c: LayerContext, _ key: String) throws -> Padding2D {
        let raw = c.config[key]
        if let single = raw as? Int { return Padding2D(single, single) }
        if let pair = raw as? [Any], pair.count == 2 {
            if let h = pair[0] as? Int, let w = pair[1] as? Int { return Padding2D(h, w) }
            if let h = pair[0] as? [Int], let w = pair[1] as? [Int], h.count == 2, w.count == 2 {
                return Padding2D(top: h[0], bottom: h[1], left: w[0], right: w[1])
            }
        }
        throw c.fail("\(key) \(raw ?? "nil") is not supported")
    }

    // MARK: Layers of keras.applications

    /// tf-keras records `x + 3.0` and `x * (1/6)` (MobileNetV3's hard sigmoid) as TFOpLambda layers
    /// naming a TensorFlow function; graft rebuilds the arithmetic ones with a constant operand.
    static func tfOperator(_ c: LayerContext) throws -> Int {
        let function = c.config["function"] as? String ?? "?"
        let operations: [String: ConstantOp.Function] = [
            "__operators__.add": .add, "math.add": .add, "math.multiply": .multiply, "math.subtract": .subtract,
            "math.truediv": .divide, "math.divide": .divide,
        ]
        let merges: [ConstantOp.Function: Merge.Function] = [.add: .add, .multiply: .multiply, .subtract: .subtract, .divide: .divide]
        if let operation = operations[function], c.inputs.count == 2, let merge = merges[operation] {
            return try c.add(Merge(merge))
        }
        guard let operation = operations[function], c.inputs.count == 1, let y = c.spec.callArguments["y"] as? Double else {
            throw c.fail("TensorFlow function '\(function)' is not supported (graft rebuilds arithmetic on layers and constants, never runs code)")
        }
        return try c.add(try ConstantOp(operation, constant: Tensor(Float(y))))
    }

    /// InceptionResNetV2's residual: inputs[0] + inputs[1] · scale.
    static func customScale(_ c: LayerContext) throws -> Int {
        guard c.inputs.count == 2, let scale = c.config["scale"] as? Double else { throw c.fail("needs two inputs and a scale") }
        let scaled = try c.add(try ConstantOp(.multiply, constant: Tensor(Float(scale))), suffix: "scale", inputs: [c.inputs[1]])
        return try c.add(Merge(.add), inputs: [c.inputs[0], scaled])
    }

    /// ConvNeXt's layer scale: x · γ per channel.
    static func layerScale(_ c: LayerContext) throws -> Int {
        let gamma = try c.weight("gamma")
        let channels = c.inShape[0]
        guard gamma.count == channels else { throw c.fail("γ of \(gamma.count) values for \(channels) channels") }
        let layer = try LayerScale(channels, initial: c.float("init_values", 1e-6))
        let node = try c.add(layer)
        try c.assign(layer.scale, gamma)
        return node
    }
}
