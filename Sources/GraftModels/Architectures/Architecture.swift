import GraftFormats
import GraftNN
import GraftData
import GraftTensor

/// A built-in architecture, by the name users type (`new resnet50`).
///
/// Each is defined with its reference implementation's layer names, so its parameter keys are the
/// reference checkpoints' keys (torchvision's for the ImageNet CNNs), and initialized from the
/// caller's generator (He normal for convolutions, Glorot uniform for dense layers, BatchNorm at
/// identity). One family is one file, which lists its variants in `architectures`.
public struct Architecture: Sendable, Hashable, CustomStringConvertible {
    /// The name users type (`resnet50`, `mobilenet_v3_large`).
    public let rawValue: String
    /// One line for `models` and `help new`.
    public let summary: String
    public let defaultInputShape: [Int]
    public let defaultClasses: Int
    /// Whether `width=` applies (MobileNetV2's multiplier).
    let takesWidth: Bool
    /// A parameter key every checkpoint of this architecture has (a cheap first test in ``detect(_:)``).
    let anchor: String
    /// A family whose settings `fits` reads off the tensors (``VisionTransformer/detect(_:)``)
    /// instead of building each named member to compare.
    let parametric: Bool
    let make: @Sendable (_ classes: Int, _ input: [Int], _ width: Float, _ generator: Generator) throws(ModelError) -> Model

    init(_ name: String, _ summary: String, anchor: String, input: [Int] = [3, 224, 224], classes: Int = 1000, takesWidth: Bool = false,
         parametric: Bool = false,
         _ make: @escaping @Sendable (_ classes: Int, _ input: [Int], _ width: Float, _ generator: Generator) throws(ModelError) -> Model) {
        (rawValue, self.summary, self.anchor, defaultInputShape, defaultClasses, self.takesWidth, self.make) = (name, summary, anchor, input, classes, takesWidth, make)
        self.parametric = parametric
    }

    public static func == (a: Architecture, b: Architecture) -> Bool { a.rawValue == b.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }
    public var description: String { rawValue }

    public static let mnistCNN = Architecture("mnist-cnn", "small CNN for 28×28 digits: conv32-conv32-pool-dropout-dense128-dropout-dense (Keras's MNIST example)",
                                              anchor: "conv2.weight", input: [1, 28, 28], classes: 10) { classes, input, _, generator throws(ModelError) in
        try MNISTCNN.build(classes: classes, input: input, generator: generator)
    }
    public static let mobilenetV2 = Architecture("mobilenetv2", "MobileNetV2 with a width multiplier, torchvision's layout and parameter names",
                                                 anchor: "features.1.conv.0.0.weight", takesWidth: true) { classes, input, width, generator throws(ModelError) in
        try MobileNetV2.build(width: width, classes: classes, input: input, generator: generator)
    }
    public static let efficientNetLite0 = Architecture("efficientnet-lite0", "EfficientNet-Lite0 (ReLU6, no squeeze-excite, TF \"same\" padding), the keys of efficientnet-lite0.pth",
                                                       anchor: "_conv_stem.weight") {
        classes, input, _, generator throws(ModelError) in try EfficientNetLite.build(classes: classes, input: input, generator: generator)
    }
    public static var resnet18: Architecture { ResNet.named["resnet18"]! }

    /// Every built-in architecture, in the order `models` lists them.
    public static let allCases: [Architecture] = [mnistCNN] + ResNet.architectures + [mobilenetV2, efficientNetLite0]
        + TorchvisionZoo.architectures + VisionTransformer.architectures + SwinTransformer.architectures

    static let byName: [String: Architecture] = Dictionary(allCases.map { ($0.rawValue, $0) }, uniquingKeysWith: { first, _ in first })

    public init?(rawValue: String) {
        guard let found = Self.byName[rawValue] else { return nil }
        self = found
    }

    /// Finds an architecture by name (torchvision's spellings too: `mobilenet_v2`), suggesting the nearest on a typo.
    public static func named(_ name: String) throws(ModelError) -> Architecture {
        let lower = name.lowercased()
        if let found = byName[lower] { return found }
        let aliases: [String: String] = ["mobilenet_v2": "mobilenetv2", "mobilenet-v2": "mobilenetv2", "efficientnet_lite0": "efficientnet-lite0", "mnist_cnn": "mnist-cnn"]
        if let alias = aliases[lower].flatMap({ byName[$0] }) { return alias }
        if let dashed = byName[lower.replacingOccurrences(of: "-", with: "_")] { return dashed }
        let names = allCases.map(\.rawValue)
        if let near = nearest(name, in: names) { throw .invalidArgument(what: "architecture", reason: "unknown '\(name)'; did you mean '\(near)'?") }
        // The few whose names start most like it (its family), not the whole list.
        let shared = { (other: String) in zip(lower, other).prefix { $0 == $1 }.count }
        let best = names.map(shared).max() ?? 0
        let closest = best == 0 ? "" : "; closest: " + names.filter { shared($0) == best }.prefix(4).joined(separator: ", ")
        throw .invalidArgument(what: "architecture", reason: "'\(name)' is not a built-in architecture ('models' lists the \(names.count)\(closest)); a checkpoint of it loads with 'load FILE'")
    }

    /// A freshly initialized model.
    public func build(classes: Int? = nil, inputShape: [Int]? = nil, widthMultiplier: Float = 1, generator: Generator,
                      name: String? = nil) throws(ModelError) -> Model {
        let classes = classes ?? defaultClasses
        guard classes >= 2 else { throw .invalidArgument(what: "classes", reason: "must be at least 2, got \(classes)") }
        let input = inputShape ?? defaultInputShape
        guard input.count == 3 else { throw .invalidArgument(what: "input", reason: "must be CxHxW, got \(formatShape(input))") }
        guard widthMultiplier > 0, widthMultiplier <= 4 else { throw .invalidArgument(what: "width", reason: "must be in (0, 4], got \(widthMultiplier)") }
        if !takesWidth && widthMultiplier != 1 {
            throw .invalidArgument(what: "width", reason: "only mobilenetv2 takes a width multiplier")
        }
        let model = try make(classes, input, widthMultiplier, generator)
        model.name = name ?? rawValue
        model.architecture = rawValue
        // A backbone without a head (DINOv2) outputs features, not classes.
        model.classNames = model.outputShape == [classes] ? (0..<classes).map(String.init) : []
        return model
    }
}

extension Architecture {
    /// How well a state dict fits an architecture: the architecture, the class count read from its
    /// classifier, and how many of the model's tensors the file has with the right shape.
    public struct Fit: Sendable {
        public let architecture: Architecture
        public let classes: Int
        public let matching: Int
        public let expected: Int
        /// File keys the model does not have (auxiliary heads excluded).
        public let extra: Int
        public var isExact: Bool { matching == expected && extra == 0 }
    }

    /// Keys a checkpoint may carry that graft's models leave out: BatchNorm step counters, and the
    /// auxiliary classifiers of GoogLeNet and Inception v3 (used in training only), buffers graft derives.
    static func ignorable(_ key: String) -> Bool {
        key.hasSuffix(".num_batches_tracked") || key.hasPrefix("AuxLogits.") || key.hasPrefix("aux1.") || key.hasPrefix("aux2.")
            // DINOv2's mask token is for masked-image training only (Hugging Face and timm's checkpoints keep it).
            || key.hasSuffix("embeddings.mask_token") || key == "mask_token"
            // Swin's relative position index and shifted-window mask are derived from the window (graft computes them).
            || key.hasSuffix(".relative_position_index") || key.hasSuffix(".attn_mask") || key.hasSuffix(".relative_coords_table")
    }

    /// Every built-in architecture that could have written this state dict, best first: each
    /// candidate is built (structure only, no random draws) with the class count its classifier
    /// has in the file, and every key and shape compared.
    public static func fits(_ state: StateDict) -> [Fit] {
        var (shapes, all): ([String: [Int]], [String: [Int]]) = ([:], [:])
        for (key, tensor) in state.tensors {
            all[key] = tensor.shape
            if !ignorable(key) { shapes[key] = tensor.shape }
        }
        var fits: [Fit] = []
        if let detected = VisionTransformer.fit(shapes) ?? SwinTransformer.fit(shapes, derived: all) ?? TimmConvNeXt.fit(shapes) ?? ResNet.fitD(shapes) ?? TimmEfficientNet.fit(shapes)
            ?? TimmGhostNet.fit(shapes) ?? TimmReXNet.fit(shapes) {
            fits.append(detected)
        }
        for architecture in allCases where shapes[architecture.anchor] != nil && !architecture.parametric {
            func fit(classes: Int) -> (Fit, Model)? {
                guard let model = try? architecture.build(classes: classes, generator: .structureOnly()) else { return nil }
                return (Fit(architecture, model, classes: classes, shapes: shapes), model)
            }
            guard var (best, model) = fit(classes: architecture.defaultClasses) else { continue }
            // The classifier: the last parameter with a leading class axis.
            if let classifier = model.parameters.last(where: { $0.key.hasSuffix(".weight") }), let stored = shapes[classifier.key],
               let classes = stored.first, classes != best.classes, classes >= 2, let refit = fit(classes: classes) {
                (best, model) = refit
            }
            fits.append(best)
        }
        return fits.sorted { ($0.isExact ? 1 : 0, Double($0.matching) / Double(Swift.max($0.expected + $0.extra, 1))) > ($1.isExact ? 1 : 0, Double($1.matching) / Double(Swift.max($1.expected + $1.extra, 1))) }
    }
}

extension Architecture.Fit {
    /// How `model` (built as `architecture`) fits a file's tensors: how many of its parameters and
    /// buffers the file holds with their shapes, and how many of the file's it lacks.
    init(_ architecture: Architecture, _ model: Model, classes: Int, shapes: [String: [Int]]) {
        let tensors = model.parameters.map { ($0.key, $0.parameter.shape) } + model.buffers.map { ($0.key, $0.tensor.shape) }
        let known = Set(tensors.map(\.0))
        self.init(architecture: architecture, classes: classes, matching: tensors.filter { shapes[$0.0] == $0.1 }.count,
                  expected: tensors.count, extra: shapes.keys.filter { !known.contains($0) }.count)
    }
}
