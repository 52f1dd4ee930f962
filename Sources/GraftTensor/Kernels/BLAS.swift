import CBLAS

/// The one Swift wrapper around OpenBLAS.
enum BLAS {
    /// Row-major C = alpha·op(A)·op(B) + beta·C, with op(A) [m, k] and op(B) [k, n].
    @inline(__always)
    static func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                      alpha: Float = 1, _ a: UnsafePointer<Float>, lda: Int,
                      _ b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = Threads.configureBLAS
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // OpenBLAS may skip scaling C when k = 0; do it ourselves.
            for row in 0..<m { for col in 0..<n { c[row * ldc + col] = beta == 0 ? 0 : beta * c[row * ldc + col] } }
            return
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    /// The kernel set OpenBLAS chose for this CPU (for the session fingerprint).
    static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    static func setThreadCount(_ count: Int) { openblas_set_num_threads(Int32(count)) }
}

/// Facts about the engine's numerical libraries (for machine fingerprints).
public enum EngineInfo {
    /// OpenBLAS's kernel set for this CPU (`Haswell`, `Zen`, `Cooperlake`, …).
    public static var blasCoreName: String { BLAS.coreName }
}
