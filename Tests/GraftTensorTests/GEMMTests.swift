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
        run(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
            accumulate: accumulate, c: c, ldc: ldc, tile: wide ? .wide : .narrow)
    }

    static func run(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: [Float], lda: Int, b: [Float], ldb: Int,
                    accumulate: Bool, c: [Float], ldc: Int, tile: PortableGEMM.Tile) -> [Float] {
        var out = c
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    PortableGEMM.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                       pa.baseAddress!, lda: lda, pb.baseAddress!, ldb: ldb,
                                       accumulate: accumulate, pc.baseAddress!, ldc: ldc, tile: tile)
                }
            }
        }
        return out
    }

    /// Shapes around every block edge: tiles (6, 8 rows; 16, 32 columns), MC = 96, NB = 256, KC = 256;
    /// last panels of 1–16 columns (the wide kernel's 8 × 16 tile), whole (16, 48) or partial.
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (5, 17, 3), (6, 16, 256), (7, 33, 257), (8, 32, 1), (13, 100, 40), (97, 257, 513),
        (200, 31, 300), (3, 600, 70), (64, 3136, 27), (24, 3137, 144), (96, 300, 600), (16, 48, 33),
    ]

    @Test(arguments: [false, true])
    func equalsTheFMAChainBitForBit(wide: Bool) throws {
        if wide && !CPUFeatures.flags.contains("avx512f") { return }  // this CPU runs the AVX2 kernel only
        Self.expectBitForBit(Self.shapes, seed: 7, tile: wide ? .wide : .narrow, reference: Self.reference)
    }

    typealias Reference = (Bool, Bool, Int, Int, Int, [Float], Int, [Float], Int, Bool, [Float], Int) -> [Float]

    /// Every shape with every pair of transposes, from 0 and accumulating, leading dimensions wider
    /// than the matrices (as in sub-matrix calls): `tile`'s results equal `reference`'s bit for bit.
    static func expectBitForBit(_ shapes: [(Int, Int, Int)], seed: UInt64, tile: PortableGEMM.Tile, reference: Reference) {
        let generator = Generator(seed: seed)
        for (m, n, k) in shapes {
            for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
                for accumulate in [false, true] {
                    let lda = (transposeA ? m : k) + 3, ldb = (transposeB ? k : n) + 1, ldc = n + 2
                    let a = random((transposeA ? k : m) * lda, generator)
                    let b = random((transposeB ? n : k) * ldb, generator)
                    let c = random(m * ldc, generator)
                    let want = reference(transposeA, transposeB, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
                    let got = run(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda,
                                  b: b, ldb: ldb, accumulate: accumulate, c: c, ldc: ldc, tile: tile)
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

/// `set precision=bf16`: the GEMM with bfloat16 operands (AVX-512 BF16's `vdpbf16ps`), on CPUs that have it.
@Suite("bfloat16 GEMM", .serialized)
struct BFloat16GEMMTests {
    /// What `vdpbf16ps` is documented to compute, per output: operands rounded to bfloat16 (to
    /// nearest, ties to even); per pair of k, the odd step's product, then the even step's, each
    /// added in float32 (a product of two bfloat16 is exact in float32).
    static func reference(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: [Float], lda: Int,
                          b: [Float], ldb: Int, accumulate: Bool, c: [Float], ldc: Int) -> [Float] {
        let half = { (x: Float) in BFloat16Panels.widen(BFloat16Panels.round(x)) }
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var sum: Float = accumulate ? c[i * ldc + j] : 0
                for p in stride(from: 0, to: k, by: 2) {
                    let x = { (p: Int) in p < k ? half(transposeA ? a[p * lda + i] : a[i * lda + p]) : 0 }
                    let y = { (p: Int) in p < k ? half(transposeB ? b[j * ldb + p] : b[p * ldb + j]) : 0 }
                    sum += x(p + 1) * y(p + 1)
                    sum += x(p) * y(p)
                }
                out[i * ldc + j] = sum
            }
        }
        return out
    }

    @Test func roundsToNearestEven() {
        #expect(BFloat16Panels.round(1) == 0x3F80)
        #expect(BFloat16Panels.round(Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // a tie: to the even 0x3F80
        #expect(BFloat16Panels.round(Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // a tie: to the even 0x3F82
        #expect(BFloat16Panels.round(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(BFloat16Panels.round(-2.5) == 0xC020)
        #expect(BFloat16Panels.round(.infinity) == 0x7F80)
        #expect(BFloat16Panels.widen(BFloat16Panels.round(.nan)).isNaN)
        #expect(BFloat16Panels.widen(BFloat16Panels.round(Float(bitPattern: 0x7F80_0001))).isNaN)  // a NaN never rounds to infinity
        #expect(BFloat16Panels.round(.greatestFiniteMagnitude) == 0x7F80)  // past bfloat16's largest: infinity, as float32 overflows
    }

    /// The packed panels (rounded sixteen at a time, every path: A and B, transposed or not, odd
    /// depths, partial panels) hold exactly the definition's bits, special values included.
    @Test(.enabled(if: Precision.available, "this CPU has no AVX-512 BF16"))
    func panelsHoldTheDefinitionsBits() {
        let specials: [Float] = [1, Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000), -2.5, .infinity, -.nan,
                                 Float(bitPattern: 0x7F80_0001), .greatestFiniteMagnitude, Float(bitPattern: 0x0000_8000), -0.0,
                                 Float(bitPattern: 0x0080_0000), -.infinity, 3.14159, 65504, 1e-30]
        let generator = Generator(seed: 29)
        for (rows, depth) in [(12, 32), (13, 37), (5, 3), (40, 17), (9, 1)] {
            let ld = depth + 3
            var matrix = GEMMTests.random(rows * ld, generator)
            for t in matrix.indices where t % 7 == 0 { matrix[t] = specials[(t / 7) % specials.count] }
            let pairs = (depth + 1) / 2
            func want(_ r: Int, _ p: Int) -> UInt32 {
                guard r < rows else { return 0 }
                let odd: Float = 2 * p + 1 < depth ? matrix[r * ld + 2 * p + 1] : 0
                return BFloat16Panels.round(matrix[r * ld + 2 * p]) | BFloat16Panels.round(odd) << 16
            }
            // A as stored (rows across k), in panels of 12 rows.
            let panels = (rows + 11) / 12
            var a = [Float](repeating: .nan, count: panels * 12 * pairs)
            BFloat16Panels.packA(false, matrix, ld, i0: 0, rows: rows, k0: 0, depth: depth, mr: 12, into: &a)
            // op(B) = matrixᵀ: columns across k, one panel of 32 columns per 32 rows.
            var b = [Float](repeating: .nan, count: 32 * pairs)
            BFloat16Panels.packB(true, matrix, ld, k0: 0, depth: depth, j0: 0, columns: min(rows, 32), nr: 32, into: &b)
            for p in 0..<pairs {
                for r in 0..<(panels * 12) {
                    #expect(a[(r / 12) * 12 * pairs + p * 12 + r % 12].bitPattern == want(r, p), "A rows \(rows) depth \(depth): row \(r) pair \(p)")
                }
                for q in 0..<32 {
                    #expect(b[p * 32 + q].bitPattern == want(q, p), "B rows \(rows) depth \(depth): column \(q) pair \(p)")
                }
            }
            // The other orientation: op(A) = matrixᵀ [depth rows... ] read as k-major runs (rows of the matrix are steps).
            let steps = rows, width = depth
            var at = [Float](repeating: .nan, count: ((width + 11) / 12) * 12 * ((steps + 1) / 2))
            BFloat16Panels.packA(true, matrix, ld, i0: 0, rows: width, k0: 0, depth: steps, mr: 12, into: &at)
            var bn = [Float](repeating: .nan, count: 32 * ((steps + 1) / 2))
            BFloat16Panels.packB(false, matrix, ld, k0: 0, depth: steps, j0: 0, columns: min(width, 32), nr: 32, into: &bn)
            func wantT(_ column: Int, _ p: Int) -> UInt32 {
                guard column < width else { return 0 }
                let odd: Float = 2 * p + 1 < steps ? matrix[(2 * p + 1) * ld + column] : 0
                return BFloat16Panels.round(matrix[2 * p * ld + column]) | BFloat16Panels.round(odd) << 16
            }
            let pairsT = (steps + 1) / 2
            for p in 0..<pairsT {
                for r in 0..<(((width + 11) / 12) * 12) {
                    #expect(at[(r / 12) * 12 * pairsT + p * 12 + r % 12].bitPattern == wantT(r, p), "Aᵀ: row \(r) pair \(p)")
                }
                for q in 0..<32 where q < 32 {
                    #expect(bn[p * 32 + q].bitPattern == (q < min(width, 32) ? wantT(q, p) : 0), "B: column \(q) pair \(p)")
                }
            }
        }
    }

    @Test(.enabled(if: Precision.available, "this CPU has no AVX-512 BF16"))
    func equalsTheDocumentedStepsBitForBit() throws {
        // Every block edge of the float32 test's shapes small enough for the scalar reference, and the
        // 12 × 32 tile's, with odd depths (a last step paired with zero) across KC blocks.
        let shapes = GEMMTests.shapes.filter { $0.0 * $0.1 * $0.2 <= 2_000_000 } + [(12, 32, 2), (13, 33, 5), (25, 64, 511), (13, 40, 513)]
        GEMMTests.expectBitForBit(shapes, seed: 17, tile: .bf16, reference: Self.reference)
    }

    /// Against float32: each term's operands carry a relative error of at most 2⁻⁹ each, so an
    /// output is within about 2⁻⁸·Σ|a||b| of the float32 product (plus float32's own rounding).
    @Test(.enabled(if: Precision.available, "this CPU has no AVX-512 BF16"))
    func agreesWithFloat32ToBFloat16Rounding() throws {
        let generator = Generator(seed: 5)
        let (m, n, k) = (70, 90, 300)
        let a = GEMMTests.random(m * k, generator), b = GEMMTests.random(k * n, generator)
        let zero = [Float](repeating: 0, count: m * n)
        let single = GEMMTests.run(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n,
                                   accumulate: false, c: zero, ldc: n, tile: .narrow)
        let half = GEMMTests.run(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n,
                                 accumulate: false, c: zero, ldc: n, tile: .bf16)
        var worst: Float = 0
        for i in 0..<m {
            for j in 0..<n {
                let magnitude = (0..<k).reduce(Float(0)) { $0 + abs(a[i * k + $1] * b[$1 * n + j]) }
                let error = abs(half[i * n + j] - single[i * n + j]) / magnitude
                worst = max(worst, error)
            }
        }
        #expect(worst <= 1.0 / 256, "worst error \(worst) of Σ|a||b|")
        #expect(worst > 0, "bfloat16 rounding should show")  // the bf16 path really ran
    }

    @Test(.enabled(if: Precision.available, "this CPU has no AVX-512 BF16"))
    func threadCountsGiveTheSameBits() throws {
        let savedThreads = Threads.count
        defer { try? Threads.set(savedThreads) }
        let generator = Generator(seed: 19)
        let (m, n, k) = (300, 700, 600)
        let a = GEMMTests.random(m * k, generator), b = GEMMTests.random(k * n, generator)
        var results: [[UInt32]] = []
        for threads in [1, 2, 3] {
            try Threads.set(threads)
            results.append(GEMMTests.run(transposeA: false, transposeB: false, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n,
                                         accumulate: false, c: [Float](repeating: 0, count: m * n), ldc: n, tile: .bf16).map(\.bitPattern))
        }
        #expect(results[1] == results[0])
        #expect(results[2] == results[0])
    }

    /// The setting: refused (nothing changes) on a CPU without AVX-512 BF16; where it is accepted,
    /// matrix products and convolutions go through the bfloat16 kernel.
    @Test func settingIsRefusedOrRoutesProducts() throws {
        defer { try? Precision.set(.float32) }
        guard Precision.available else {
            #expect(throws: TensorError.self) { try Precision.set(.bf16) }
            #expect(Precision.current == .float32)
            return
        }
        let generator = Generator(seed: 23)
        let x = try Tensor(shape: [2, 8, 12, 12], scalars: GEMMTests.random(2 * 8 * 144, generator))
        let w = try Tensor(shape: [16, 8, 3, 3], scalars: GEMMTests.random(16 * 72, generator))
        let single = try x.conv2d(w).scalars
        try Precision.set(.bf16)
        #expect(Precision.current == .bf16)
        let half = try x.conv2d(w).scalars
        try Precision.set(.float32)
        #expect(try x.conv2d(w).scalars == single)
        let worst = zip(half, single).map { abs($0 - $1) }.max() ?? 0
        #expect(worst > 0 && worst < 0.1, "bf16 convolution differs from float32 by \(worst)")
    }
}
