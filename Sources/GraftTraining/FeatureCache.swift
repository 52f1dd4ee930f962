import Foundation
import GraftData
import GraftNN
import GraftTensor

/// Activations at the boundary between a model's frozen, deterministic prefix and its trainable
/// rest, computed once per dataset so that training runs only the rest.
///
/// The prefix is every node before the first one that has a trainable parameter or behaves
/// randomly in training (dropout, BatchNorm on batch statistics). Its outputs that the rest reads
/// are stored per sample; the rest then trains on them with the same results as without the cache.
public struct FeatureCache {
    public struct Plan: Sendable {
        /// The first node that runs during training.
        public let firstTrained: Int
        /// Prefix nodes whose outputs the trained part reads.
        public let boundary: [Int]
    }

    /// Nil when nothing can be cached (the first layer trains or is random).
    public static func plan(for model: Model) -> Plan? {
        let nodes = model.nodes
        guard let first = nodes.indices.dropFirst().first(where: { index in
            let layer = nodes[index].layer
            return layer.parameters.contains { $0.parameter.trainable } || !layer.isDeterministic(training: true)
        }), first > 1 else { return nil }
        let boundary = Set(nodes[first...].flatMap(\.inputs).filter { $0 < first }).sorted()
        return Plan(firstTrained: first, boundary: boundary)
    }

    public let plan: Plan
    /// Per boundary node: all samples' activations, [N, shape…].
    let features: [Tensor]

    /// Runs the prefix over every sample (no gradients, in batches) and keeps the boundary activations.
    public static func build(_ plan: Plan, model: Model, samples: Samples, normalization: Normalization,
                             log: TrainingLog, batchSize: Int = 64, shouldStop: @escaping () -> Bool = { false }) throws(ModelError) -> FeatureCache {
        let start = Date()
        let inferred = try model.nodeShapes(forInput: samples.sampleShape)
        let shapes = plan.boundary.map { inferred[$0] }
        var stores = shapes.map { [Float](repeating: 0, count: samples.count * $0.reduce(1, *)) }
        var batches: Batches
        do { batches = try Batches(samples, batchSize: batchSize, normalization: normalization) } catch { throw .data(error) }
        var offset = 0
        while let batch = batches.next() {
            try withoutGradients { () throws(ModelError) in
                try model.checkInput(batch.inputs.shape)
                var values = [Tensor?](repeating: nil, count: model.nodes.count)
                values[0] = batch.inputs
                do throws(ModelError) {
                    try model.run(&values, from: 1, through: plan.firstTrained - 1, ForwardContext(training: false, shouldStop: shouldStop), keeping: Set(plan.boundary))
                } catch {
                    if case .interrupted = error { throw .interrupted(what: "caching features", done: offset, total: samples.count) }
                    throw error
                }
                for (slot, node) in plan.boundary.enumerated() {
                    guard let value = values[node] else { continue }
                    let size = shapes[slot].reduce(1, *)
                    value.withUnsafeBufferPointer { source in
                        stores[slot].withUnsafeMutableBufferPointer { target in
                            for i in 0..<source.count { target[offset * size + i] = source[i] }
                        }
                    }
                }
            }
            offset += batch.labels.count
            let elapsed = Date().timeIntervalSince(start)
            log.record(.progress(task: "caching features", done: offset, total: samples.count,
                                 secondsLeft: elapsed / Double(offset) * Double(samples.count - offset)))
            if shouldStop() { throw .interrupted(what: "caching features", done: offset, total: samples.count) }
        }
        var features: [Tensor] = []
        for (store, shape) in zip(stores, shapes) {
            do { features.append(try Tensor(shape: [samples.count] + shape, scalars: store)) } catch { throw .tensor(layer: "cache", error: error) }
        }
        let bytes = features.reduce(0) { $0 + $1.count * 4 }
        let names = plan.boundary.map { "'\(model.nodes[$0].name)'" }.joined(separator: ", ")
        let perSample = shapes.map { $0.map(String.init).joined(separator: "×") }.joined(separator: " + ")
        log.record(.message(String(format: "caching features: %d frozen layers run once; output of %@ (%@ per sample) for %d samples, %.1f MB, %.2f s",
                                   plan.firstTrained - 1, names, perSample, samples.count, Double(bytes) / 1_048_576,
                                   Date().timeIntervalSince(start))))
        return FeatureCache(plan: plan, features: features)
    }

    /// The trained part's logits (see ``Model/logitsNode``) for the cached samples at `indices`.
    func forward(_ indices: [Int], model: Model, _ context: ForwardContext) throws(ModelError) -> Tensor {
        var values = [Tensor?](repeating: nil, count: model.nodes.count)
        for (slot, node) in plan.boundary.enumerated() {
            do { values[node] = try features[slot].gather(indices, axis: 0) } catch { throw .tensor(layer: "cache", error: error) }
        }
        let end = model.logitsNode
        try model.run(&values, from: plan.firstTrained, through: end, context)
        guard let output = values[end] else { throw .invalidArgument(what: "cache", reason: "no output") }
        return output
    }
}
