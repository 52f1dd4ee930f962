// Shape ops: reshape (shares storage), broadcast, permute, slice, concatenate, pad.

extension Tensor {
    /// The index along each axis of `shape` of the element at row-major `offset` (`[0, 1, 2]`), for
    /// messages that point at one value. Axes of size 0 count as 1.
    public static func position(of offset: Int, in shape: [Int]) -> [Int] {
        var rest = offset, index: [Int] = []
        for extent in shape.reversed() {
            let size = Swift.max(extent, 1)
            index.insert(rest % size, at: 0)
            rest /= size
        }
        return index
    }
    /// The same elements in a new shape; one dimension may be -1 (inferred). Shares storage.
    public func reshaped(_ newShape: [Int]) throws(TensorError) -> Tensor {
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        guard inferred.count <= 1 else {
            throw .invalidArgument(op: "reshape", reason: "only one dimension can be -1 in \(formatShape(newShape))")
        }
        var resolved = newShape
        if let axis = inferred.first {
            var known = newShape
            known[axis] = 1
            let rest = try checkedCount(known, op: "reshape")
            guard rest > 0, count % rest == 0 else {
                throw .shapeMismatch(op: "reshape", shapes: [shape, newShape], reason: "\(count) elements do not divide into the new shape")
            }
            resolved[axis] = count / rest
        }
        guard try checkedCount(resolved, op: "reshape") == count else {
            throw .shapeMismatch(op: "reshape", shapes: [shape, newShape], reason: "element counts differ (\(count) vs \(resolved.reduce(1, *)))")
        }
        let inputShape = shape
        // d reshape(x)/dx: reshape the gradient back
        return Tensor(shape: resolved, storage: storage).recorded(from: [self]) { g in
            [Tensor(shape: inputShape, storage: g.storage)]
        }
    }

    /// Collapses the dimensions from `axis` on into one: [N, C, H, W] → [N, C·H·W] for axis 1.
    public func flattened(from axis: Int = 1) throws(TensorError) -> Tensor {
        let axis = try normalizeAxis(axis, rank: Swift.max(rank, 1), op: "flatten", shape: shape)
        return try reshaped(Array(shape[..<axis]) + [shape[axis...].reduce(1, *)])
    }

    /// A copy with broadcast semantics: size-1 and missing leading axes repeated to `target`.
    public func broadcast(to target: [Int]) throws(TensorError) -> Tensor {
        if target == shape { return self }
        let resolved = try Tensor.broadcastShape(shape, target, op: "broadcast")
        guard resolved == target else {
            throw .shapeMismatch(op: "broadcast", shapes: [shape, target], reason: "cannot broadcast to the target shape")
        }
        let y = Tensor(uninitializedShape: target)
        StridedCopy.copy(storage.pointer, sourceStrides: Tensor.broadcastStrides(shape, to: target),
                         y.storage.pointer, destinationStrides: contiguousStrides(target), shape: target)
        let inputShape = shape
        // d broadcast(x)/dx: sum the gradient over the repeated axes
        return y.recorded(from: [self]) { g throws(TensorError) in [try g.summed(toShape: inputShape)] }
    }

    /// Reorders the axes: output axis i is input axis `order[i]`.
    public func permuted(_ order: [Int]) throws(TensorError) -> Tensor {
        guard order.count == rank, order.sorted() == Array(0..<rank) else {
            throw .invalidArgument(op: "permute", reason: "\(order) is not a permutation of the \(rank) axes of \(formatShape(shape))")
        }
        let y = permutedCopy(order)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, axis) in order.enumerated() { inverse[axis] = i }
        // d permute(x)/dx: permute the gradient back with the inverse order
        return y.recorded(from: [self]) { g in [g.permutedCopy(inverse)] }
    }

    /// Swaps two axes (the last two by default).
    public func transposed(_ a: Int = -2, _ b: Int = -1) throws(TensorError) -> Tensor {
        let a = try normalizeAxis(a, rank: rank, op: "transpose", shape: shape)
        let b = try normalizeAxis(b, rank: rank, op: "transpose", shape: shape)
        var order = Array(0..<rank)
        order.swapAt(a, b)
        return try permuted(order)
    }

    func permutedCopy(_ order: [Int]) -> Tensor {
        let outShape = order.map { shape[$0] }
        let strides = contiguousStrides(shape)
        let y = Tensor(uninitializedShape: outShape)
        StridedCopy.copy(storage.pointer, sourceStrides: order.map { strides[$0] },
                         y.storage.pointer, destinationStrides: contiguousStrides(outShape), shape: outShape)
        return y
    }

    /// Elements `start, start+step, …` below `end` along `axis` (negative `start`/`end` count from the end).
    public func sliced(axis: Int, start: Int, end: Int? = nil, step: Int = 1) throws(TensorError) -> Tensor {
        let axis = try normalizeAxis(axis, rank: rank, op: "slice", shape: shape)
        let size = shape[axis]
        let lower = start < 0 ? start + size : start
        let upper = end.map { $0 < 0 ? $0 + size : $0 } ?? size
        guard step > 0 else { throw .invalidArgument(op: "slice", reason: "step must be positive, got \(step)") }
        guard lower >= 0, lower <= upper, upper <= size else {
            throw .invalidArgument(op: "slice", reason: "range \(start)..<\(end ?? size) out of bounds for axis \(axis) of size \(size) in \(formatShape(shape))")
        }
        var outShape = shape
        outShape[axis] = (upper - lower + step - 1) / step
        let strides = contiguousStrides(shape)
        var sourceStrides = strides
        sourceStrides[axis] *= step
        let y = Tensor(uninitializedShape: outShape)
        StridedCopy.copy(storage.pointer + lower * strides[axis], sourceStrides: sourceStrides,
                         y.storage.pointer, destinationStrides: contiguousStrides(outShape), shape: outShape)
        let inputShape = shape
        // d slice(x)/dx: the gradient scattered back into zeros
        return y.recorded(from: [self]) { g in
            let dx = Tensor(shape: inputShape, storage: Storage(count: inputShape.reduce(1, *), repeating: 0))
            StridedCopy.copy(g.storage.pointer, sourceStrides: contiguousStrides(outShape),
                             dx.storage.pointer + lower * strides[axis], destinationStrides: sourceStrides, shape: outShape)
            return [dx]
        }
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int) throws(TensorError) -> Tensor {
        guard let first = tensors.first else { throw .invalidArgument(op: "concat", reason: "no tensors to concatenate") }
        let axis = try normalizeAxis(axis, rank: first.rank, op: "concat", shape: first.shape)
        for t in tensors {
            guard t.rank == first.rank, t.shape.indices.allSatisfy({ $0 == axis || t.shape[$0] == first.shape[$0] }) else {
                throw .shapeMismatch(op: "concat", shapes: tensors.map(\.shape), reason: "shapes differ outside axis \(axis)")
            }
        }
        var outShape = first.shape
        outShape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        let y = Tensor(uninitializedShape: outShape)
        let outStrides = contiguousStrides(outShape)
        var offsets: [Int] = []
        var offset = 0
        for t in tensors {
            offsets.append(offset)
            StridedCopy.copy(t.storage.pointer, sourceStrides: contiguousStrides(t.shape),
                             y.storage.pointer + offset * outStrides[axis], destinationStrides: outStrides, shape: t.shape)
            offset += t.shape[axis]
        }
        let sizes = tensors.map { $0.shape[axis] }
        // d concat/dxᵢ: the slice of the gradient that xᵢ filled
        return y.recorded(from: tensors) { g throws(TensorError) in
            try zip(offsets, sizes).map { (start, size) throws(TensorError) in
                try g.detached().sliced(axis: axis, start: start, end: start + size)
            }
        }
    }

    /// Pads each axis with `padding[axis] = (before, after)` elements of `value`.
    public func padded(_ padding: [(before: Int, after: Int)], value: Float = 0) throws(TensorError) -> Tensor {
        guard padding.count == rank else {
            throw .invalidArgument(op: "pad", reason: "\(padding.count) padding pairs for a rank-\(rank) tensor \(formatShape(shape))")
        }
        guard padding.allSatisfy({ $0.before >= 0 && $0.after >= 0 }) else {
            throw .invalidArgument(op: "pad", reason: "padding must not be negative")
        }
        let outShape = try zip(shape, padding).map { (size, pad) throws(TensorError) in
            let (sum, overflow) = size.addingReportingOverflow(pad.before + pad.after)
            guard !overflow else { throw .invalidArgument(op: "pad", reason: "padding too large") }
            return sum
        }
        _ = try checkedCount(outShape, op: "pad")
        let y = Tensor(shape: outShape, storage: Storage(count: outShape.reduce(1, *), repeating: value))
        let outStrides = contiguousStrides(outShape)
        let origin = zip(padding, outStrides).reduce(0) { $0 + $1.0.before * $1.1 }
        StridedCopy.copy(storage.pointer, sourceStrides: contiguousStrides(shape),
                         y.storage.pointer + origin, destinationStrides: outStrides, shape: shape)
        let inputShape = shape
        // d pad(x)/dx: the interior of the gradient
        return y.recorded(from: [self]) { g in
            let dx = Tensor(uninitializedShape: inputShape)
            StridedCopy.copy(g.storage.pointer + origin, sourceStrides: outStrides,
                             dx.storage.pointer, destinationStrides: contiguousStrides(inputShape), shape: inputShape)
            return [dx]
        }
    }
}
