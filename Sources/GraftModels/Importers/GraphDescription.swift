import Foundation
import GraftData
import GraftNN
import GraftTensor

/// A model's structure without its weights, as JSON: every node's name, layer settings, inputs
/// and head mark, plus class names, flags and preprocessing. Saved in a safetensors header so the
/// model rebuilds exactly, surgery and all.
public struct GraphDescription: Codable, Sendable, Equatable {
    public enum LayerConfig: Codable, Sendable, Equatable {
        case input(shape: [Int])
        case dense(inFeatures: Int, outFeatures: Int, bias: Bool, kind: String)
        case conv2d(inChannels: Int, outChannels: Int, kernel: [Int], stride: [Int], padding: [Int]?, dilation: [Int], groups: Int, bias: Bool, kind: String)
        case separableConv2d(inChannels: Int, outChannels: Int, kernel: [Int], stride: [Int], padding: [Int]?, multiplier: Int, bias: Bool)
        case batchNorm(channels: Int, epsilon: Float, momentum: Float, affine: Bool, kind: String)
        case pool2d(max: Bool, kernel: [Int], stride: [Int], padding: [Int]?, countPadding: Bool)
        case globalPool2d(max: Bool)
        case activation(name: String, slope: Float?)
        case dropout(p: Float)
        case dropPath(p: Float)
        case flatten
        case reshape(target: [Int])
        case zeroPadding2d(padding: [Int])
        case merge(function: String)
        case permute(order: [Int])
        case affine(scale: [Float], offset: [Float])
        case constantOp(function: String, shape: [Int], scalar: Float?)
        case clamp(low: Float, high: Float)
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

    public struct NormalizationDescription: Codable, Sendable, Equatable {
        public let preset: String?
        public let mean: [Float]?
        public let std: [Float]?
    }

    public init(_ model: Model) throws(ModelError) {
        nodes = try model.nodes.map { node throws(ModelError) in
            Node(name: node.name, layer: try Self.config(of: node.layer), inputs: node.inputs.map { model.nodes[$0].name }, head: node.isHead)
        }
        architecture = model.architecture
        classNames = model.classNames
        frozen = model.parameters.filter { !$0.parameter.trainable }.map(\.key)
        frozenLayers = nil
        var flags: [String: [String: Bool]] = [:]
        for node in model.nodes {
            let on = node.layer.flags.filter(\.value)
            if !on.isEmpty { flags[node.name] = on }
        }
        layerFlags = flags
        switch model.normalization {
        case nil: normalization = nil
        case .unit?: normalization = NormalizationDescription(preset: "unit", mean: nil, std: nil)
        case .symmetric?: normalization = NormalizationDescription(preset: "symmetric", mean: nil, std: nil)
        case .imagenet?: normalization = NormalizationDescription(preset: "imagenet", mean: nil, std: nil)
        case let .custom(mean, std)?: normalization = NormalizationDescription(preset: nil, mean: mean, std: std)
        }
    }

    static func padding(_ mode: PaddingMode) -> [Int]? {
        switch mode {
        case .same: return nil
        case let .explicit(p): return [p.top, p.bottom, p.left, p.right]
        }
    }

    static func paddingMode(_ values: [Int]?) throws(ModelError) -> PaddingMode {
        guard let values else { return .same }
        guard values.count == 4 else { throw .invalidArgument(what: "graph description", reason: "padding needs 4 values") }
        return .explicit(Padding2D(top: values[0], bottom: values[1], left: values[2], right: values[3]))
    }

    static func config(of layer: Layer) throws(ModelError) -> LayerConfig {
        switch layer {
        case let l as Input: return .input(shape: l.shape)
        case let l as Dense: return .dense(inFeatures: l.inFeatures, outFeatures: l.outFeatures, bias: l.parameters.count > 1, kind: l.kind)
        case let l as Conv2d:
            return .conv2d(inChannels: l.inChannels, outChannels: l.outChannels, kernel: [l.kernel.0, l.kernel.1], stride: [l.stride.0, l.stride.1],
                           padding: padding(l.padding), dilation: [l.dilation.0, l.dilation.1], groups: l.groups, bias: l.parameters.count > 1, kind: l.kind)
        case let l as SeparableConv2d:
            return .separableConv2d(inChannels: l.inChannels, outChannels: l.outChannels, kernel: [l.kernel.0, l.kernel.1],
                                    stride: [l.stride.0, l.stride.1], padding: padding(l.padding), multiplier: l.depthMultiplier, bias: l.parameters.count > 2)
        case let l as BatchNorm: return .batchNorm(channels: l.channels, epsilon: l.epsilon, momentum: l.momentum, affine: !l.parameters.isEmpty, kind: l.kind)
        case let l as Pool2d:
            return .pool2d(max: l.function == .max, kernel: [l.kernel.0, l.kernel.1], stride: [l.stride.0, l.stride.1], padding: padding(l.padding), countPadding: l.countPadding)
        case let l as GlobalPool2d: return .globalPool2d(max: l.function == .max)
        case let l as Activation:
            if case let .leakyRelu(slope) = l.function { return .activation(name: "leakyrelu", slope: slope) }
            return .activation(name: l.kind.lowercased(), slope: nil)
        case let l as Dropout: return .dropout(p: l.p)
        case let l as DropPath: return .dropPath(p: l.p)
        case is Flatten: return .flatten
        case let l as Reshape: return .reshape(target: l.target)
        case let l as ZeroPadding2d: return .zeroPadding2d(padding: [l.padding.top, l.padding.bottom, l.padding.left, l.padding.right])
        case let l as Merge: return .merge(function: l.function == .concatenate ? "concat" : l.function.rawValue)
        case let l as ConstantOp: return .constantOp(function: l.function.rawValue, shape: l.constant.shape, scalar: l.scalar)
        case let l as Clamp: return .clamp(low: l.low, high: l.high)
        case let l as Permute: return .permute(order: l.order)
        case let l as Affine: return .affine(scale: l.scale, offset: l.offset)
        default: throw .invalidArgument(what: "save", reason: "layer kind \(layer.kind) cannot be described")
        }
    }

    static func pair(_ values: [Int], _ what: String) throws(ModelError) -> (Int, Int) {
        guard values.count == 2 else { throw .invalidArgument(what: "graph description", reason: "\(what) needs 2 values, got \(values)") }
        return (values[0], values[1])
    }

    static func layer(_ config: LayerConfig, generator: Generator) throws(ModelError) -> Layer {
        switch config {
        case let .input(shape): return try Input(shape)
        case let .dense(i, o, bias, kind): return try Dense(i, o, bias: bias, generator: generator, kind: kind)
        case let .conv2d(i, o, kernel, stride, padding, dilation, groups, bias, kind):
            return try Conv2d(i, o, kernel: try pair(kernel, "kernel"), stride: try pair(stride, "stride"), padding: try paddingMode(padding),
                              dilation: try pair(dilation, "dilation"), groups: groups, bias: bias, generator: generator, kind: kind)
        case let .separableConv2d(i, o, kernel, stride, padding, multiplier, bias):
            return try SeparableConv2d(i, o, kernel: try pair(kernel, "kernel"), stride: try pair(stride, "stride"), padding: try paddingMode(padding),
                                       depthMultiplier: multiplier, bias: bias, generator: generator)
        case let .batchNorm(channels, epsilon, momentum, affine, kind): return try BatchNorm(channels, epsilon: epsilon, momentum: momentum, affine: affine, kind: kind)
        case let .pool2d(max, kernel, stride, padding, countPadding):
            return try Pool2d(max ? .max : .average, kernel: try pair(kernel, "kernel"), stride: try pair(stride, "stride"),
                              padding: try paddingMode(padding), countPadding: countPadding)
        case let .globalPool2d(max): return GlobalPool2d(max ? .max : .average)
        case let .activation(name, slope):
            if name == "leakyrelu" { return Activation(.leakyRelu(slope ?? 0.01)) }
            guard let function = Activation.Function(name: name) else { throw .invalidArgument(what: "graph description", reason: "unknown activation '\(name)'") }
            return Activation(function)
        case let .dropout(p): return try Dropout(p)
        case let .dropPath(p): return try DropPath(p)
        case .flatten: return Flatten()
        case let .reshape(target): return try Reshape(target)
        case let .zeroPadding2d(padding):
            guard padding.count == 4 else { throw .invalidArgument(what: "graph description", reason: "padding needs 4 values") }
            return try ZeroPadding2d(Padding2D(top: padding[0], bottom: padding[1], left: padding[2], right: padding[3]))
        case let .permute(order): return try Permute(order)
        case let .affine(scale, offset): return try Affine(scale: scale, offset: offset)
        case let .merge(function):
            if function == "concat" { return Merge(.concatenate) }
            guard let f = Merge.Function(rawValue: function) else { throw .invalidArgument(what: "graph description", reason: "unknown merge '\(function)'") }
            return Merge(f)
        case let .constantOp(function, shape, scalar):
            guard let f = ConstantOp.Function(rawValue: function) else { throw .invalidArgument(what: "graph description", reason: "unknown op '\(function)'") }
            guard shape.count <= 8, shape.allSatisfy({ $0 > 0 && $0 <= 1 << 24 }) else { throw .invalidArgument(what: "graph description", reason: "bad constant shape \(shape)") }
            let constant: Tensor
            if let scalar { constant = Tensor(scalar) } else {
                do { constant = try Tensor.zeros(shape) } catch { throw .tensor(layer: "constant", error: error) }
            }
            return try ConstantOp(f, constant: constant)
        case let .clamp(low, high): return try Clamp(low: low, high: high)
        }
    }

    /// The model this describes, with fresh weights (the caller assigns the saved ones). Shapes are
    /// re-inferred and checked, so a tampered description fails here, not at run time.
    public func build(name: String) throws(ModelError) -> Model {
        guard let first = nodes.first, case let .input(shape) = first.layer else {
            throw .invalidArgument(what: "graph description", reason: "the first node must be the input")
        }
        guard nodes.count <= 100_000 else { throw .invalidArgument(what: "graph description", reason: "more than 100,000 nodes") }
        let generator = Generator(seed: 0)
        var builder = try GraphBuilder(inputShape: shape, inputName: first.name)
        var index: [String: Int] = [first.name: 0]
        for node in nodes.dropFirst() {
            var inputs: [Int] = []
            for input in node.inputs {
                guard let found = index[input] else {
                    throw .invalidArgument(what: "graph description", reason: "node '\(node.name)' reads '\(input)', which does not come before it")
                }
                inputs.append(found)
            }
            index[node.name] = try builder.add(try Self.layer(node.layer, generator: generator), name: node.name, inputs: inputs, head: node.head)
        }
        var normalizationValue: Normalization? = nil
        if let n = normalization {
            if let preset = n.preset { normalizationValue = try? Normalization(name: preset) }
            else if let mean = n.mean, let std = n.std { normalizationValue = .custom(mean: mean, std: std) }
        }
        let model = builder.build(name: name, architecture: architecture, classNames: classNames, normalization: normalizationValue)
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
