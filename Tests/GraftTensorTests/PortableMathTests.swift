import Foundation
import Testing
@testable import GraftTensor

/// The math functions graft's kernels call are glibc's (expf, logf, powf through an ifunc that picks
/// the same FMA variant on every CPU with AVX2 and FMA; tanhf and erff have one version). Their
/// results over a fixed grid are pinned here: a CPU, a glibc or a graft change that moves a single
/// bit of them fails this test before it silently changes a session's digests.
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
    ]

    /// Taken on an Intel Xeon (Emerald Rapids, AVX-512), Debian 12's glibc 2.36.
    static let pinned: [String: String] = [
        "exp": "7dd879e945eba02e", "log": "940d53d5bb574747", "tanh": "90e286d30d06d4c2",
        "erf": "b75677098fff311b", "pow": "2c3f836262784b68", "sqrt": "9debf61dd23f87b1",
    ]

    @Test func libmIsPinned() {
        for (name, f) in Self.functions {
            let got = Self.digest(200_003, f)
            #expect(got == Self.pinned[name], "\(name)")
        }
    }
}
