import Synchronization

/// A pullback maps the gradient of an op's output to the gradients of its inputs, in input
/// order (nil for an input that needs none). A returned gradient may have the output's
/// broadcast shape: ``Tensor/backward()`` reduces it to the input's shape.
typealias Pullback = (Tensor) throws(TensorError) -> [Tensor?]

/// A tensor's place on the gradient graph.
///
/// A node exists only for tensors that require a gradient. It holds its inputs' nodes and
/// the pullback (which captures what the derivative needs); dropping the output frees both.
final class GradNode: @unchecked Sendable {
    /// Creation order: inputs always precede outputs, so sorting by it is a topological order.
    let sequence: Int
    let shape: [Int]
    let inputs: [GradNode?]
    /// Nil for leaves, and for interior nodes after `backward()` released them.
    var pullback: Pullback?
    var grad: Tensor?
    let isLeaf: Bool
    fileprivate var visitMark = 0

    private static let counter = Atomic<Int>(0)
    private static func nextSequence() -> Int { counter.add(1, ordering: .relaxed).newValue }

    init(leafShape: [Int]) {
        sequence = Self.nextSequence()
        shape = leafShape
        inputs = []
        isLeaf = true
    }

    init(shape: [Int], inputs: [GradNode?], pullback: @escaping Pullback) {
        sequence = Self.nextSequence()
        self.shape = shape
        self.inputs = inputs
        self.pullback = pullback
        isLeaf = false
    }

    fileprivate static let visitEpoch = Atomic<Int>(0)
}

/// Whether ops record onto the gradient graph (switched off by ``withoutGradients(_:)``).
public enum GradMode {
    @TaskLocal static var isEnabled = true
}

/// Runs `body` with gradient recording off: inference builds no graph and keeps no activations.
public func withoutGradients<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    let result: Result<R, E> = GradMode.$isEnabled.withValue(false) {
        do throws(E) { return .success(try body()) } catch { return .failure(error) }
    }
    return try result.get()
}

extension Tensor {
    /// Whether an op on `inputs` would join the gradient graph: recording is on and an input requires a gradient.
    public static func wouldRecord(_ inputs: [Tensor]) -> Bool {
        GradMode.isEnabled && inputs.contains { $0.node != nil }
    }

    /// `self`, an op's result, joined to the graph if any input requires a gradient and
    /// recording is on. The pullback is kept only in that case.
    func recorded(from inputs: [Tensor], _ pullback: @escaping Pullback) -> Tensor {
        guard Tensor.wouldRecord(inputs) else { return self }
        let node = GradNode(shape: shape, inputs: inputs.map(\.node), pullback: pullback)
        return Tensor(shape: shape, storage: storage, node: node)
    }

    /// Back-propagates from this scalar: every leaf it depends on gets `grad += ∂self/∂leaf`.
    ///
    /// Nodes are visited once each in reverse creation order (a loop, no recursion), and
    /// interior nodes release their pullbacks and gradients as they go. `shouldStop` is asked
    /// before each node: when it says so, `interrupted` is thrown and the leaves' gradients are
    /// partial (the caller zeroes them).
    public func backward(shouldStop: () -> Bool = { false }) throws(TensorError) {
        guard count == 1 else {
            throw .shapeMismatch(op: "backward", shapes: [shape], reason: "can only start from a scalar, tensor has \(count) elements")
        }
        try backward(seed: Tensor.full(shape, 1), shouldStop: shouldStop)
    }

    /// Back-propagates `seed` (the gradient of some scalar with respect to `self`).
    public func backward(seed: Tensor, shouldStop: () -> Bool = { false }) throws(TensorError) {
        guard let root = node else {
            throw .invalidArgument(op: "backward", reason: "tensor does not require a gradient (nothing to differentiate)")
        }
        guard seed.shape == shape else {
            throw .shapeMismatch(op: "backward", shapes: [shape, seed.shape], reason: "seed gradient must match the tensor's shape")
        }
        if root.isLeaf {
            root.accumulate(seed.detached())
            return
        }
        guard root.pullback != nil else {
            throw .invalidArgument(op: "backward", reason: "graph was already used by a previous backward()")
        }
        let order = reachableNodes(from: root)
        root.grad = seed.detached()
        try withoutGradients { () throws(TensorError) in
            for node in order where !node.isLeaf {
                guard let grad = node.grad else { continue }
                if shouldStop() { throw .interrupted(op: "backward") }
                guard let pullback = node.pullback else {
                    throw .invalidArgument(op: "backward", reason: "part of this graph was already used by a previous backward(); run the forward pass again")
                }
                node.grad = nil
                node.pullback = nil
                let inputGrads = try pullback(grad)
                for (input, inputGrad) in zip(node.inputs, inputGrads) {
                    guard let input, let inputGrad else { continue }
                    input.accumulate(try inputGrad.summed(toShape: input.shape))
                }
            }
        }
    }

    /// Every node reachable from `root`, newest first.
    private func reachableNodes(from root: GradNode) -> [GradNode] {
        let mark = GradNode.visitEpoch.add(1, ordering: .relaxed).newValue
        var stack = [root]
        var found: [GradNode] = []
        root.visitMark = mark
        while let node = stack.popLast() {
            found.append(node)
            for case let input? in node.inputs where input.visitMark != mark {
                input.visitMark = mark
                stack.append(input)
            }
        }
        found.sort { $0.sequence > $1.sequence }
        return found
    }
}

extension GradNode {
    /// grad += g. Gradients accumulate, never assign.
    func accumulate(_ g: Tensor) {
        if let existing = grad {
            grad = Tensor.zipSameShape(existing, g) { $0 + $1 }
        } else {
            grad = g.detached()
        }
    }
}
