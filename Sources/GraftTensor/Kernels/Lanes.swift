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

    /// Calls `vector` at 0, 8, 16, … while eight elements remain, then `scalar` for the rest.
    @inline(__always)
    static func forEach(_ count: Int, _ vector: (Int) -> Void, scalar: (Int) -> Void) {
        var j = 0
        while j &+ 8 <= count {
            vector(j)
            j &+= 8
        }
        while j < count {
            scalar(j)
            j &+= 1
        }
    }
}
