import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS picks its kernels for the CPU when the library loads. Debian's OpenBLAS (0.3.21) does
/// not know CPUs newer than it (an Intel Xeon of model 207, Emerald Rapids, for one) and falls back
/// to its generic SSE3 kernels ("Prescott"), eight times slower at GEMM on a CPU with AVX-512. The
/// kernels can only be chosen before the library loads (`OPENBLAS_CORETYPE`), so a program that
/// finds the fallback on such a CPU starts itself again with the right choice.
public enum BLASCore {
    /// OpenBLAS's generic choices: what it settles for when it does not recognize the CPU.
    static let fallbacks: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "unknown"]

    /// The core type to ask for, given the one OpenBLAS chose and the CPU's feature flags; nil when
    /// its choice stands (it recognized the CPU, the user chose one, or the CPU has no AVX2).
    public static func better(than chosen: String, flags: Set<String>, requested: String?) -> String? {
        guard requested == nil || requested == "", fallbacks.contains(chosen) else { return nil }
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// The CPU's feature flags (Linux's /proc/cpuinfo).
    static var cpuFlags: Set<String> { CPUFeatures.flags }

    /// Starts this program again with a better core type when OpenBLAS fell back to a generic one;
    /// returns (changing nothing) when that is not needed or not possible. Call first in `main`.
    public static func relaunchIfNeeded() {
        let requested = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"]
        guard let core = better(than: BLAS.coreName, flags: cpuFlags, requested: requested) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returned: it failed; go on with the generic kernels.
    }
}
