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

    /// The four arithmetic operators: their loops are written out per operator, where a closure
    /// would cost a call per element (it cannot be inlined across the threads' loop).
    enum Arithmetic: Sendable {
        case add, subtract, multiply, divide

        var name: String {
            switch self {
            case .add: "add"
            case .subtract: "sub"
            case .multiply: "mul"
            case .divide: "div"
            }
        }

        /// y[i] = a[i·sa] ∘ b[i·sb] for i < count, each stride 0 (one value) or 1.
        @inline(__always)
        func run(_ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int, _ y: UnsafeMutablePointer<Float>, count: Int) {
            switch self {
            case .add: Elementwise.row(a, sa, b, sb, y, count: count) { $0 + $1 }
            case .subtract: Elementwise.row(a, sa, b, sb, y, count: count) { $0 - $1 }
            case .multiply: Elementwise.row(a, sa, b, sb, y, count: count) { $0 * $1 }
            case .divide: Elementwise.row(a, sa, b, sb, y, count: count) { $0 / $1 }
            }
        }
    }

    /// y[i] = f(a[i·sa], b[i·sb]) for i < count, each stride 0 (one value) or 1: one row of a broadcast.
    @inline(__always)
    static func row(_ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int, _ y: UnsafeMutablePointer<Float>,
                    count: Int, _ f: (Float, Float) -> Float) {
        switch (sa, sb) {
        case (1, 1): for i in 0..<count { y[i] = f(a[i], b[i]) }
        case (1, 0): let vb = b[0]; for i in 0..<count { y[i] = f(a[i], vb) }
        case (0, 1): let va = a[0]; for i in 0..<count { y[i] = f(va, b[i]) }
        default: let value = f(a[0], b[0]); for i in 0..<count { y[i] = value }
        }
    }

    static func zip(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, _ op: Arithmetic) {
        nonisolated(unsafe) let a = a, b = b, y = y
        Threads.parallelFor(count, grain: grain) { range in
            op.run(a + range.lowerBound, 1, b + range.lowerBound, 1, y + range.lowerBound, count: range.count)
        }
    }

    static func zipBroadcast(_ a: UnsafePointer<Float>, stridesA: [Int], _ b: UnsafePointer<Float>, stridesB: [Int],
                             _ y: UnsafeMutablePointer<Float>, shape: [Int], _ op: Arithmetic) {
        broadcastRows(a, stridesA: stridesA, b, stridesB: stridesB, y, shape: shape) { pa, sa, pb, sb, py, count in
            op.run(pa, sa, pb, sb, py, count: count)
        }
    }

    /// `y[i] = f(a[ia], b[ib])` over `shape`, where `ia`, `ib` follow strides that are 0 on broadcast axes.
    @inline(__always)
    static func zipBroadcast(_ a: UnsafePointer<Float>, stridesA: [Int], _ b: UnsafePointer<Float>, stridesB: [Int],
                             _ y: UnsafeMutablePointer<Float>, shape: [Int], _ f: (Float, Float) -> Float) {
        broadcastRows(a, stridesA: stridesA, b, stridesB: stridesB, y, shape: shape) { pa, sa, pb, sb, py, count in
            row(pa, sa, pb, sb, py, count: count, f)
        }
    }

    /// `body(a's row, its stride, b's row, its stride, y's row, count)` for every row along `shape`'s last
    /// axis (strides 0 on broadcast axes, so a row's stride is 0 or 1), the rows spread over the threads.
    @inline(__always)
    private static func broadcastRows(_ a: UnsafePointer<Float>, stridesA: [Int], _ b: UnsafePointer<Float>, stridesB: [Int],
                                      _ y: UnsafeMutablePointer<Float>, shape: [Int],
                                      _ body: (UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, UnsafeMutablePointer<Float>, Int) -> Void) {
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
                body(a + offsetA, innerA, b + offsetB, innerB, y + row * inner, inner)
            }
        }
    }
}
