// Math functions of graft's own, eight lanes at a time.

/// graft's own error function, eight lanes at a time: GELU (ViT's and ConvNeXt's activation) and
/// ONNX's `Erf` run it on every element of their feature maps, where glibc's scalar `erff` cost a
/// call per element (22 % of ConvNeXt-Tiny's inference, 11 % of ViT-B's).
///
/// erf(x) = x·P(x²)/Q(x²) for |x| < 3.92, ±1 beyond (where erf rounds to ±1 in float32). P and Q,
/// of degrees 6 and 5 in x², are a rational fit for the smallest relative error on [0, 3.95] made by
/// `scripts/fit-vector-math.py`, which also measures the result: at most 5.5 ulp from the exact erf (at
/// x ≈ 3.67, where that is 3·10⁻⁷), 0.66 ulp on average.
///
/// Only additions, fused multiply-adds, a division and selections: no library call, no
/// reassociation, so every CPU with AVX2 and FMA gives the same bits, and a lane of the vector
/// gives the bits of the scalar (`value` is the vector on one lane).
enum Erf8 {
    @inline(__always)
    static func values(_ x: SIMD8<Float>) -> SIMD8<Float> {
        typealias V = SIMD8<Float>
        // Beyond 3.92, erf(x) rounds to 1 in float32 (1 − erf(3.92) = 2.3·10⁻⁸, under half an ulp of 1).
        let limit = V(repeating: 3.92)
        // x clamped to ±3.92 (NaN stays NaN: every comparison with it is false).
        let clamped = x.replacing(with: limit, where: x .> limit).replacing(with: -limit, where: x .< -limit)
        let y = clamped * clamped
        // Horner in x², the coefficients of scripts/fit-vector-math.py.
        var p = V(repeating: -1.2967174001232706e-08)
        p = V(repeating: 4.640458428184502e-06).addingProduct(p, y)
        p = V(repeating: 0.0003779378021135926).addingProduct(p, y)
        p = V(repeating: 0.003843373153358698).addingProduct(p, y)
        p = V(repeating: 0.0542747899889946).addingProduct(p, y)
        p = V(repeating: 0.1851690411567688).addingProduct(p, y)
        p = V(repeating: 1.128379225730896).addingProduct(p, y)
        var q = V(repeating: 6.269273580983281e-05)
        q = V(repeating: 0.0013040645280852914).addingProduct(q, y)
        q = V(repeating: 0.015443726442754269).addingProduct(q, y)
        q = V(repeating: 0.11391101777553558).addingProduct(q, y)
        q = V(repeating: 0.49743521213531494).addingProduct(q, y)
        q = V(repeating: 1).addingProduct(q, y)
        let one = V(repeating: 1)
        var r = clamped * p / q
        r = r.replacing(with: one, where: r .> one).replacing(with: -one, where: r .< -one)
        // ±1 from the saturation on.
        return r.replacing(with: one, where: x .>= limit).replacing(with: -one, where: x .<= -limit)
    }

    @inline(__always)
    static func value(_ x: Float) -> Float { values(SIMD8(repeating: x))[0] }
}

/// graft's own exponential, eight lanes at a time, for attention's softmax (every score of every
/// head), where glibc's scalar `expf` cost a call per element.
///
/// exp(x) = 2ⁿ·e^r with n = round(x·log₂e) and r = x − n·ln 2 (ln 2 in two parts, so r is exact
/// enough), e^r = 1 + r + r²·q(r) with q of degree 4 fitted for the smallest relative error on
/// |r| ≤ ln 2 / 2 (`scripts/fit-vector-math.py`), and 2ⁿ applied as two exact powers of two (so n
/// from −150 to 128 needs no special case). At most 0.98 ulp from the exact value over the normal
/// range (0.27 on average); +∞ above 88.7228317, 0 below −103.972 (where exp rounds to 0), NaN kept.
/// Like ``Erf8``: no library call, no reassociation; the same bits on every CPU with AVX2 and FMA.
enum Exp8 {
    @inline(__always)
    static func values(_ x: SIMD8<Float>) -> SIMD8<Float> {
        typealias V = SIMD8<Float>
        // The largest float whose exp is finite, and the point below which exp rounds to 0.
        let high = V(repeating: 88.72283172607421875), low = V(repeating: -103.972076416015625)
        var clamped = x.replacing(with: high, where: x .> high).replacing(with: low, where: x .< low)
        clamped = clamped.replacing(with: V(repeating: 0), where: clamped .!= clamped)  // NaN: restored at the end
        // Adding 1.5·2²³ rounds x·log₂e to an integer n, which then sits in the sum's low bits.
        let magic = V(repeating: 12_582_912)
        let shifted = magic.addingProduct(clamped, V(repeating: 1.44269502162933349609375))
        let n = shifted - magic
        var r = clamped.addingProduct(n, V(repeating: -0.693359375))
        r = r.addingProduct(n, V(repeating: 2.12194440e-4))
        var q = V(repeating: 0.001381446374580264)
        q = V(repeating: 0.008368780836462975).addingProduct(q, r)
        q = V(repeating: 0.04166839271783829).addingProduct(q, r)
        q = V(repeating: 0.1666651964187622).addingProduct(q, r)
        q = V(repeating: 0.4999999403953552).addingProduct(q, r)
        let y = r.addingProduct(q, r * r) + 1
        let k = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let half = k &>> 1
        let first = unsafeBitCast((half &+ 127) &<< 23, to: V.self)
        let second = unsafeBitCast((k &- half &+ 127) &<< 23, to: V.self)
        let result = (y * first * second).replacing(with: .infinity, where: x .> high).replacing(with: V(repeating: 0), where: x .< low)
        return result.replacing(with: x, where: x .!= x)
    }

    @inline(__always)
    static func value(_ x: Float) -> Float { values(SIMD8(repeating: x))[0] }
}
