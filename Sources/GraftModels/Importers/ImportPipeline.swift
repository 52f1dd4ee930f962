import GraftNN
import GraftTensor

// The one pipeline under every path from a file to a model. Keras and ONNX build a graph layer by
// layer into an ``ImportBuild``: layers made without drawing weights, the file's tensors assigned
// under the source's names, the graph pruned to what its output needs. A state dict — a checkpoint
// on a built-in architecture, or graft's own file on its graph description — is matched by key
// (``StateDictLoader``, which gives the report). All of them hand their weights to one
// ``WeightTransfer``, which checks every tensor before it changes any parameter.

/// Whether a value parsed from JSON (Hugging Face and Keras configs) is `true` or `false`:
/// Foundation parses booleans and numbers both as NSNumbers, and `is Bool` also holds for the
/// numbers 0 and 1 (and 1.0); the class tells them apart.
func isJSONBoolean(_ value: Any) -> Bool {
    value is Bool && (type(of: value) == Bool.self || String(describing: type(of: value)).contains("Boolean"))
}

/// The weights an import gives a model: parameters (which take the file's tensors themselves, so
/// the weights exist once in memory) and buffers (running statistics, copied in).
struct WeightTransfer {
    private(set) var parameters: [(parameter: Parameter, tensor: Tensor, name: String)] = []
    private(set) var buffers: [(buffer: Tensor, tensor: Tensor, name: String)] = []

    /// How many tensors it carries.
    var count: Int { parameters.count + buffers.count }

    /// `tensor` for `parameter`; `name` (the layer or key) names it in messages.
    mutating func parameter(_ parameter: Parameter, _ tensor: Tensor, name: String) { parameters.append((parameter, tensor, name)) }

    /// `tensor`'s values for `buffer`.
    mutating func buffer(_ buffer: Tensor, _ tensor: Tensor, name: String) { buffers.append((buffer, tensor, name)) }

    /// Checks every tensor, then assigns them all, or changes nothing. A tensor with its parameter's
    /// count in another shape (ONNX's `[C, 1, 1]` scale) takes the parameter's shape; a buffer takes
    /// as many values as it has. With `adopting`, parameters take the tensors themselves (the
    /// caller gives them up, as when they were just read from a file); tensors sharing memory are
    /// still copied apart.
    func commit(adopting: Bool = true) throws(ModelError) {
        var weights: [(parameter: Parameter, tensor: Tensor, name: String)] = []
        weights.reserveCapacity(parameters.count)
        for (parameter, tensor, name) in parameters {
            if tensor.shape == parameter.shape { weights.append((parameter, tensor, name)); continue }
            guard let reshaped = try? tensor.reshaped(parameter.shape) else {
                throw .shapeMismatch(layer: name, reason: "weight \(formatShape(tensor.shape)) does not fit \(formatShape(parameter.shape))")
            }
            weights.append((parameter, reshaped, name))
        }
        for (buffer, tensor, name) in buffers where buffer.count != tensor.count {
            throw .shapeMismatch(layer: name, reason: "statistics \(formatShape(tensor.shape)) do not fit \(formatShape(buffer.shape))")
        }
        if adopting {
            try Parameter.adoptAll(weights)
        } else {
            for (parameter, tensor, name) in weights { try parameter.assign(tensor, name: name) }
        }
        for (buffer, tensor, _) in buffers {
            tensor.withUnsafeBufferPointer { source in buffer.withUnsafeMutableBufferPointer { target in for i in target.indices { target[i] = source[i] } } }
        }
    }
}

/// A graph being imported layer by layer (Keras, ONNX): the builder, the generator its layers are
/// made with (structure only: the file supplies every weight) and the weights to assign once the
/// graph is complete.
class ImportBuild {
    var builder: GraphBuilder
    let generator = Generator.structureOnly()
    private(set) var weights = WeightTransfer()

    init(builder: GraphBuilder) { self.builder = builder }

    /// The file's `tensor` for `parameter` of the layer `layer`.
    func assign(_ parameter: Parameter, _ tensor: Tensor, layer: String) { weights.parameter(parameter, tensor, name: layer) }

    /// The file's running statistics `tensor` for `buffer` of the layer `layer`.
    func copy(into buffer: Tensor, _ tensor: Tensor, layer: String) { weights.buffer(buffer, tensor, name: layer) }

    /// The model: the graph up to node `output` (the last when nil), keeping only the layers it
    /// needs, with the file's weights; classes are numbered until the file names them.
    func finish(name: String, architecture: String, output: Int? = nil) throws(ModelError) -> Model {
        var model = builder.build(name: name, architecture: architecture)
        if let output, output != model.nodes.count - 1 {
            var needed = Set([output])
            for index in stride(from: output, through: 0, by: -1) where needed.contains(index) { needed.formUnion(model.nodes[index].inputs) }
            model = GraphBuilder(keeping: model, nodes: model.nodes.indices.filter { needed.contains($0) && $0 <= output })
                .build(name: name, architecture: architecture)
        }
        try weights.commit()
        model.classNames = (0..<(model.outputShape.last ?? 0)).map(String.init)
        return model
    }
}
