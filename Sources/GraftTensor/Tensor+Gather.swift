extension Tensor {
    /// The slices at `indices` along `axis` (index_select); the gradient is added back at each index.
    public func gather(_ indices: [Int], axis: Int = 0) throws(TensorError) -> Tensor {
        let axis = try normalizeAxis(axis, rank: rank, op: "gather", shape: shape)
        let (outer, n, inner) = split(at: axis)
        if let bad = indices.first(where: { $0 < 0 || $0 >= n }) {
            throw .invalidArgument(op: "gather", reason: "index \(bad) out of range for axis \(axis) of size \(n)")
        }
        var outShape = shape
        outShape[axis] = indices.count
        let y = Tensor(uninitializedShape: outShape)
        let (x, out) = (storage.pointer, y.storage.pointer)
        for o in 0..<outer {
            for (k, index) in indices.enumerated() {
                (out + (o * indices.count + k) * inner).update(from: x + (o * n + index) * inner, count: inner)
            }
        }
        let inputShape = shape
        // d gather/dx: scatter-add the gradient rows back to their indices
        return y.recorded(from: [self]) { g in
            let dx = Tensor(shape: inputShape, storage: Storage(count: inputShape.reduce(1, *), repeating: 0))
            let (gp, dp) = (g.storage.pointer, dx.storage.pointer)
            for o in 0..<outer {
                for (k, index) in indices.enumerated() {
                    let source = gp + (o * indices.count + k) * inner, target = dp + (o * n + index) * inner
                    for i in 0..<inner { target[i] += source[i] }
                }
            }
            return [dx]
        }
    }

    /// One row per label with a 1 at the label's class: [labels.count, classes].
    public static func oneHot(_ labels: [Int], classes: Int) throws(TensorError) -> Tensor {
        guard classes > 0 else { throw .invalidArgument(op: "oneHot", reason: "classes must be positive, got \(classes)") }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw .invalidArgument(op: "oneHot", reason: "label \(bad) out of range for \(classes) classes")
        }
        let y = try zeros([labels.count, classes])
        for (row, label) in labels.enumerated() { y.storage.pointer[row * classes + label] = 1 }
        return y
    }
}
