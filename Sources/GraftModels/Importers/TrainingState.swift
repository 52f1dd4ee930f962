import Foundation
import GraftFormats
import GraftNN
import GraftTensor
import GraftTraining

/// An optimizer's state as a model file keeps it (`save model optimizer=yes`, checkpoints): its
/// algorithm and settings, its step count, and each trainable parameter's moments by key.
public struct SavedOptimizer {
    public var kind: OptimizerKind
    public var weightDecay: Float
    public var steps: Int
    public var keys: [String]
    public var first: [[Float]?]
    public var second: [[Float]?]

    /// Metadata key and tensor-name prefix in graft's safetensors files.
    static let metadataKey = "graft.optimizer", prefix = "graft.optimizer/"

    /// The state of `optimizer`, whose parameters belong to `model`.
    public init(_ optimizer: Optimizer, model: Model) throws(ModelError) {
        let names = Dictionary(model.parameters.map { (ObjectIdentifier($0.parameter), $0.key) }, uniquingKeysWith: { first, _ in first })
        var keys: [String] = []
        for parameter in optimizer.parameters {
            guard let key = names[ObjectIdentifier(parameter)] else {
                throw .invalidArgument(what: "optimizer state", reason: "the optimizer updates a parameter that is not \(model.name)'s")
            }
            keys.append(key)
        }
        (kind, weightDecay, steps, self.keys) = (optimizer.kind, optimizer.weightDecay, optimizer.steps, keys)
        (first, second) = optimizer.moments
    }

    /// What `load` says of it: `adam after 120 steps, for 8 tensors`.
    public var description: String { "\(kind) after \(steps) step\(steps == 1 ? "" : "s"), for \(keys.count) tensor\(keys.count == 1 ? "" : "s")" }

    /// An optimizer with this state over `model`'s trainable parameters, which must be the ones it was saved for.
    public func optimizer(for model: Model) throws(ModelError) -> Optimizer {
        let trainable = model.trainableParameters
        guard trainable.map(\.key) == keys else {
            throw .invalidArgument(what: "optimizer state", reason: "it is for \(keys.count) tensors (\(keys.prefix(3).joined(separator: ", "))…), \(model.name) trains \(trainable.count) (\(trainable.prefix(3).map(\.key).joined(separator: ", "))…)")
        }
        let optimizer = Optimizer(kind, parameters: trainable.map(\.parameter), weightDecay: weightDecay)
        try optimizer.restore(steps: steps, first: first, second: second)
        return optimizer
    }

    /// The settings as the file's JSON keeps them (floats by their bits, so they come back exactly).
    struct Settings: Codable {
        var kind: String
        var weightDecay: UInt32
        var steps: Int
        var keys: [String]
        var hyperparameters: [UInt32]
        var nesterov: Bool
    }

    func encode(into state: inout StateDict) throws(ModelError) {
        var settings = Settings(kind: "", weightDecay: weightDecay.bitPattern, steps: steps, keys: keys, hyperparameters: [], nesterov: false)
        switch kind {
        case let .sgd(momentum, nesterov): (settings.kind, settings.hyperparameters, settings.nesterov) = ("sgd", [momentum.bitPattern], nesterov)
        case let .adam(b1, b2, eps): (settings.kind, settings.hyperparameters) = ("adam", [b1, b2, eps].map(\.bitPattern))
        case let .adamW(b1, b2, eps): (settings.kind, settings.hyperparameters) = ("adamw", [b1, b2, eps].map(\.bitPattern))
        case let .rmsprop(alpha, eps, momentum): (settings.kind, settings.hyperparameters) = ("rmsprop", [alpha, eps, momentum].map(\.bitPattern))
        }
        do {
            state.metadata[Self.metadataKey] = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
            for (index, key) in keys.enumerated() {
                if let m = first[index] { state.tensors.append((Self.prefix + "first/" + key, try Tensor(shape: [m.count], scalars: m))) }
                if let v = second[index], !v.isEmpty { state.tensors.append((Self.prefix + "second/" + key, try Tensor(shape: [v.count], scalars: v))) }
            }
        } catch { throw .invalidArgument(what: "optimizer state", reason: "\(error)") }
    }

    /// The optimizer state a file carries (nil: none), its tensors taken out of `state`.
    static func decode(from state: inout StateDict, path: String) throws(ModelError) -> SavedOptimizer? {
        guard let (settings, tensors) = try state.takeSection(Settings.self, prefix: prefix, metadataKey: metadataKey, path: path, what: "optimizer state") else { return nil }
        let bad = { (why: String) in ModelError.invalidArgument(what: "cannot load \(path)", reason: "its optimizer state is not valid: \(why)") }
        guard (0..<(1 << 48)).contains(settings.steps) else { throw bad("the step count \(settings.steps) is out of range") }
        guard Set(settings.keys).count == settings.keys.count else { throw bad("a key appears twice") }
        let h = settings.hyperparameters.map(Float.init(bitPattern:))
        guard h.allSatisfy(\.isFinite) else { throw bad("a setting is not a finite number") }
        let kind: OptimizerKind
        switch (settings.kind, h.count) {
        case ("sgd", 1): kind = .sgd(momentum: h[0], nesterov: settings.nesterov)
        case ("adam", 3): kind = .adam(beta1: h[0], beta2: h[1], epsilon: h[2])
        case ("adamw", 3): kind = .adamW(beta1: h[0], beta2: h[1], epsilon: h[2])
        case ("rmsprop", 3): kind = .rmsprop(alpha: h[0], epsilon: h[1], momentum: h[2])
        default: throw bad("unknown optimizer '\(settings.kind)' with \(h.count) settings")
        }
        let keys = settings.keys
        let known = Set(keys.flatMap { [prefix + "first/" + $0, prefix + "second/" + $0] })
        if let stray = tensors.keys.sorted().first(where: { !known.contains($0) }) { throw bad("tensor '\(stray)' belongs to no key") }
        return SavedOptimizer(kind: kind, weightDecay: Float(bitPattern: settings.weightDecay), steps: settings.steps, keys: keys,
                              first: keys.map { tensors[prefix + "first/" + $0]?.scalars },
                              second: keys.map { tensors[prefix + "second/" + $0]?.scalars })
    }

    init(kind: OptimizerKind, weightDecay: Float, steps: Int, keys: [String], first: [[Float]?], second: [[Float]?]) {
        (self.kind, self.weightDecay, self.steps, self.keys, self.first, self.second) = (kind, weightDecay, steps, keys, first, second)
    }
}

extension StateDict {
    /// A part a graft file may carry beside the model (the optimizer's state, a checkpoint): its
    /// tensors, named under `prefix` and taken out of the state dict, and its JSON description under
    /// `metadataKey`, decoded; nil when the file has neither.
    mutating func takeSection<Description: Decodable>(_ type: Description.Type, prefix: String, metadataKey: String, path: String,
                                                     what: String) throws(ModelError) -> (Description, [String: Tensor])? {
        let tensors = Dictionary(self.tensors.filter { $0.name.hasPrefix(prefix) }.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
        self.tensors.removeAll { $0.name.hasPrefix(prefix) }
        guard let text = metadata[metadataKey] else {
            if tensors.isEmpty { return nil }
            throw .invalidArgument(what: "cannot load \(path)", reason: "it holds \(what) tensors but no '\(metadataKey)' description")
        }
        guard let description = try? JSONDecoder().decode(Description.self, from: Data(text.utf8)) else {
            throw .invalidArgument(what: "cannot load \(path)", reason: "its \(what) is not valid: its description is not graft's")
        }
        return (description, tensors)
    }
}
