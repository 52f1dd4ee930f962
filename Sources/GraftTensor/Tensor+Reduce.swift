extension Tensor {
    /// [outer, n, inner] sizes around `axis`.
    func split(at axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    func normalizedAxes(_ axes: [Int], op: String) throws(TensorError) -> [Int] {
        var resolved: [Int] = []
        for axis in axes {
            let a = try normalizeAxis(axis, rank: rank, op: op, shape: shape)
            guard !resolved.contains(a) else {
                throw .invalidArgument(op: op, reason: "axis \(axis) listed twice")
            }
            resolved.append(a)
        }
        return resolved.sorted()
    }

    /// Sum over one axis keeping it as size 1 (no gradient).
    func sumKeepingAxis(_ axis: Int) -> Tensor {
        var outShape = shape
        outShape[axis] = 1
        let y = Tensor(uninitializedShape: outShape)
        let (outer, n, inner) = split(at: axis)
        if n == 0 {
            y.storage.pointer.initialize(repeating: 0, count: y.count)
        } else {
            Reduction.sum(storage.pointer, y.storage.pointer, outer: outer, n: n, inner: inner)
        }
        return y
    }

    /// Sums over `axes` (all axes when empty), optionally keeping them as size-1 dimensions.
    public func sum(axes: [Int] = [], keepingDims: Bool = false) throws(TensorError) -> Tensor {
        let axes = axes.isEmpty ? Array(0..<rank) : try normalizedAxes(axes, op: "sum")
        var y = detached()
        for axis in axes { y = y.sumKeepingAxis(axis) }
        let kept = y.shape
        let outShape = keepingDims ? kept : shape.indices.filter { !axes.contains($0) }.map { shape[$0] }
        let result = Tensor(shape: outShape, storage: y.storage)
        let inputShape = shape
        // d Σx/dx = 1 everywhere: the gradient is broadcast back over the summed axes.
        return result.recorded(from: [self]) { g throws(TensorError) in
            [try g.reshaped(kept).broadcast(to: inputShape)]
        }
    }

    /// Mean over `axes` (all axes when empty).
    public func mean(axes: [Int] = [], keepingDims: Bool = false) throws(TensorError) -> Tensor {
        let axes = axes.isEmpty ? Array(0..<rank) : try normalizedAxes(axes, op: "mean")
        let n = axes.reduce(1) { $0 * shape[$1] }
        guard n > 0 else { throw .invalidArgument(op: "mean", reason: "mean over an empty axis of \(formatShape(shape))") }
        return try sum(axes: axes, keepingDims: keepingDims) * (1 / Float(n))
    }

    /// Maximum along `axis`; the gradient flows to the first maximal element.
    public func max(axis: Int, keepingDims: Bool = false) throws(TensorError) -> Tensor {
        let (y, indices, axis) = try maxWithIndices(axis: axis, op: "max")
        var outShape = shape
        if keepingDims { outShape[axis] = 1 } else { outShape.remove(at: axis) }
        let (outer, n, inner) = split(at: axis)
        let inputShape = shape
        // d max/dx = 1 at the first argmax, 0 elsewhere
        return Tensor(shape: outShape, storage: y.storage).recorded(from: [self]) { g in
            let dx = Tensor(shape: inputShape, storage: Storage(count: outer * n * inner, repeating: 0))
            let gp = g.storage.pointer, dp = dx.storage.pointer
            for o in 0..<outer {
                for i in 0..<inner {
                    let k = Int(indices[o * inner + i])
                    dp[(o * n + k) * inner + i] += gp[o * inner + i]
                }
            }
            return [dx]
        }
    }

    /// Index of the first maximal element along `axis`, as a Float tensor (no gradient).
    public func argmax(axis: Int, keepingDims: Bool = false) throws(TensorError) -> Tensor {
        let (y, indices, axis) = try maxWithIndices(axis: axis, op: "argmax")
        var outShape = shape
        if keepingDims { outShape[axis] = 1 } else { outShape.remove(at: axis) }
        let result = Tensor(uninitializedShape: outShape)
        for i in 0..<y.count { result.storage.pointer[i] = Float(indices[i]) }
        return result
    }

    private func maxWithIndices(axis: Int, op: String) throws(TensorError) -> (Tensor, [Int32], Int) {
        let axis = try normalizeAxis(axis, rank: rank, op: op, shape: shape)
        guard shape[axis] > 0 else {
            throw .invalidArgument(op: op, reason: "\(op) over an empty axis \(axis) of \(formatShape(shape))")
        }
        var outShape = shape
        outShape[axis] = 1
        let y = Tensor(uninitializedShape: outShape)
        var indices = [Int32](repeating: 0, count: y.count)
        let (outer, n, inner) = split(at: axis)
        indices.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            Reduction.maximum(storage.pointer, y.storage.pointer, base, outer: outer, n: n, inner: inner)
        }
        return (y, indices, axis)
    }

    /// Sums a broadcast gradient down to `target`, the shape it was broadcast from.
    func summed(toShape target: [Int]) throws(TensorError) -> Tensor {
        if shape == target { return self }
        guard target.count <= rank else {
            throw .shapeMismatch(op: "unbroadcast", shapes: [shape, target], reason: "gradient has lower rank than its input")
        }
        let offset = rank - target.count
        var y = self
        for axis in 0..<rank where axis < offset || (target[axis - offset] == 1 && shape[axis] != 1) {
            y = y.sumKeepingAxis(axis)
        }
        guard y.count == target.reduce(1, *) else {
            throw .shapeMismatch(op: "unbroadcast", shapes: [shape, target], reason: "gradient does not reduce to the input's shape")
        }
        return Tensor(shape: target, storage: y.storage)
    }
}
