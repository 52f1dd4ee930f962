/// Reductions over the middle axis of a tensor viewed as [outer, n, inner].
///
/// Each output element is summed in one fixed order, whatever the thread count.
enum Reduction {
    static func sum(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int) {
        nonisolated(unsafe) let x = x, y = y
        if inner == 1 {
            Threads.parallelFor(outer, grain: Swift.max(1, Elementwise.grain / Swift.max(n, 1))) { range in
                for o in range { y[o] = sumContiguous(x + o * n, count: n) }
            }
            return
        }
        // Pieces of at most 4,096 values of a row, so that one long row (per-image weight-gradient
        // slots summed over the batch) still spreads over the threads; each value's sum is the same.
        let piece = Swift.min(inner, 4096), pieces = (inner + piece - 1) / piece
        Threads.parallelFor(outer * pieces, grain: Swift.max(1, Elementwise.grain / Swift.max(n * piece, 1))) { range in
            for unit in range {
                let (o, start) = (unit / pieces, unit % pieces * piece)
                let (out, count) = (y + o * inner + start, Swift.min(piece, inner - start))
                out.initialize(repeating: 0, count: count)
                for k in 0..<n {
                    let row = x + (o * n + k) * inner + start
                    for i in 0..<count { out[i] += row[i] }
                }
            }
        }
    }

    /// Sum of a contiguous run with eight interleaved accumulators (more accurate than one, and vectorized).
    @inline(__always)
    static func sumContiguous(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = SIMD8<Float>.zero
        var i = 0
        while i + 8 <= count {
            lanes += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        var total = lanes.sum()
        while i < count { total += x[i]; i += 1 }
        return total
    }

    /// Maximum and the index of its first occurrence along the middle axis (`n` ≥ 1).
    static func maximum(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ index: UnsafeMutablePointer<Int32>,
                    outer: Int, n: Int, inner: Int) {
        nonisolated(unsafe) let x = x, y = y, index = index
        Threads.parallelFor(outer, grain: Swift.max(1, Elementwise.grain / Swift.max(n * inner, 1))) { range in
            for o in range {
                let out = y + o * inner, at = index + o * inner
                let first = x + o * n * inner
                for i in 0..<inner { out[i] = first[i]; at[i] = 0 }
                for k in 1..<n {
                    let row = x + (o * n + k) * inner
                    // NaN wins, as in PyTorch: once a NaN is the maximum it stays.
                    for i in 0..<inner where row[i] > out[i] || (row[i].isNaN && !out[i].isNaN) {
                        out[i] = row[i]; at[i] = Int32(k)
                    }
                }
            }
        }
    }
}
