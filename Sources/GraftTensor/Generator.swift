import Foundation

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// There is no global random state: whoever needs randomness is handed a generator, and a
/// session owns exactly one, so the same seed replays to the same numbers.
public final class Generator {
    private var s0, s1, s2, s3: UInt64
    private var spareNormal: Double?

    /// The seed this generator started from.
    public let seed: UInt64

    /// A generator for building structure only (which architecture a checkpoint is): random tensors
    /// drawn from it are zeros and cost no draws.
    public let drawsNothing: Bool

    /// See ``drawsNothing``.
    public static func structureOnly() -> Generator { Generator(seed: 0, drawsNothing: true) }

    public convenience init(seed: UInt64) { self.init(seed: seed, drawsNothing: false) }

    init(seed: UInt64, drawsNothing: Bool) {
        self.seed = seed
        self.drawsNothing = drawsNothing
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// Where the generator stands, to put it back when a command fails (so a session that skipped
    /// the failed command draws the same numbers as one that never ran it).
    public struct State: Sendable, Equatable {
        public let words: [UInt64]
        public let spareNormal: Double?

        /// A state saved elsewhere (a checkpoint); four words, as ``state`` gives them.
        public init(words: [UInt64], spareNormal: Double?) {
            (self.words, self.spareNormal) = (words, spareNormal)
        }
    }

    public var state: State {
        get { State(words: [s0, s1, s2, s3], spareNormal: spareNormal) }
        set {
            guard newValue.words.count == 4 else { return }
            (s0, s1, s2, s3) = (newValue.words[0], newValue.words[1], newValue.words[2], newValue.words[3])
            spareNormal = newValue.spareNormal
        }
    }

    /// The next 64 random bits.
    public func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 random bits (every representable step of a Float in that range).
    public func nextFloat() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [0, 1) with 53 random bits.
    public func nextDouble() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform integer in `0..<bound` without modulo bias (Lemire's method). `bound` must be > 0.
    public func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// A standard normal sample (Box–Muller in Double precision; the second value is kept for the next call).
    public func nextNormal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        var u1 = nextDouble()
        while u1 == 0 { u1 = nextDouble() }
        let u2 = nextDouble()
        let radius = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spareNormal = radius * sin(angle)
        return radius * cos(angle)
    }

    /// Shuffles `array` in place (Fisher–Yates, drawing from this generator).
    public func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, nextInt(below: i + 1))
        }
    }
}
