import CBLAS

/// The one Swift wrapper around OpenBLAS.
enum BLAS {
    /// Row-major C = alpha·op(A)·op(B) + beta·C, with op(A) [m, k] and op(B) [k, n].
    ///
    /// OpenBLAS always runs single-threaded here (its threaded path rounds differently from its
    /// single-threaded one for some shapes and kernel sets, and splits work into fixed halves). A
    /// large product is cut into blocks of C's rows, or of its columns when those are longer — the
    /// blocks depend on the shapes only — that graft's threads take as they come free: the same
    /// bits for any thread count, and a core that another process keeps busy slows only the blocks
    /// it takes. Inside a parallel loop the blocks run one after another on the calling thread.
    static func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                      alpha: Float = 1, _ a: UnsafePointer<Float>, lda: Int,
                      _ b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = singleThreaded
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // OpenBLAS may skip scaling C when k = 0; do it ourselves.
            for row in 0..<m { for col in 0..<n { c[row * ldc + col] = beta == 0 ? 0 : beta * c[row * ldc + col] } }
            return
        }
        let splitsRows = m >= n
        let length = splitsRows ? m : n
        let blocks = Double(m) * Double(n) * Double(k) < Double(1 << 19) ? 1 : Swift.min(16, Swift.max(1, length / 64))
        nonisolated(unsafe) let (a, b, c) = (a, b, c)
        Threads.parallelFor(blocks, grain: 1) { range in
            for block in range {
                let low = length * block / blocks, high = length * (block + 1) / blocks
                if splitsRows {
                    // Rows low..<high of op(A) and of C.
                    call(transposeA, transposeB, m: high - low, n: n, k: k, alpha, transposeA ? a + low : a + low * lda, lda,
                         b, ldb, beta, c + low * ldc, ldc)
                } else {
                    // Columns low..<high of op(B) and of C.
                    call(transposeA, transposeB, m: m, n: high - low, k: k, alpha, a, lda,
                         transposeB ? b + low * ldb : b + low, ldb, beta, c + low, ldc)
                }
            }
        }
    }

    @inline(__always)
    private static func call(_ transposeA: Bool, _ transposeB: Bool, m: Int, n: Int, k: Int, _ alpha: Float,
                             _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                             _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// OpenBLAS's own thread pool stays at one thread: graft's threads call it (see ``sgemm``).
    private static let singleThreaded: Void = { openblas_set_num_threads(1) }()

    /// The kernel set OpenBLAS chose for this CPU (for the session fingerprint).
    static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

}

/// Facts about the engine's numerical libraries (for machine fingerprints).
public enum EngineInfo {
    /// OpenBLAS's kernel set for this CPU (`Haswell`, `Zen`, `Cooperlake`, …).
    public static var blasCoreName: String { BLAS.coreName }
}
