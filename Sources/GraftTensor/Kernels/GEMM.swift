import Foundation
import Synchronization

/// Which kernels the engine's matrix products use, and so whether results are the same bits on
/// every machine.
///
/// - `portable` (the default): graft's own GEMM (``PortableGEMM``), whose every output is one
///   chain of fused multiply-adds in a fixed order. With graft's other kernels (compiled for AVX2,
///   no run-time dispatch) and glibc's math functions (the same FMA variant on every CPU with AVX2
///   and FMA), a session gives the same bits on any such x86-64 CPU, whatever OpenBLAS would pick
///   and whatever `OPENBLAS_CORETYPE` says. AVX-512, where present, computes more outputs at once,
///   never one output in another order.
/// - `native`: OpenBLAS's kernels for this CPU (``BLAS``): the same bits only on the same kernel set.
public enum Numerics: String, Sendable, CaseIterable {
    case portable, native

    private static let state = Atomic<Int>(0)

    /// The numerics in force (process-wide, like the thread count).
    public static var current: Numerics {
        get { state.load(ordering: .relaxed) == 0 ? .portable : .native }
        set { state.store(newValue == .portable ? 0 : 1, ordering: .relaxed) }
    }

    /// How the numerics in force are named in a session header: `portable-avx2`, or `native`
    /// with OpenBLAS's kernel set (`native (blas SkylakeX)`).
    public static var label: String {
        switch current {
        case .portable: return portableLabel
        case .native: return "native (blas \(BLAS.coreName))"
        }
    }

    /// The portable numerics' name in session headers: the same bits on every x86-64 CPU with AVX2 and FMA.
    public static let portableLabel = "portable-avx2"

    /// Whether the wide (AVX-512) path of graft's own GEMM runs on this machine (it never changes bits).
    public static var wideKernels: Bool { PortableGEMM.wide }
}

/// The engine's one matrix product: row-major C = op(A)·op(B) (`beta` 0) or C + op(A)·op(B)
/// (`beta` 1), with op(A) [m, k] and op(B) [k, n], through the kernels ``Numerics`` chooses.
enum GEMM {
    static func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                      _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(beta == 0 || beta == 1, "GEMM takes beta 0 or 1")
        switch Numerics.current {
        case .portable:
            PortableGEMM.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb,
                               accumulate: beta == 1, c, ldc: ldc)
        case .native:
            BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb,
                       beta: beta, c, ldc: ldc)
        }
    }
}

/// The CPU's features that decide which kernels may run (Linux's /proc/cpuinfo: the kernel lists
/// a feature only when the operating system supports its registers).
public enum CPUFeatures {
    public static let flags: Set<String> = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let value = line.split(separator: ":", maxSplits: 1).last else { return [] }
        return Set(value.split(separator: " ").map(String.init))
    }()

    /// AVX-512 Foundation, unless `GRAFT_WIDE_KERNELS=off` asks for the AVX2 kernels (they give the same bits).
    static var wideKernels: Bool {
        flags.contains("avx512f") && ProcessInfo.processInfo.environment["GRAFT_WIDE_KERNELS"] != "off"
    }
}
