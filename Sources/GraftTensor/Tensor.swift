/// An n-dimensional, row-major array of `Float32` with an optional place on the gradient graph.
///
/// Tensors are values: ops return new tensors and never change their inputs. Storage is
/// always contiguous and 64-byte aligned; images are NCHW. A tensor that requires a gradient
/// carries a ``GradNode``; one that does not records nothing and keeps nothing alive.
public struct Tensor: @unchecked Sendable {
    /// The size of each dimension, outermost first.
    public let shape: [Int]
    let storage: Storage
    var node: GradNode?

    init(shape: [Int], storage: Storage, node: GradNode? = nil) {
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// An uninitialized tensor whose every element the caller writes before returning it.
    init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, storage: Storage(uninitializedCount: shape.reduce(1, *)))
    }

    /// Number of elements.
    public var count: Int { storage.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Whether gradients flow back to this tensor.
    public var requiresGrad: Bool { node != nil }
    /// The gradient accumulated by `backward()` (leaf tensors only; nil before any backward).
    public var grad: Tensor? { node?.grad }

    /// The elements in row-major order.
    public var scalars: [Float] { Array(storage.buffer) }

    /// The single element of a one-element tensor.
    public func item() throws(TensorError) -> Float {
        guard count == 1 else {
            throw .shapeMismatch(op: "item", shapes: [shape], reason: "tensor has \(count) elements, not 1")
        }
        return storage.pointer[0]
    }

    /// The element at a full index (for tests and printing; kernels use pointers).
    public subscript(_ index: Int...) -> Float {
        get throws(TensorError) {
            guard index.count == rank else {
                throw .invalidArgument(op: "index", reason: "\(index.count) indices for a rank-\(rank) tensor \(formatShape(shape))")
            }
            var flat = 0
            for (axis, i) in index.enumerated() {
                guard i >= 0 && i < shape[axis] else { throw .invalidAxis(op: "index", axis: axis, shape: shape) }
                flat = flat * shape[axis] + i
            }
            return storage.pointer[flat]
        }
    }

    /// Reads the elements without copying.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(storage.buffer))
    }

    /// Writes into the elements in place, for optimizers and loaders that own this tensor.
    /// Every tensor that shares the storage (reshapes of it) sees the change.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(storage.buffer)
    }

    // MARK: Gradient graph

    /// This tensor as a leaf of the gradient graph: `backward()` accumulates into its `grad`.
    public func requiringGrad() -> Tensor {
        Tensor(shape: shape, storage: storage, node: GradNode(leafShape: shape))
    }

    /// The same values, cut off from the gradient graph.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// Identifies the buffer behind the values: tensors with the same identity share their memory.
    public var storageIdentity: ObjectIdentifier { ObjectIdentifier(storage) }

    /// Clears the accumulated gradient of a leaf.
    public func zeroGrad() { node?.grad = nil }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor\(formatShape(shape))(\(shown)\(count > 8 ? ", …" : ""))"
    }
}

// MARK: Shape arithmetic

/// The most elements one tensor may hold (16 GiB of Float32): larger requests are errors, not allocations.
let maximumElementCount = 1 << 32

/// Checks a shape supplied from outside: non-negative dimensions, element count without overflow.
func checkedCount(_ shape: [Int], op: String) throws(TensorError) -> Int {
    var total = 1
    for dim in shape {
        guard dim >= 0 else {
            throw .invalidArgument(op: op, reason: "negative dimension \(dim) in shape \(formatShape(shape))")
        }
        let (product, overflow) = total.multipliedReportingOverflow(by: dim)
        guard !overflow, product <= maximumElementCount else {
            throw .invalidArgument(op: op, reason: "shape \(formatShape(shape)) has too many elements")
        }
        total = product
    }
    return total
}

/// Row-major strides of `shape`.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = running
        running *= shape[axis]
    }
    return strides
}

/// Resolves a possibly negative axis (`-1` is the last).
func normalizeAxis(_ axis: Int, rank: Int, op: String, shape: [Int]) throws(TensorError) -> Int {
    let resolved = axis < 0 ? axis + rank : axis
    guard resolved >= 0 && resolved < rank else { throw .invalidAxis(op: op, axis: axis, shape: shape) }
    return resolved
}
