/// Eight-wide SIMD helpers for kernels whose loops the compiler will not vectorize on its own
/// (Swift's overflow-checked index arithmetic keeps LLVM from proving the loop safe).
enum Lanes {
    @inline(__always)
    static func load(_ p: UnsafePointer<Float>, _ offset: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + offset).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Float>, _ offset: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + offset).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ offset: Int) {
        UnsafeMutableRawPointer(p + offset).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// Calls `vector` at 0, 8, 16, … while eight elements remain, then once more at `count − 8`
    /// for the remainder (overlapping the previous chunk), or `scalar` per element when `count` < 8.
    /// The body must write only its own outputs, never its inputs, so repeating elements is harmless.
    @inline(__always)
    static func forEach(_ count: Int, _ vector: (Int) -> Void, scalar: (Int) -> Void) {
        guard count >= 8 else {
            for j in 0..<count { scalar(j) }
            return
        }
        var j = 0
        while j &+ 8 <= count {
            vector(j)
            j &+= 8
        }
        if j < count { vector(count &- 8) }
    }

    /// p[i] ← f(p[i]) for i in 0..<count: eight at a time, then one at a time (in place, so no
    /// element is visited twice). `scalar` must give the bits of one lane of `vector`.
    @inline(__always)
    static func mapInPlace(_ p: UnsafeMutablePointer<Float>, count: Int, _ vector: (SIMD8<Float>) -> SIMD8<Float>,
                           scalar: (Float) -> Float) {
        var j = 0
        while j &+ 8 <= count {
            store(vector(load(p, j)), p, j)
            j &+= 8
        }
        while j < count {
            p[j] = scalar(p[j])
            j &+= 1
        }
    }
}
