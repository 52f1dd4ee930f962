/// Copies an n-d block between two strided layouts: the one kernel behind permute, slice,
/// concatenation, padding and broadcasting.
enum StridedCopy {
    static func copy(_ source: UnsafePointer<Float>, sourceStrides: [Int],
                     _ destination: UnsafeMutablePointer<Float>, destinationStrides: [Int], shape: [Int]) {
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
                var rest = row, s = 0, d = 0
                for axis in stride(from: outer.count - 1, through: 0, by: -1) {
                    let coordinate = rest % outer[axis]
                    rest /= outer[axis]
                    s += coordinate * sourceStrides[axis]
                    d += coordinate * destinationStrides[axis]
                }
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
