/// The AVX-512 micro-kernel of graft's portable GEMM, in a module of its own: only this module is
/// compiled for AVX-512 (`-mavx512f`), and its entry point is never inlined into code that runs
/// without the run-time check (`PortableGEMM.wide` in GraftTensor).
///
/// It computes an 8 × 32 tile of C with the same chains as the AVX2 kernel's 6 × 16 tiles: each
/// output starts from 0 or from C and adds `a[i, p]·b[p, j]` for p = 0, 1, … with one fused
/// multiply-add each. The wider registers only hold more independent outputs.
public enum WideGEMM {
    /// Rows and columns of the tile.
    public static let mr = 8, nr = 32

    /// C[0..<8, 0..<32] (row stride `ldc`) ← (accumulate ? C : 0) + A-panel · B-panel over `depth`
    /// steps; the panels are k-major: a[p·8 + r], b[p·32 + q].
    @inline(never)
    public static func tile(_ depth: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                            _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool) {
        kernel(depth, a, rowStride: 1, stepStride: 8, b, c, ldc, accumulate)
    }

    /// ``tile(_:_:_:_:_:_:)`` reading A's eight rows where they lie: a[r·lda + p] (no packed panel).
    @inline(never)
    public static func tile(_ depth: Int, rows a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>,
                            _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool) {
        kernel(depth, a, rowStride: lda, stepStride: 1, b, c, ldc, accumulate)
    }

    /// An 8 × 16 tile (a last panel of B with at most 16 columns), the same chains: step p's sixteen
    /// B values at b[p·ldb ..< p·ldb + 16] (ldb 32 for a packed panel); A packed (`rowStride` 1,
    /// `stepStride` 8) or read in place (`lda`, 1).
    @inline(never)
    public static func halfTile(_ depth: Int, _ a: UnsafePointer<Float>, rowStride rs: Int, stepStride: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                                _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool) {
        var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>(), c3 = SIMD16<Float>()
        var c4 = SIMD16<Float>(), c5 = SIMD16<Float>(), c6 = SIMD16<Float>(), c7 = SIMD16<Float>()
        if accumulate {
            c0 = load(c, 0); c1 = load(c, ldc); c2 = load(c, 2 &* ldc); c3 = load(c, 3 &* ldc)
            c4 = load(c, 4 &* ldc); c5 = load(c, 5 &* ldc); c6 = load(c, 6 &* ldc); c7 = load(c, 7 &* ldc)
        }
        var pa = a, pb = b
        for _ in 0..<depth {
            let b0 = load(pb, 0)
            c0 = c0.addingProduct(SIMD16<Float>(repeating: pa[0]), b0)
            c1 = c1.addingProduct(SIMD16<Float>(repeating: pa[rs]), b0)
            c2 = c2.addingProduct(SIMD16<Float>(repeating: pa[2 &* rs]), b0)
            c3 = c3.addingProduct(SIMD16<Float>(repeating: pa[3 &* rs]), b0)
            c4 = c4.addingProduct(SIMD16<Float>(repeating: pa[4 &* rs]), b0)
            c5 = c5.addingProduct(SIMD16<Float>(repeating: pa[5 &* rs]), b0)
            c6 = c6.addingProduct(SIMD16<Float>(repeating: pa[6 &* rs]), b0)
            c7 = c7.addingProduct(SIMD16<Float>(repeating: pa[7 &* rs]), b0)
            pa += stepStride
            pb += ldb
        }
        store(c0, c, 0); store(c1, c, ldc); store(c2, c, 2 &* ldc); store(c3, c, 3 &* ldc)
        store(c4, c, 4 &* ldc); store(c5, c, 5 &* ldc); store(c6, c, 6 &* ldc); store(c7, c, 7 &* ldc)
    }

    /// The tile with A's element (r, p) at a[r·rowStride + p·stepStride].
    @inline(__always)
    private static func kernel(_ depth: Int, _ a: UnsafePointer<Float>, rowStride rs: Int, stepStride: Int, _ b: UnsafePointer<Float>,
                               _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ accumulate: Bool) {
        var c00 = SIMD16<Float>(), c01 = SIMD16<Float>(), c10 = SIMD16<Float>(), c11 = SIMD16<Float>()
        var c20 = SIMD16<Float>(), c21 = SIMD16<Float>(), c30 = SIMD16<Float>(), c31 = SIMD16<Float>()
        var c40 = SIMD16<Float>(), c41 = SIMD16<Float>(), c50 = SIMD16<Float>(), c51 = SIMD16<Float>()
        var c60 = SIMD16<Float>(), c61 = SIMD16<Float>(), c70 = SIMD16<Float>(), c71 = SIMD16<Float>()
        if accumulate {
            c00 = load(c, 0); c01 = load(c, 16)
            c10 = load(c, ldc); c11 = load(c, ldc &+ 16)
            c20 = load(c, 2 &* ldc); c21 = load(c, 2 &* ldc &+ 16)
            c30 = load(c, 3 &* ldc); c31 = load(c, 3 &* ldc &+ 16)
            c40 = load(c, 4 &* ldc); c41 = load(c, 4 &* ldc &+ 16)
            c50 = load(c, 5 &* ldc); c51 = load(c, 5 &* ldc &+ 16)
            c60 = load(c, 6 &* ldc); c61 = load(c, 6 &* ldc &+ 16)
            c70 = load(c, 7 &* ldc); c71 = load(c, 7 &* ldc &+ 16)
        }
        var pa = a, pb = b
        for _ in 0..<depth {
            let b0 = load(pb, 0), b1 = load(pb, 16)
            var x = SIMD16<Float>(repeating: pa[0])
            c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: pa[1 &* rs])
            c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: pa[2 &* rs])
            c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: pa[3 &* rs])
            c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: pa[4 &* rs])
            c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: pa[5 &* rs])
            c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: pa[6 &* rs])
            c60 = c60.addingProduct(x, b0); c61 = c61.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: pa[7 &* rs])
            c70 = c70.addingProduct(x, b0); c71 = c71.addingProduct(x, b1)
            pa += stepStride
            pb += 32
        }
        store(c00, c, 0); store(c01, c, 16)
        store(c10, c, ldc); store(c11, c, ldc &+ 16)
        store(c20, c, 2 &* ldc); store(c21, c, 2 &* ldc &+ 16)
        store(c30, c, 3 &* ldc); store(c31, c, 3 &* ldc &+ 16)
        store(c40, c, 4 &* ldc); store(c41, c, 4 &* ldc &+ 16)
        store(c50, c, 5 &* ldc); store(c51, c, 5 &* ldc &+ 16)
        store(c60, c, 6 &* ldc); store(c61, c, 6 &* ldc &+ 16)
        store(c70, c, 7 &* ldc); store(c71, c, 7 &* ldc &+ 16)
    }

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>, _ offset: Int) -> SIMD16<Float> {
        UnsafeRawPointer(p + offset).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    private static func load(_ p: UnsafeMutablePointer<Float>, _ offset: Int) -> SIMD16<Float> {
        UnsafeRawPointer(p + offset).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    private static func store(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, _ offset: Int) {
        UnsafeMutableRawPointer(p + offset).storeBytes(of: v, as: SIMD16<Float>.self)
    }
}
