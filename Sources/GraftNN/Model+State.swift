import GraftTensor

/// Everything a command can change in a model — structure, names, weights, buffers, trainable
/// flags and layer switches — copied so that a failed command can put it all back.
public struct ModelState {
    let model: Model
    let nodes: [Model.Node]
    let name: String, architecture: String
    let classNames: [String]
    let normalization: Normalization?
    var preprocessing: ImageTransform? = nil
    var sourceAugmentation: SourceAugmentation? = nil
    let parameters: [(parameter: Parameter, values: [Float], trainable: Bool)]
    let buffers: [(tensor: Tensor, values: [Float])]
    let flags: [(layer: Layer, flags: [String: Bool])]

    /// Bytes the copied weights and buffers hold.
    public var bytes: Int { 4 * (parameters.reduce(0) { $0 + $1.values.count } + buffers.reduce(0) { $0 + $1.values.count }) }
}

extension Model {
    /// A copy of the model's state (see ``ModelState``).
    public func saveState() -> ModelState {
        var state = ModelState(model: self, nodes: nodes, name: name, architecture: architecture, classNames: classNames, normalization: normalization,
                   parameters: nodes.flatMap { $0.layer.parameters.map { ($0.parameter, $0.parameter.value.scalars, $0.parameter.trainable) } },
                   buffers: nodes.flatMap { $0.layer.buffers.map { ($0.tensor, $0.tensor.scalars) } },
                   flags: nodes.map { ($0.layer, $0.layer.flags) })
        state.preprocessing = preprocessing
        state.sourceAugmentation = sourceAugmentation
        return state
    }

    /// Puts back a state saved from this model: its graph, weights, buffers and flags.
    public func restore(_ state: ModelState) {
        guard state.model === self else { return }
        nodes = state.nodes
        name = state.name
        architecture = state.architecture
        classNames = state.classNames
        normalization = state.normalization
        preprocessing = state.preprocessing
        sourceAugmentation = state.sourceAugmentation
        for (parameter, _, trainable) in state.parameters { parameter.trainable = trainable }
        putValues(of: state)
        for (layer, flags) in state.flags { layer.flags = flags }
    }

    /// Puts back the weights and buffers of a state (nothing else).
    func putValues(of state: ModelState) {
        for (parameter, values, _) in state.parameters {
            parameter.zeroGrad()
            parameter.update { buffer in
                guard buffer.count == values.count else { return }
                for i in buffer.indices { buffer[i] = values[i] }
            }
        }
        for (tensor, values) in state.buffers where tensor.count == values.count {
            tensor.withUnsafeMutableBufferPointer { buffer in for i in buffer.indices { buffer[i] = values[i] } }
        }
    }
}

extension Model {
    /// True when `state` was saved from this model as it stands now: the same layers holding the same
    /// parameter objects (surgery since, such as a new head, makes it false).
    public func hasSameParameters(as state: ModelState) -> Bool {
        guard state.model === self, state.nodes.map(\.name) == nodes.map(\.name) else { return false }
        let current = nodes.flatMap { $0.layer.parameters.map(\.parameter) }
        return current.count == state.parameters.count
            && zip(current, state.parameters).allSatisfy { $0 === $1.parameter && $0.value.count == $1.values.count }
    }

    /// Runs `body` with the weights and buffers of `state` (saved from this model, with the same
    /// parameters: ``hasSameParameters(as:)``), then puts this model's own back.
    public func withWeights<T>(of state: ModelState, _ body: () throws -> T) rethrows -> T {
        let now = saveState()
        putValues(of: state)
        defer { putValues(of: now) }
        return try body()
    }
}
