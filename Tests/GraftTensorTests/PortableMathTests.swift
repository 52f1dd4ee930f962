import Foundation
import Testing
@testable import GraftTensor

/// The math functions graft's kernels call are glibc's (expf, logf, powf through an ifunc that picks
/// the same FMA variant on every CPU with AVX2 and FMA; tanhf and erff have one version), except
/// GELU's and ONNX Erf's erf and attention's exp, which are graft's own (Kernels/VectorMath.swift).
/// Their results over a fixed grid are pinned here: a CPU, a glibc or a graft change that moves a
/// single bit of them fails this test before it silently changes a session's digests.
@Suite("Math functions give the same bits on every CPU")
struct PortableMathTests {
    static func digest(_ count: Int, _ f: (Float) -> Float) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<count {
            // Values from −20 to 20, with every exponent from 2^-30 on the way.
            let x = Float(i - count / 2) * (40 / Float(count)) + Float(i % 7) * 0x1p-30
            var bits = f(x).bitPattern
            for _ in 0..<4 { hash = (hash ^ UInt64(bits & 0xFF)) &* 0x0000_0100_0000_01B3; bits >>= 8 }
        }
        return String(hash, radix: 16)
    }

    static let functions: [(String, @Sendable (Float) -> Float)] = [
        ("exp", { Foundation.exp($0) }), ("log", { Foundation.log(abs($0) + 1e-30) }), ("tanh", { Foundation.tanh($0) }),
        ("erf", { Foundation.erf($0) }), ("pow", { Foundation.pow(abs($0), 0.37) }), ("sqrt", { abs($0).squareRoot() }),
        // graft's own (no libm call): the same bits wherever AVX2 and FMA are.
        ("graft erf", { Erf8.value($0) }), ("graft gelu", { GELU.value($0) }), ("graft exp", { Exp8.value($0) }),
    ]

    /// Taken on an Intel Xeon (Emerald Rapids, AVX-512), Debian 12's glibc 2.36.
    /// graft erf, gelu and exp taken on an AMD EPYC (Zen 4); they call no library.
    static let pinned: [String: String] = [
        "exp": "7dd879e945eba02e", "log": "940d53d5bb574747", "tanh": "90e286d30d06d4c2",
        "erf": "b75677098fff311b", "pow": "2c3f836262784b68", "sqrt": "9debf61dd23f87b1",
        "graft erf": "d2a36f10e0758d", "graft gelu": "c5c0f81b7988e7ee", "graft exp": "b00f0c25f83adaed",
    ]

    @Test func libmIsPinned() {
        for (name, f) in Self.functions {
            let got = Self.digest(200_003, f)
            #expect(got == Self.pinned[name], "\(name)")
        }
    }

    /// graft's erf against the exact one (double erf) over every 997th float in [10⁻³⁰, 4.5]: within
    /// the 5.5 ulp that scripts/fit-vector-math.py measured, under one ulp on average; odd; and its edges.
    @Test func graftErfIsAccurate() {
        var (worst, total, count) = (0.0, 0.0, 0)
        var bits = Float(1e-30).bitPattern
        while bits <= Float(4.5).bitPattern {
            let x = Float(bitPattern: bits)
            let got = Erf8.value(x), want = Foundation.erf(Double(x))
            let error = abs(Double(got) - want) / Double(Float(want).ulp)
            (worst, total, count) = (max(worst, error), total + error, count + 1)
            #expect(Erf8.value(-x).bitPattern == (-got).bitPattern, "erf(−\(x)) is not −erf(\(x))")
            bits += 997
        }
        #expect(worst <= 5.5, "worst \(worst) ulp")
        #expect(total / Double(count) < 0.8, "mean \(total / Double(count)) ulp")
        #expect(Erf8.value(0).bitPattern == Float(0).bitPattern && Erf8.value(-0.0).bitPattern == Float(-0.0).bitPattern)
        let edges: [(Float, Float)] = [(.infinity, 1), (-.infinity, -1), (3.92, 1), (-3.92, -1), (50, 1), (-50, -1)]
        for (x, want) in edges {
            #expect(Erf8.value(x) == want, "erf(\(x))")
        }
        #expect(Erf8.value(.nan).isNaN && Erf8.value(3.9199998) < 1)
    }

    /// The eight-lane activation loop (with its overlapping remainder) gives each element the scalar's bits.
    @Test func vectorActivationsGiveTheScalarBits() {
        for count in [1, 7, 8, 19, 4099] {
            let values: [Float] = (0..<count).map { i in
                let step = Float(i % 613) * 0.0173, nudge = Float(i % 7) * 0x1p-20
                return step - 5.3 + nudge
            }
            let x = Tensor(values)
            for (name, got, f) in [("gelu", x.gelu(), GELU.value), ("erf", x.erf(), Erf8.value)] as [(String, Tensor, (Float) -> Float)] {
                let mismatched = zip(got.scalars, values).filter { $0.bitPattern != f($1).bitPattern }.count
                #expect(mismatched == 0, "\(name), \(count) elements: \(mismatched) differ")
            }
        }
    }

    /// graft's exp against the exact one (double exp) over every 331st float in [−87.3, 88.72]: under
    /// one ulp (scripts/fit-vector-math.py measured 0.98), 0.3 on average; and its edges.
    @Test func graftExpIsAccurate() {
        var (worst, total, count) = (0.0, 0.0, 0)
        for (start, end) in [(Float(0x1p-40), Float(88.72)), (Float(0x1p-40), Float(87.3))] {
            var bits = start.bitPattern
            while bits <= end.bitPattern {
                for x in [Float(bitPattern: bits), -Float(bitPattern: bits)] where x <= 88.72 {
                    let got = Exp8.value(x), want = Foundation.exp(Double(x))
                    let error = abs(Double(got) - want) / Double(Float(want).ulp)
                    (worst, total, count) = (max(worst, error), total + error, count + 1)
                }
                bits += 331
            }
        }
        #expect(worst < 1, "worst \(worst) ulp")
        #expect(total / Double(count) < 0.3, "mean \(total / Double(count)) ulp")
        let edges: [(Float, Float)] = [(0, 1), (-0.0, 1), (.infinity, .infinity), (-.infinity, 0), (88.72284, .infinity), (-104, 0)]
        for (x, want) in edges { #expect(Exp8.value(x) == want, "exp(\(x))") }
        #expect(Exp8.value(88.72283172607421875).isFinite && Exp8.value(88.72283172607421875) > 3.4e38)
        // Below the normal range the results are subnormal, within one of their ulps.
        for x: Float in [-88, -95.5, -100, -103.9] {
            #expect(abs(Double(Exp8.value(x)) - Foundation.exp(Double(x))) <= Double(Float.leastNonzeroMagnitude), "exp(\(x))")
        }
        #expect(Exp8.value(.nan).isNaN)
    }
}
