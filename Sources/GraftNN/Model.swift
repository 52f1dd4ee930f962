import GraftTensor

/// A model: a directed acyclic graph of named layers, kept in topological (summary) order.
/// Node 0 is the input; the last node is the output. A sequential model is the chain case.
public final class Model {
    public struct Node {
        /// The layer's dotted path (`layer1.0.conv1`): what users type and sessions store.
        public let name: String
        public let layer: Layer
        /// Indices of the nodes feeding this one.
        public let inputs: [Int]
        /// Output shape without the batch axis, inferred when the graph was built.
        public let outputShape: [Int]
        /// Added by head surgery (these layers get the head learning rate).
        public let isHead: Bool
    }

    public internal(set) var nodes: [Node] {
        didSet { shapeCache.shapes.removeAll() }
    }
    /// Shapes inferred for inputs other than the declared one (see ``nodeShapes(forInput:)``).
    final class ShapeCache { var shapes: [[Int]: Result<[[Int]], ModelError>] = [:] }
    let shapeCache = ShapeCache()
    public var name: String
    /// The built-in architecture or source format it came from (`resnet18`, `keras`).
    public var architecture: String
    /// One name per output class (travels with the model through surgery and saving).
    public var classNames: [String]
    /// How inputs in [0, 1] must be normalized for this model (nil: the caller decides).
    public var normalization: Normalization?
    /// How an image file becomes an input (nil: ImageNet's evaluation recipe at ``inputShape``):
    /// the training data's transform once the model has trained on images (see ``imageTransform``).
    public var preprocessing: ImageTransform?
    /// The training augmentation its source file asked for (Keras's `Random*` layers; nil: none).
    public var sourceAugmentation: SourceAugmentation?

    /// The transform `predict FILE`, `cam`, `activations` and exports apply to an image file.
    public var imageTransform: ImageTransform? {
        if let preprocessing { return preprocessing }
        guard inputShape.count == 3 else { return nil }
        return .evaluation(channels: inputShape[0], height: inputShape[1], width: inputShape[2])
    }

    init(nodes: [Node], name: String, architecture: String, classNames: [String], normalization: Normalization? = nil) {
        self.nodes = nodes
        self.name = name
        self.architecture = architecture
        self.classNames = classNames
        self.normalization = normalization
    }

    public var inputShape: [Int] { nodes[0].outputShape }
    /// Sample axes the source left free (see ``Input/freeAxes``).
    public var freeInputAxes: [Int] { (nodes[0].layer as? any DeclaresInput)?.freeAxes ?? [] }
    /// The input shape as users read it: `3×224×224`, or `3×?×?` where it is free.
    public var describedInputShape: String { (nodes[0].layer as? any DeclaresInput)?.described ?? inputShape.map(String.init).joined(separator: "×") }
    public var outputShape: [Int] { nodes[nodes.count - 1].outputShape }
    /// True when every node takes exactly the previous one.
    public var isSequential: Bool { nodes.indices.dropFirst().allSatisfy { nodes[$0].inputs == [$0 - 1] } }

    /// The index of the node called `name`, or an error with the nearest name.
    public func index(of name: String) throws(ModelError) -> Int {
        if let found = nodes.firstIndex(where: { $0.name == name }) { return found }
        throw .unknownLayer(name: name, suggestion: nearest(name, in: nodes.map(\.name)))
    }

    // MARK: Parameters: two views of one tree

    /// Every parameter with its full checkpoint key (`layer1.0.conv1.weight`), in summary order.
    /// A parameter's or buffer's key: its layer's name, a dot, its own name (`layer1.0.conv1.weight`);
    /// a layer's one unnamed tensor takes the layer's name itself (timm's `cls_token`, `pos_embed`).
    public static func key(_ layer: String, _ local: String) -> String { local.isEmpty ? layer : "\(layer).\(local)" }

    public var parameters: [(key: String, parameter: Parameter)] {
        nodes.flatMap { node in node.layer.parameters.map { (Model.key(node.name, $0.key), $0.parameter) } }
    }

    /// The parameters that train: what optimizers see.
    public var trainableParameters: [(key: String, parameter: Parameter)] { parameters.filter { $0.parameter.trainable } }

    /// Every buffer (`layer1.0.bn1.running_mean`), in summary order.
    public var buffers: [(key: String, tensor: Tensor)] {
        nodes.flatMap { node in node.layer.buffers.map { (Model.key(node.name, $0.key), $0.tensor) } }
    }

    public var parameterCount: Int { nodes.reduce(0) { $0 + $1.layer.parameterCount } }
    public var trainableParameterCount: Int { trainableParameters.reduce(0) { $0 + $1.parameter.count } }

    // MARK: Forward

    /// Runs the model on a batch [N, inputShape…], up to node `end` (default: the output).
    public func forward(_ x: Tensor, _ context: ForwardContext, through end: Int? = nil) throws(ModelError) -> Tensor {
        try checkInput(x.shape)
        let end = end ?? nodes.count - 1
        var values = [Tensor?](repeating: nil, count: nodes.count)
        values[0] = x
        try run(&values, from: 1, through: end, context)
        guard let output = values[end] else { throw .invalidArgument(what: name, reason: "produced no output") }
        return output
    }

    /// Inference on a batch: no gradient graph, dropout off, BatchNorm on running statistics.
    public func predict(_ x: Tensor) throws(ModelError) -> Tensor {
        try withoutGradients { () throws(ModelError) in try forward(x, ForwardContext(training: false)) }
    }

    /// True when the output is a softmax over the classes (Keras `activation="softmax"`, an ONNX
    /// `Softmax` node): the output is probabilities, and losses must be taken on its input.
    public var endsInSoftmax: Bool {
        guard nodes.count > 1, nodes[nodes.count - 1].layer.outputsProbabilities else { return false }
        return nodes[nodes.count - 1].inputs.count == 1
    }

    /// The node whose output is the model's logits: the input of a final softmax, else the output.
    /// Losses and gradients are taken here (cross-entropy on logits, as Keras does for a softmax
    /// output), so a second softmax never flattens them.
    public var logitsNode: Int { endsInSoftmax ? nodes[nodes.count - 1].inputs[0] : nodes.count - 1 }

    /// Inference up to the logits (see ``logitsNode``).
    public func predictLogits(_ x: Tensor, shouldStop: @escaping () -> Bool = { false }) throws(ModelError) -> Tensor {
        try withoutGradients { () throws(ModelError) in try forward(x, ForwardContext(training: false, shouldStop: shouldStop), through: logitsNode) }
    }

    /// A batch must be [N, sample…] with a sample every layer can take: the declared input shape, or
    /// another size where the architecture allows it (convolutions and global pooling do; a flatten
    /// feeding a dense layer does not), which is then inferred (and cached) per size.
    public func checkInput(_ shape: [Int]) throws(ModelError) {
        guard shape.count == inputShape.count + 1, shape.first.map({ $0 >= 0 }) == true else {
            throw .shapeMismatch(layer: nodes[0].name, reason: "model expects [N,\(inputShape.map(String.init).joined(separator: ","))], got \(formatShape(shape))")
        }
        _ = try nodeShapes(forInput: Array(shape.dropFirst()))
    }

    /// Every node's output shape for samples of `sample` (the declared shapes for the declared
    /// input), or an error naming the first layer that cannot take it and both sizes.
    public func nodeShapes(forInput sample: [Int]) throws(ModelError) -> [[Int]] {
        if sample == inputShape { return nodes.map(\.outputShape) }
        if let known = shapeCache.shapes[sample] { return try known.get() }
        let result = Result { () throws(ModelError) -> [[Int]] in try inferShapes(sample) }
        if shapeCache.shapes.count >= 64 { shapeCache.shapes.removeAll() }
        shapeCache.shapes[sample] = result
        return try result.get()
    }

    /// Whether samples of this shape run through the model.
    public func accepts(_ sample: [Int]) -> Bool { (try? nodeShapes(forInput: sample)) != nil }

    private func inferShapes(_ sample: [Int]) throws(ModelError) -> [[Int]] {
        guard sample.count == inputShape.count, sample.allSatisfy({ $0 > 0 }) else {
            throw .shapeMismatch(layer: nodes[0].name, reason: "model expects samples of rank \(inputShape.count) (\(formatShape(inputShape))), got \(formatShape(sample))")
        }
        var shapes: [[Int]] = [sample]
        for node in nodes.dropFirst() {
            do throws(ModelError) {
                let shape = try node.layer.outputShape(node.inputs.map { shapes[$0] })
                guard shape.allSatisfy({ $0 > 0 }) else { throw ModelError.shapeMismatch(layer: node.layer.kind, reason: "output \(formatShape(shape)) would be empty") }
                shapes.append(shape)
            } catch {
                let size = sample.map(String.init).joined(separator: "×"), declared = inputShape.map(String.init).joined(separator: "×")
                var reason = "\(error)"
                if case let .shapeMismatch(_, inner) = error { reason = inner }
                throw .shapeMismatch(layer: node.name, reason: "takes the declared input \(declared) but not \(size): \(reason)")
            }
        }
        return shapes
    }

    /// Evaluates nodes `start…end` in order; `values` holds the outputs already known. Each output
    /// is released once its last consumer in the range has run, except those at or after `keep`.
    public func run(_ values: inout [Tensor?], from start: Int, through end: Int, _ context: ForwardContext, keeping kept: Set<Int> = []) throws(ModelError) {
        guard start <= end else { return }
        var lastUse = [Int](repeating: -1, count: nodes.count), uses = [Int](repeating: 0, count: nodes.count)
        for index in start...end {
            for input in nodes[index].inputs { lastUse[input] = Swift.max(lastUse[input], index); uses[input] += 1 }
        }
        var fusedAhead = Set<Int>()  // later nodes whose output a fused group has computed already
        var layout = ChannelsLastLayout(nodes: nodes.count)
        var index = start
        while index <= end {
            if fusedAhead.contains(index) { index += 1; continue }
            if context.shouldStop() { throw .interrupted(what: "the forward pass", done: index - start, total: end - start + 1) }
            let node = nodes[index]
            for input in node.inputs where values[input] == nil {
                throw .invalidArgument(what: node.name, reason: "input '\(nodes[input].name)' was not computed")
            }
            let started = context.times.map { _ in ContinuousClock.now }
            let aheadBefore = context.times != nil ? fusedAhead : []
            do {
                // A chain of layers on channels-last maps (ChannelsLastChains.swift), when the node qualifies.
                if let fused = try runChannelsLast(index, &values, &layout, uses: uses, end: end, kept: kept, context) {
                    fusedAhead.formUnion(fused)
                } else if !relayLayout(index, &values, &layout) {
                    for input in node.inputs { try layout.restore(input, &values) }
                    let inputs = node.inputs.compactMap { values[$0] }
                    // A convolution with its BatchNorm and activation as one pass (InferenceFusion.swift), when it
                    // qualifies; nodes between them (other branches) still run in order.
                    if let group = fusedGroup(at: index, uses: uses, end: end, kept: kept, context),
                       let fused = try runFused(group, input: inputs[0]) {
                        values[group.last] = fused
                        fusedAhead.formUnion([group.batchNorm, group.activation].compactMap { $0 })
                    } else if let (next, activation) = fusedActivation(after: index, uses: uses, end: end, kept: kept),
                              let layer = node.layer as? any FusesActivation {
                        // A BatchNorm with its activation as one op (NormalizationFusion.swift).
                        values[next] = try layer.forward(inputs[0], activation: activation, context)
                        fusedAhead.insert(next)
                    } else {
                        values[index] = try node.layer.forward(inputs, context)
                    }
                }
            } catch { throw .tensor(layer: node.name, error: error) }
            if let times = context.times, let started {
                // The nodes this step computed: itself and those a fused group took (not yet run).
                times.add(index, covering: fusedAhead.subtracting(aheadBefore), ContinuousClock.now - started)
            }
            for input in node.inputs where lastUse[input] == index && !kept.contains(input) && input != end { values[input] = nil }
            index += 1
        }
        // What the caller reads is in NCHW.
        do {
            for output in kept.union([end]) { try layout.restore(output, &values) }
        } catch { throw .tensor(layer: nodes[end].name, error: error) }
    }
}

/// Builds a model graph node by node, inferring and checking shapes as it goes: a bad connection
/// is an error here, never a crash when the model runs.
public struct GraphBuilder {
    private(set) var nodes: [Model.Node]
    private var names: Set<String>
    private var counters: [String: Int] = [:]

    public init(inputShape: [Int], freeAxes: [Int] = [], inputName: String = "input") throws(ModelError) {
        try self.init(input: try Input(inputShape, freeAxes: freeAxes), inputName: inputName)
    }

    public init(input: Input, inputName: String = "input") throws(ModelError) {
        nodes = [Model.Node(name: inputName, layer: input, inputs: [], outputShape: input.shape, isHead: false)]
        names = [inputName]
    }

    /// Continues from an existing model's nodes `0…through` (for head surgery).
    public init(keeping model: Model, nodes kept: [Int]) {
        var remap: [Int: Int] = [:]
        var copied: [Model.Node] = []
        for old in kept {
            let node = model.nodes[old]
            remap[old] = copied.count
            copied.append(Model.Node(name: node.name, layer: node.layer, inputs: node.inputs.compactMap { remap[$0] },
                                     outputShape: node.outputShape, isHead: node.isHead))
        }
        nodes = copied
        names = Set(copied.map(\.name))
    }

    public var input: Int { 0 }
    /// The input's free axes (see ``Input/freeAxes``).
    public var freeInputAxes: [Int] { (nodes[0].layer as? any DeclaresInput)?.freeAxes ?? [] }
    public var last: Int { nodes.count - 1 }
    public func shape(of node: Int) -> [Int] { nodes[node].outputShape }

    /// Adds `layer` fed by `inputs` (default: the last node). Names must be unique; without one,
    /// the layer gets `kind_N` (`conv2d_3`).
    @discardableResult
    public mutating func add(_ layer: Layer, name: String? = nil, inputs: [Int]? = nil, head: Bool = false) throws(ModelError) -> Int {
        // Ctrl-C stops a build between layers (a large architecture's draws take seconds); the
        // model was never stored, so nothing changes.
        if Cancellation.requested { throw .interrupted(what: "building the model", done: nodes.count - 1, total: 0) }
        let inputs = inputs ?? [last]
        let name = name ?? autoName(for: layer)
        guard !name.isEmpty, !names.contains(name) else {
            throw .invalidArgument(what: "layer name", reason: name.isEmpty ? "empty" : "'\(name)' is used twice")
        }
        guard inputs.allSatisfy({ $0 >= 0 && $0 < nodes.count }) else {
            throw .invalidArgument(what: name, reason: "input refers to a node that does not exist yet")
        }
        if let arity = layer.arity, arity != inputs.count {
            throw .shapeMismatch(layer: name, reason: "\(layer.kind) takes \(arity) input\(arity == 1 ? "" : "s"), got \(inputs.count)")
        }
        let shape: [Int]
        do { shape = try layer.outputShape(inputs.map { nodes[$0].outputShape }) } catch {
            if case let .shapeMismatch(_, reason) = error { throw .shapeMismatch(layer: name, reason: reason) }
            throw error
        }
        guard shape.allSatisfy({ $0 > 0 }) else {
            throw .shapeMismatch(layer: name, reason: "output \(formatShape(shape)) would be empty")
        }
        nodes.append(Model.Node(name: name, layer: layer, inputs: inputs, outputShape: shape, isHead: head))
        names.insert(name)
        return nodes.count - 1
    }

    /// Shorthand for model code: `x = try b.add("layer1.0.conv1", Conv2d(…), x)`.
    @discardableResult
    public mutating func add(_ name: String, _ layer: Layer, _ inputs: Int...) throws(ModelError) -> Int {
        try add(layer, name: name, inputs: inputs.isEmpty ? nil : inputs)
    }

    private mutating func autoName(for layer: Layer) -> String {
        let base = layer.kind.lowercased()
        var n = counters[base, default: 0]
        var candidate: String
        repeat {
            n += 1
            candidate = "\(base)_\(n)"
        } while names.contains(candidate)
        counters[base] = n
        return candidate
    }

    public func build(name: String, architecture: String, classNames: [String] = [], normalization: Normalization? = nil) -> Model {
        Model(nodes: nodes, name: name, architecture: architecture, classNames: classNames, normalization: normalization)
    }
}

extension Model {
    /// Re-infers every shape for a new input size (where the architecture allows it: convolutions
    /// and global pooling do, a flatten feeding a dense layer does not). Nothing changes on error.
    public func setInputShape(_ shape: [Int]) throws(ModelError) {
        guard shape != inputShape else { return }
        var builder = try GraphBuilder(inputShape: shape, freeAxes: freeInputAxes, inputName: nodes[0].name)
        for node in nodes.dropFirst() {
            do {
                try builder.add(node.layer, name: node.name, inputs: node.inputs, head: node.isHead)
            } catch {
                throw .shapeMismatch(layer: node.name, reason: "does not take the input size \(shape.map(String.init).joined(separator: "×")): \(error)")
            }
        }
        nodes = builder.nodes
    }
}
