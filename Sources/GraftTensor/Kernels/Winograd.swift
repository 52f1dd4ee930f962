/// Winograd's minimal filtering F(2×2, 3×3) for 3×3, stride-1 convolutions (Lavin & Gray, 2015).
///
/// Each 2×2 output tile comes from a 4×4 input tile: Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A. Over all tiles
/// and channels the elementwise products become 16 GEMMs [out, in] × [in, tiles], with 2.25× fewer
/// multiplications than im2col. The transforms run along whole rows of tiles, so they vectorize.
///
///     Bᵀ = | 1  0 -1  0 |     G = | 1    0    0  |     Aᵀ = | 1  1  1  0 |
///          | 0  1  1  0 |         | ½    ½    ½  |          | 0  1 -1 -1 |
///          | 0 -1  1  0 |         | ½   -½    ½  |
///          | 0  1  0 -1 |         | 0    0    1  |
enum Winograd {
    /// Sizes of one image's convolution in tiles.
    struct Plan: Sendable {
        let inChannels: Int, outChannels: Int
        let height: Int, width: Int
        let padTop: Int, padLeft: Int
        let outputHeight: Int, outputWidth: Int
        var tileRows: Int { (outputHeight + 1) / 2 }
        var tileColumns: Int { (outputWidth + 1) / 2 }
        var tiles: Int { tileRows * tileColumns }
        /// Padded input rows and columns the tiles read: 2·tiles + 2.
        var paddedRows: Int { 2 * tileRows + 2 }
        /// Floats of scratch one image needs: V [16, in, tiles], M [16, out, tiles], row transforms.
        var scratchCount: Int { 16 * (inChannels + outChannels) * tiles + paddedRows * 4 * tileColumns + 4 * (tileColumns + 1) + 32 }
    }

    /// Whether F(2×2, 3×3) applies and pays: a 3×3 kernel, stride and dilation 1, one group,
    /// enough channels for the GEMMs to be efficient, and padding within the kernel.
    static func applies(_ g: WindowGeometry, groups: Int, outChannels: Int) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1
            && g.dilationHeight == 1 && g.dilationWidth == 1 && groups == 1
            && g.channels >= 16 && outChannels >= 16 && g.padTop <= 2 && g.padLeft <= 2
            && g.outputHeight >= 4 && g.outputWidth >= 4
    }

    /// U = G g Gᵀ for every (out, in) pair, stored as [16, out, in]. With `transposedAndFlipped`, the
    /// weight [in', out', 3, 3] is read as w'[o, c] = w[c, o] rotated 180° (the data gradient's kernel).
    static func transformWeights(_ w: UnsafePointer<Float>, outChannels: Int, inChannels: Int, transposedAndFlipped: Bool) -> Storage {
        let u = Storage(uninitializedCount: 16 * outChannels * inChannels)
        let stride = outChannels * inChannels
        for o in 0..<outChannels {
            for c in 0..<inChannels {
                var g = [Float](repeating: 0, count: 9)
                for i in 0..<9 {
                    g[i] = transposedAndFlipped ? w[(c * outChannels + o) * 9 + (8 - i)] : w[(o * inChannels + c) * 9 + i]
                }
                // t = G·g (4×3), then U = t·Gᵀ (4×4)
                var t = [Float](repeating: 0, count: 12)
                for col in 0..<3 {
                    let (g0, g1, g2) = (g[col], g[3 + col], g[6 + col])
                    t[col] = g0
                    t[3 + col] = 0.5 * (g0 + g1 + g2)
                    t[6 + col] = 0.5 * (g0 - g1 + g2)
                    t[9 + col] = g2
                }
                for row in 0..<4 {
                    let (t0, t1, t2) = (t[row * 3], t[row * 3 + 1], t[row * 3 + 2])
                    let values = [t0, 0.5 * (t0 + t1 + t2), 0.5 * (t0 - t1 + t2), t2]
                    for col in 0..<4 { u.pointer[(row * 4 + col) * stride + o * inChannels + c] = values[col] }
                }
            }
        }
        return u
    }

    /// Convolves one image x [in, H, W] into y [out, OH, OW] (overwritten), adding `bias` if given.
    /// `scratch` holds `plan.scratchCount` floats. GEMMs run through `GEMM.sgemm` (the numerics in force).
    static func convolve(_ plan: Plan, x: UnsafePointer<Float>, u: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                         y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let (cin, cout, tiles, tw) = (plan.inChannels, plan.outChannels, plan.tiles, plan.tileColumns)
        let v = scratch, m = scratch + 16 * cin * tiles
        let rows = m + 16 * cout * tiles
        let even = rows + plan.paddedRows * 4 * tw, odd = even + tw + 1
        let line = odd + tw + 1  // one padded input row, 2·(tw + 1) values plus slack for 16-wide loads

        // V = Bᵀ d B for every channel and tile: first along each padded row (d·B), then down the tile rows (Bᵀ·).
        for c in 0..<cin {
            let plane = x + c * plan.height * plan.width
            for r in 0..<plan.paddedRows {
                let ih = r - plan.padTop
                if ih >= 0 && ih < plan.height {
                    // The padded row, then its even and odd columns.
                    let length = 2 * (tw + 1)
                    let first = Swift.max(0, plan.padLeft), last = Swift.min(length, plan.padLeft + plan.width)
                    line.initialize(repeating: 0, count: length)
                    if last > first { (line + first).update(from: plane + ih * plan.width + first - plan.padLeft, count: last - first) }
                    Lanes.forEach(tw + 1) { j in
                        let pairs = UnsafeRawPointer(line + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
                        Lanes.store(pairs.evenHalf, even, j)
                        Lanes.store(pairs.oddHalf, odd, j)
                    } scalar: { j in
                        even[j] = line[2 * j]
                        odd[j] = line[2 * j + 1]
                    }
                } else {
                    even.initialize(repeating: 0, count: tw + 1)
                    odd.initialize(repeating: 0, count: tw + 1)
                }
                let r0 = rows + r * 4 * tw, r1 = r0 + tw, r2 = r1 + tw, r3 = r2 + tw
                Lanes.forEach(tw) { j in
                    let e0 = Lanes.load(even, j), e1 = Lanes.load(even, j + 1)
                    let o0 = Lanes.load(odd, j), o1 = Lanes.load(odd, j + 1)
                    Lanes.store(e0 - e1, r0, j)
                    Lanes.store(o0 + e1, r1, j)
                    Lanes.store(e1 - o0, r2, j)
                    Lanes.store(o0 - o1, r3, j)
                } scalar: { j in
                    r0[j] = even[j] - even[j + 1]
                    r1[j] = odd[j] + even[j + 1]
                    r2[j] = even[j + 1] - odd[j]
                    r3[j] = odd[j] - odd[j + 1]
                }
            }
            for i in 0..<plan.tileRows {
                for k in 0..<4 {
                    let t0 = rows + (2 * i) * 4 * tw + k * tw
                    let t1 = t0 + 4 * tw, t2 = t1 + 4 * tw, t3 = t2 + 4 * tw
                    let out0 = v + ((0 + k) * cin + c) * tiles + i * tw
                    let out1 = v + ((4 + k) * cin + c) * tiles + i * tw
                    let out2 = v + ((8 + k) * cin + c) * tiles + i * tw
                    let out3 = v + ((12 + k) * cin + c) * tiles + i * tw
                    Lanes.forEach(tw) { j in
                        let a = Lanes.load(t0, j), b = Lanes.load(t1, j), c = Lanes.load(t2, j), d = Lanes.load(t3, j)
                        Lanes.store(a - c, out0, j)
                        Lanes.store(b + c, out1, j)
                        Lanes.store(c - b, out2, j)
                        Lanes.store(b - d, out3, j)
                    } scalar: { j in
                        out0[j] = t0[j] - t2[j]
                        out1[j] = t1[j] + t2[j]
                        out2[j] = t2[j] - t1[j]
                        out3[j] = t1[j] - t3[j]
                    }
                }
            }
        }
        // M_ξ = U_ξ [out, in] · V_ξ [in, tiles]
        for xi in 0..<16 {
            GEMM.sgemm(m: cout, n: tiles, k: cin, u + xi * cout * cin, lda: cin, v + xi * cin * tiles, ldb: tiles,
                       m + xi * cout * tiles, ldc: tiles)
        }
        // Y = Aᵀ M A for every output channel and tile row: four output rows of tw values, then interleaved.
        let (oh, ow) = (plan.outputHeight, plan.outputWidth)
        let step = cout * tiles
        let y00 = rows, y01 = y00 + tw, y10 = y01 + tw, y11 = y10 + tw
        for o in 0..<cout {
            let b = bias?[o] ?? 0
            let plane = y + o * oh * ow
            for i in 0..<plan.tileRows {
                let q = m + o * tiles + i * tw
                let q0 = q, q1 = q + step, q2 = q + 2 * step, q3 = q + 3 * step, q4 = q + 4 * step, q5 = q + 5 * step
                let q6 = q + 6 * step, q7 = q + 7 * step, q8 = q + 8 * step, q9 = q + 9 * step, q10 = q + 10 * step
                let q11 = q + 11 * step, q12 = q + 12 * step, q13 = q + 13 * step, q14 = q + 14 * step, q15 = q + 15 * step
                let bias8 = SIMD8<Float>(repeating: b)
                Lanes.forEach(tw) { j in
                    let m4 = Lanes.load(q4, j), m5 = Lanes.load(q5, j), m6 = Lanes.load(q6, j), m7 = Lanes.load(q7, j)
                    let m8 = Lanes.load(q8, j), m9 = Lanes.load(q9, j), m10 = Lanes.load(q10, j), m11 = Lanes.load(q11, j)
                    let u00 = Lanes.load(q0, j) + m4 + m8, u01 = Lanes.load(q1, j) + m5 + m9
                    let u02 = Lanes.load(q2, j) + m6 + m10, u03 = Lanes.load(q3, j) + m7 + m11
                    let u10 = m4 - m8 - Lanes.load(q12, j), u11 = m5 - m9 - Lanes.load(q13, j)
                    let u12 = m6 - m10 - Lanes.load(q14, j), u13 = m7 - m11 - Lanes.load(q15, j)
                    Lanes.store(u00 + u01 + u02 + bias8, y00, j)
                    Lanes.store(u01 - u02 - u03 + bias8, y01, j)
                    Lanes.store(u10 + u11 + u12 + bias8, y10, j)
                    Lanes.store(u11 - u12 - u13 + bias8, y11, j)
                } scalar: { j in
                    let u00 = q0[j] + q4[j] + q8[j], u01 = q1[j] + q5[j] + q9[j]
                    let u02 = q2[j] + q6[j] + q10[j], u03 = q3[j] + q7[j] + q11[j]
                    let u10 = q4[j] - q8[j] - q12[j], u11 = q5[j] - q9[j] - q13[j]
                    let u12 = q6[j] - q10[j] - q14[j], u13 = q7[j] - q11[j] - q15[j]
                    y00[j] = u00 + u01 + u02 + b
                    y01[j] = u01 - u02 - u03 + b
                    y10[j] = u10 + u11 + u12 + b
                    y11[j] = u11 - u12 - u13 + b
                }
                let top = plane + 2 * i * ow
                interleave(y00, y01, into: top, width: ow)
                if 2 * i + 1 < oh { interleave(y10, y11, into: top + ow, width: ow) }
            }
        }
    }

    /// out[2j] = a[j], out[2j + 1] = b[j] for the `width` outputs of one row (odd widths end with a[last]).
    @inline(__always)
    private static func interleave(_ a: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
                                   into out: UnsafeMutablePointer<Float>, width: Int) {
        let pairs = width / 2
        Lanes.forEach(pairs) { j in
            var z = SIMD16<Float>()
            z.evenHalf = Lanes.load(a, j)
            z.oddHalf = Lanes.load(b, j)
            UnsafeMutableRawPointer(out + 2 * j).storeBytes(of: z, as: SIMD16<Float>.self)
        } scalar: { j in
            out[2 * j] = a[j]
            out[2 * j + 1] = b[j]
        }
        if width % 2 == 1 { out[width - 1] = a[pairs] }
    }
}
