import CGraftKernels
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

/// The precision of the engine's matrix products (`set precision=`): float32, or bfloat16 inputs
/// with float32 accumulation on CPUs with AVX-512 BF16 (opt-in, for speed).
///
/// With `bf16`, every GEMM — linear layers, convolutions (im2col and Winograd), attention, forward
/// and backward — rounds its operands to bfloat16 (to nearest, ties to even) and multiplies them
/// with `vdpbf16ps`, summing in float32; weights, activations and optimizer state stay float32 (the
/// master weights of mixed-precision training). Other kernels (depthwise, pooling, normalization)
/// stay float32. Results are the same bits run to run and for any thread count on one kind of
/// CPU; across CPUs they are not promised (the instruction's rounding is the vendor's), so a
/// session replayed elsewhere compares its figures within tolerance.
public enum Precision: String, Sendable, CaseIterable {
    case float32, bf16

    private static let state = Atomic<Int>(0)

    /// The precision in force (process-wide, like ``Numerics``).
    public static var current: Precision { state.load(ordering: .relaxed) == 0 ? .float32 : .bf16 }

    /// Whether this CPU runs bfloat16 products: AVX-512 BF16 (AMD Zen 4 and later, Intel Cooper
    /// Lake and Sapphire Rapids and later), checked at run time; `GRAFT_BF16=off` treats the CPU as
    /// lacking it (tests of the refusal on a machine that has it).
    public static let available: Bool = CPUFeatures.flags.isSuperset(of: ["avx512f", "avx512_bf16"]) && graft_bf16_compiled() == 1
        && ProcessInfo.processInfo.environment["GRAFT_BF16"] != "off"

    /// Changes the precision; `bf16` is refused on a CPU without AVX-512 BF16 (nothing changes).
    public static func set(_ precision: Precision) throws(TensorError) {
        if precision == .bf16, !available {
            throw .invalidArgument(op: "precision", reason: "bf16 needs a CPU with AVX-512 BF16 (AMD Zen 4 or later, Intel Cooper Lake or Sapphire Rapids or later); this one (\(CPUFeatures.modelName)) has none, so products stay float32")
        }
        state.store(precision == .float32 ? 0 : 1, ordering: .relaxed)
    }
}

/// The engine's one matrix product: row-major C = op(A)·op(B) (`beta` 0) or C + op(A)·op(B)
/// (`beta` 1), with op(A) [m, k] and op(B) [k, n], through the kernels ``Numerics`` chooses.
enum GEMM {
    /// Called on blocks of C once their values are final, to finish them while they are still in
    /// cache (a linear layer's bias and activation): rows × columns of C, each element once, blocks
    /// possibly on several threads at once. It must treat each element alone, so that the result
    /// is that of one pass over C after the product.
    typealias Finish = (_ rows: Range<Int>, _ columns: Range<Int>) -> Void

    static func sgemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                      _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, _ c: UnsafeMutablePointer<Float>, ldc: Int, finish: Finish? = nil) {
        precondition(beta == 0 || beta == 1, "GEMM takes beta 0 or 1")
        if runsGraftKernels {
            PortableGEMM.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb,
                               accumulate: beta == 1, c, ldc: ldc, tile: portableTile, finish: finish)
            return
        }
        BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb,
                   beta: beta, c, ldc: ldc)
        if let finish {
            // OpenBLAS has no hook: one pass over C after it, by blocks of rows.
            nonisolated(unsafe) let finish = finish
            let block = Swift.max(1, Elementwise.grain / Swift.max(n, 1))
            Threads.parallelFor((m + block - 1) / block, grain: 1) { blocks in
                for b in blocks { finish(b * block..<Swift.min(m, (b + 1) * block), 0..<n) }
            }
        }
    }
}

extension GEMM {
    /// Whether products run graft's own kernels: bf16 ones always, float32 ones in the portable numerics.
    static var runsGraftKernels: Bool { Precision.current == .bf16 || Numerics.current == .portable }

    /// The tile graft's own GEMM uses in force: bfloat16's under `set precision=bf16`, float32's for this CPU otherwise.
    static var portableTile: PortableGEMM.Tile { Precision.current == .bf16 ? .bf16 : .float32 }

    /// y [rows, out] = x [rows, in] · wᵀ (w [out, in], PyTorch's layout), then the bias added and
    /// `epilogue` applied per output feature: a linear layer, or a channels-last pointwise
    /// convolution (rows are pixels). The bias and the epilogue finish each block of y as the product
    /// completes it (``Finish``), while it is in cache: the bits of a pass over y after the product.
    static func linear(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                       _ y: UnsafeMutablePointer<Float>, rows: Int, inFeatures: Int, outFeatures: Int, epilogue: ConvEpilogue? = nil) {
        guard rows > 0, outFeatures > 0 else { return }
        let finisher = LinearFinish(bias, epilogue, outFeatures: outFeatures)
        let depth = Swift.max(inFeatures, 1)
        sgemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures, x, lda: depth, w, ldb: depth, y, ldc: outFeatures,
              finish: finisher?.finish(y))
        withExtendedLifetime(finisher) {}
    }

    /// What finishes a linear map's output y [rows, out] block by block (``GEMM/linear``): the bias
    /// added, the map and the clamp eight columns at a time in registers (ChannelsLast.Finish: the
    /// scalar epilogue's arithmetic and NaN and −0 rules), then the activation over the block's row.
    /// Nil when there is nothing to do.
    final class LinearFinish: @unchecked Sendable {
        private let bias: UnsafePointer<Float>?
        private let function: ConvEpilogue.Function?
        private let finisher: ChannelsLast.Finish
        private let maps: Storage
        private let outFeatures: Int

        init?(_ bias: UnsafePointer<Float>?, _ epilogue: ConvEpilogue?, outFeatures: Int) {
            let epilogue = epilogue.flatMap { $0.isIdentity ? nil : $0 }
            guard bias != nil || epilogue != nil else { return nil }
            maps = Storage(uninitializedCount: epilogue?.scale == nil ? 0 : 2 * outFeatures)
            finisher = ChannelsLast.Finish(epilogue, maps: maps.pointer, channels: outFeatures)
            (self.bias, function, self.outFeatures) = (bias, epilogue?.function, outFeatures)
        }

        /// The finish of a product written to `y` (row stride `outFeatures`); valid while this object lives.
        func finish(_ y: UnsafeMutablePointer<Float>) -> Finish {
            nonisolated(unsafe) let y = y
            return { [bias, finisher, function, outFeatures] rowRange, columns in
                let whole = columns.lowerBound + columns.count / 8 * 8
                for r in rowRange {
                    let row = y + r * outFeatures
                    var ch = columns.lowerBound
                    while ch < whole {
                        var v = Lanes.load(row, ch)
                        if let bias { v += Lanes.load(bias, ch) }
                        Lanes.store(finisher(v, ch), row, ch)
                        ch &+= 8
                    }
                    while ch < columns.upperBound {
                        var v = row[ch]
                        if let bias { v += bias[ch] }
                        row[ch] = finisher(v, ch)
                        ch &+= 1
                    }
                    function?.apply(row + columns.lowerBound, count: columns.count)
                }
            }
        }
    }
}

/// The CPU's features that decide which kernels may run (Linux's /proc/cpuinfo: the kernel lists
/// a feature only when the operating system supports its registers).
public enum CPUFeatures {
    public static let flags: Set<String> = Set((field("flags") ?? "").split(separator: " ").map(String.init))

    /// The CPU's model name (/proc/cpuinfo), for messages.
    public static let modelName: String = field("model name") ?? "unknown CPU"

    /// The value of the first /proc/cpuinfo line named `name`, trimmed.
    private static func field(_ name: String) -> String? {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
              let value = line.split(separator: ":", maxSplits: 1).last else { return nil }
        return value.trimmingCharacters(in: .whitespaces)
    }

    /// The size of one core's level-2 cache (Linux's sysfs), 512 KB when it cannot be read; it sizes
    /// blocks of work, never results.
    static let level2CacheBytes: Int = {
        guard let text = try? String(contentsOfFile: "/sys/devices/system/cpu/cpu0/cache/index2/size", encoding: .utf8) else { return 512 << 10 }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let scale = trimmed.hasSuffix("K") ? 1 << 10 : trimmed.hasSuffix("M") ? 1 << 20 : 1
        guard let value = Int(trimmed.filter(\.isNumber)), value > 0, value <= 1 << 20 else { return 512 << 10 }
        return Swift.min(value * scale, 16 << 20)
    }()

    /// AVX-512 Foundation, unless `GRAFT_WIDE_KERNELS=off` asks for the AVX2 kernels (they give the same bits).
    static var wideKernels: Bool {
        flags.contains("avx512f") && ProcessInfo.processInfo.environment["GRAFT_WIDE_KERNELS"] != "off"
    }
}
