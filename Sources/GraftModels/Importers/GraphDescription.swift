import Foundation
import GraftData
import GraftNN
import GraftTensor

/// A model's structure without its weights, as JSON: every node's name, layer settings, inputs
/// and head mark, plus class names, flags and preprocessing. Saved in a safetensors header so the
/// model rebuilds exactly, surgery and all.
public struct GraphDescription: Codable, Sendable, Equatable {
    /// One layer's kind and settings, stored as `{"conv2d": {…settings…}}`: the key and config of a
    /// ``LayerKind`` in ``LayerRegistry``.
    public struct LayerConfig: Codable, Sendable, Equatable {
        public let key: String
        public let settings: any Codable & Sendable

        init<L: LayerKind>(_ layer: L) {
            key = L.key
            settings = layer.config
        }

        struct Key: CodingKey {
            let stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }

        public init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            guard container.allKeys.count == 1, let only = container.allKeys.first else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a layer needs exactly one kind"))
            }
            guard let kind = LayerRegistry.kind(only.stringValue) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown layer kind '\(only.stringValue)'"))
            }
            func decode<L: LayerKind>(_ type: L.Type) throws -> any Codable & Sendable { try container.decode(L.Config.self, forKey: only) }
            key = only.stringValue
            settings = try decode(kind)
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(settings, forKey: Key(stringValue: key))
        }

        /// A layer with these settings and fresh parameters.
        public func makeLayer() throws(ModelError) -> Layer {
            guard let kind = LayerRegistry.kind(key) else { throw .invalidArgument(what: "graph description", reason: "unknown layer kind '\(key)'") }
            func make<L: LayerKind>(_ type: L.Type) throws(ModelError) -> Layer {
                guard let config = settings as? L.Config else { throw .invalidArgument(what: "graph description", reason: "settings of '\(key)' do not fit it") }
                return try L(config: config)
            }
            return try make(kind)
        }

        public static func == (a: LayerConfig, b: LayerConfig) -> Bool {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return a.key == b.key && (try? encoder.encode(a)) == (try? encoder.encode(b))
        }
    }

    public struct Node: Codable, Sendable, Equatable {
        public let name: String
        public let layer: LayerConfig
        public let inputs: [String]
        public let head: Bool
    }

    public var nodes: [Node]
    public var architecture: String
    public var classNames: [String]
    /// Keys of the parameters that are frozen.
    public var frozen: [String]
    /// Layers without parameters that are frozen (dropout, stochastic depth, BatchNorm without affine);
    /// written by graft 0.2, read for compatibility.
    public var frozenLayers: [String]?
    /// Each layer's switches that are on (``Layer/flags``: `frozen`, `keepsStatistics`), by node name.
    public var layerFlags: [String: [String: Bool]]?
    /// `unit`, `symmetric`, `imagenet`, or per-channel mean and std.
    public var normalization: NormalizationDescription?
    /// How image files become inputs (graft 0.3 and later; absent: ImageNet's evaluation recipe).
    public var preprocessing: ImageTransform?
    /// The training augmentation the model's source file asked for (graft 0.5 and later; absent: none).
    public var sourceAugmentation: SourceAugmentation?

    public struct NormalizationDescription: Codable, Sendable, Equatable {
        public let preset: String?
        public let mean: [Float]?
        public let std: [Float]?

        init(preset: String?, mean: [Float]?, std: [Float]?) { (self.preset, self.mean, self.std) = (preset, mean, std) }

        init(_ normalization: Normalization) {
            switch normalization {
            case .unit: self.init(preset: "unit", mean: nil, std: nil)
            case .symmetric: self.init(preset: "symmetric", mean: nil, std: nil)
            case .imagenet: self.init(preset: "imagenet", mean: nil, std: nil)
            case let .custom(mean, std): self.init(preset: nil, mean: mean, std: std)
            }
        }

        /// The normalization described (nil for an unknown preset or a partial custom one).
        var value: Normalization? {
            if let preset { return try? Normalization(name: preset) }
            if let mean, let std { return .custom(mean: mean, std: std) }
            return nil
        }
    }

    public init(_ model: Model) throws(ModelError) {
        nodes = try model.nodes.map { node throws(ModelError) in
            Node(name: node.name, layer: try Self.config(of: node.layer), inputs: node.inputs.map { model.nodes[$0].name }, head: node.isHead)
        }
        architecture = model.architecture
        classNames = model.classNames
        preprocessing = model.preprocessing
        sourceAugmentation = model.sourceAugmentation
        frozen = model.parameters.filter { !$0.parameter.trainable }.map(\.key)
        frozenLayers = nil
        var flags: [String: [String: Bool]] = [:]
        for node in model.nodes {
            let on = node.layer.flags.filter(\.value)
            if !on.isEmpty { flags[node.name] = on }
        }
        layerFlags = flags
        normalization = model.normalization.map(NormalizationDescription.init)
    }

    static func config(of layer: Layer) throws(ModelError) -> LayerConfig {
        guard let described = layer as? any LayerKind else {
            throw .invalidArgument(what: "save", reason: "layer kind \(layer.kind) cannot be described")
        }
        return LayerConfig(described)
    }

    /// The model this describes, with fresh weights (the caller assigns the saved ones). Shapes are
    /// re-inferred and checked, so a tampered description fails here, not at run time.
    public func build(name: String) throws(ModelError) -> Model {
        guard let first = nodes.first, first.layer.key == Input.key, let input = try first.layer.makeLayer() as? Input else {
            throw .invalidArgument(what: "graph description", reason: "the first node must be the input")
        }
        guard nodes.count <= 100_000 else { throw .invalidArgument(what: "graph description", reason: "more than 100,000 nodes") }
        var builder = try GraphBuilder(input: input, inputName: first.name)
        var index: [String: Int] = [first.name: 0]
        for node in nodes.dropFirst() {
            var inputs: [Int] = []
            for input in node.inputs {
                guard let found = index[input] else {
                    throw .invalidArgument(what: "graph description", reason: "node '\(node.name)' reads '\(input)', which does not come before it")
                }
                inputs.append(found)
            }
            index[node.name] = try builder.add(try node.layer.makeLayer(), name: node.name, inputs: inputs, head: node.head)
        }
        let model = builder.build(name: name, architecture: architecture, classNames: classNames, normalization: normalization?.value)
        if let preprocessing {
            guard preprocessing.fits(model.inputShape) else {
                throw .invalidArgument(what: "graph description", reason: "its preprocessing (\(preprocessing.description) to \(formatShape(preprocessing.sampleShape))) does not fit the input \(formatShape(model.inputShape))")
            }
            model.preprocessing = preprocessing
        }
        model.sourceAugmentation = sourceAugmentation
        let frozenKeys = Set(frozen)
        for (key, parameter) in model.parameters where frozenKeys.contains(key) { parameter.trainable = false }
        if let layerFlags {
            for node in model.nodes { node.layer.flags = layerFlags[node.name] ?? [:] }
        } else {
            // graft 0.2's files: frozen layers by name; their BatchNorms count as pretrained.
            let frozenNames = Set(frozenLayers ?? [])
            for node in model.nodes {
                node.layer.flags = ["frozen": frozenNames.contains(node.name), "keepsStatistics": true]
            }
        }
        return model
    }
}
