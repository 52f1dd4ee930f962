/// Copies an n-d block between two strided layouts: the one kernel behind permute, slice,
/// concatenation, padding and broadcasting.
enum StridedCopy {
    static func copy(_ source: UnsafePointer<Float>, sourceStrides: [Int],
                     _ destination: UnsafeMutablePointer<Float>, destinationStrides: [Int], shape: [Int]) {
        // Each element goes to its place whatever the order, so the innermost loop runs along the
        // axis the source reads contiguously when the last axis is shorter (a Keras kernel's
        // HWIO → OIHW: rows of 1–3 elements otherwise, each paying the offset arithmetic).
        if let last = shape.indices.last, sourceStrides[last] != 1,
           let contiguous = shape.indices.first(where: { sourceStrides[$0] == 1 && shape[$0] > shape[last] }) {
            var (shape, sourceStrides, destinationStrides) = (shape, sourceStrides, destinationStrides)
            shape.swapAt(contiguous, last)
            sourceStrides.swapAt(contiguous, last)
            destinationStrides.swapAt(contiguous, last)
            return copy(source, sourceStrides: sourceStrides, destination, destinationStrides: destinationStrides, shape: shape)
        }
        let total = shape.reduce(1, *)
        guard total > 0 else { return }
        guard let inner = shape.last else { destination[0] = source[0]; return }
        let rank = shape.count
        let innerSource = sourceStrides[rank - 1], innerDestination = destinationStrides[rank - 1]
        let outer = Array(shape.dropLast())
        let rows = total / inner
        nonisolated(unsafe) let source = source, destination = destination
        Threads.parallelFor(rows, grain: max(1, Elementwise.grain / inner)) { range in
            for row in range {
                let (s, d) = stridedOffsets(row, shape: outer, sourceStrides, destinationStrides)
                let ps = source + s, pd = destination + d
                if innerSource == 1 && innerDestination == 1 {
                    pd.update(from: ps, count: inner)
                } else {
                    for i in 0..<inner { pd[i * innerDestination] = ps[i * innerSource] }
                }
            }
        }
    }
}

/// The offsets of flat row-major index `index` of `shape` in two strided layouts.
@inline(__always)
func stridedOffsets(_ index: Int, shape: [Int], _ stridesA: [Int], _ stridesB: [Int]) -> (Int, Int) {
    var rest = index, a = 0, b = 0
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        let coordinate = rest % shape[axis]
        rest /= shape[axis]
        a += coordinate * stridesA[axis]
        b += coordinate * stridesB[axis]
    }
    return (a, b)
}
