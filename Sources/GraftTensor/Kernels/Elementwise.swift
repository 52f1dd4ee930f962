/// Elementwise loops over contiguous buffers and broadcast views.
///
/// Large loops are split across threads in fixed-size chunks; each element is computed
/// independently, so chunking never changes a result.
enum Elementwise {
    /// Elements per chunk for memory-bound loops (below it, threads cost more than they save).
    static let grain = 1 << 16

    @inline(__always)
    static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, _ f: (Float) -> Float) {
        nonisolated(unsafe) let x = x, y = y
        Threads.parallelFor(count, grain: grain) { range in
            for i in range { y[i] = f(x[i]) }
        }
    }

    @inline(__always)
    static func zip(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                    count: Int, _ f: (Float, Float) -> Float) {
        nonisolated(unsafe) let a = a, b = b, y = y
        Threads.parallelFor(count, grain: grain) { range in
            for i in range { y[i] = f(a[i], b[i]) }
        }
    }

    /// `y[i] = f(a[ia], b[ib])` over `shape`, where `ia`, `ib` follow strides that are 0 on broadcast axes.
    @inline(__always)
    static func zipBroadcast(_ a: UnsafePointer<Float>, stridesA: [Int], _ b: UnsafePointer<Float>, stridesB: [Int],
                             _ y: UnsafeMutablePointer<Float>, shape: [Int], _ f: (Float, Float) -> Float) {
        let rank = shape.count
        let inner = shape[rank - 1]
        let innerA = stridesA[rank - 1], innerB = stridesB[rank - 1]
        let rows = shape.dropLast().reduce(1, *)
        let outer = Array(shape.dropLast())
        let outerA = Array(stridesA.dropLast()), outerB = Array(stridesB.dropLast())
        nonisolated(unsafe) let a = a, b = b, y = y
        Threads.parallelFor(rows, grain: max(1, grain / max(inner, 1))) { range in
            for row in range {
                let (offsetA, offsetB) = stridedOffsets(row, shape: outer, outerA, outerB)
                let pa = a + offsetA, pb = b + offsetB, py = y + row * inner
                switch (innerA, innerB) {
                case (1, 1): for i in 0..<inner { py[i] = f(pa[i], pb[i]) }
                case (1, 0): let vb = pb[0]; for i in 0..<inner { py[i] = f(pa[i], vb) }
                case (0, 1): let va = pa[0]; for i in 0..<inner { py[i] = f(va, pb[i]) }
                default: let va = pa[0], vb = pb[0]; for i in 0..<inner { py[i] = f(va, vb) }
                }
            }
        }
    }
}
