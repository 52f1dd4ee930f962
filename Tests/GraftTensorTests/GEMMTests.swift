import Foundation
import Testing
@testable import GraftTensor

/// graft's portable GEMM: every output is one FMA chain over k in order, so it equals a scalar
/// reference bit for bit, whatever the blocking, the vector width and the thread count.
@Suite("Portable GEMM: one FMA chain per output", .serialized)
struct GEMMTests {
    /// The definition: c ← c₀ (0, or C with beta 1); for p in 0..<k { c ← fma(a[i, p], b[p, j], c) }.
    static func reference(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: [Float], lda: Int,
                          b: [Float], ldb: Int, accumulate: Bool, c: [Float], ldc: Int) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = accumulate ? c[i * ldc + j] : 0
                for p in 0..<k {
                    let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                    let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                    sum = sum.addingProduct(x, y)
                }
                out[i * ldc + j] = sum
            }
        }
        return out
    }

    static func random(_ count: Int, _ generator: Generator) -> [Float] {
        (0..<count).map { _ in Float(generator.nextDouble() * 2 - 1) }
    }

    static func run(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int,
                    accumulate: Bool, c: [Float], ldc: Int, wide: Bool = PortableGEMM.wide) -> [Float] {
        var out = c
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    PortableGEMM.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                       pa.baseAddress!, lda: lda, pb.baseAddress!, ldb: ldb,
                                       accumulate: accumulate, pc.baseAddress!, ldc: ldc, wide: wide)
                }
            }
        }
        return out
    }

    /// Shapes around every block edge: tiles (6, 8 rows; 16, 32 columns), MC = 96, NB = 256, KC = 256.
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (5, 17, 3), (6, 16, 256), (7, 33, 257), (8, 32, 1), (13, 100, 40), (97, 257, 513),
        (200, 31, 300), (3, 600, 70), (64, 3136, 27), (24, 3137, 144), (96, 300, 600),
    ]

    @Test(arguments: [false, true])
    func equalsTheFMAChainBitForBit(wide: Bool) throws {
        if wide && !CPUFeatures.flags.contains("avx512f") { return }  // this CPU runs the AVX2 kernel only
        let generator = Generator(seed: 7)
        for (m, n, k) in Self.shapes {
            for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
                for accumulate in [false, true] {
                    // Leading dimensions wider than the matrices, as in sub-matrix calls.
                    let lda = (transposeA ? m : k) + 3, ldb = (transposeB ? k : n) + 1, ldc = n + 2
                    let a = Self.random((transposeA ? k : m) * lda, generator)
                    let b = Self.random((transposeB ? n : k) * ldb, generator)
                    let c = Self.random(m * ldc, generator)
                    let want = Self.reference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda,
                                              b: b, ldb: ldb, accumulate: accumulate, c: c, ldc: ldc)
                    let got = Self.run(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda,
                                       b: b, ldb: ldb, accumulate: accumulate, c: c, ldc: ldc, wide: wide)
                    let differing = zip(got, want).filter { $0.bitPattern != $1.bitPattern }.count
                    #expect(differing == 0, "m \(m) n \(n) k \(k) transposes \(transposeA) \(transposeB) accumulate \(accumulate): \(differing) elements differ")
                }
            }
        }
    }

    /// The design rule: the wide path computes more outputs at once, never one output in another
    /// order. Forced on and off, and with 1 or 2 threads, a large product gives the same bits.
    @Test func wideAndNarrowAndThreadCountsGiveTheSameBits() throws {
        let savedThreads = Threads.count
        defer { try? Threads.set(savedThreads) }
        let generator = Generator(seed: 11)
        let (m, n, k) = (300, 700, 600)
        let a = Self.random(m * k, generator), b = Self.random(k * n, generator)
        var results: [[Float]] = []
        let paths = CPUFeatures.flags.contains("avx512f") ? [false, true] : [false]
        for wide in paths {
            for threads in [1, 2] {
                try Threads.set(threads)
                results.append(Self.run(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n,
                                        accumulate: false, c: [Float](repeating: 0, count: m * n), ldc: n, wide: wide))
            }
        }
        for result in results.dropFirst() {
            #expect(result.map(\.bitPattern) == results[0].map(\.bitPattern))
        }
    }

    @Test func emptyDepthZeroesOrKeepsC() {
        let c: [Float] = [1, 2, 3, 4]
        #expect(Self.run(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, a: [0], lda: 1, b: [0], ldb: 2,
                         accumulate: false, c: c, ldc: 2) == [0, 0, 0, 0])
        #expect(Self.run(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, a: [0], lda: 1, b: [0], ldb: 2,
                         accumulate: true, c: c, ldc: 2) == c)
    }

    /// Native numerics use OpenBLAS; both agree to rounding.
    @Test func nativeAgreesWithPortableToRounding() throws {
        let saved = Numerics.current
        defer { Numerics.current = saved }
        let generator = Generator(seed: 3)
        let x = try Tensor(shape: [50, 70], scalars: Self.random(3500, generator))
        let w = try Tensor(shape: [70, 40], scalars: Self.random(2800, generator))
        Numerics.current = .portable
        let portable = try x.matmul(w).scalars
        Numerics.current = .native
        let native = try x.matmul(w).scalars
        for (p, q) in zip(portable, native) { #expect(abs(p - q) <= 1e-5 * max(1, abs(q))) }
    }
}
