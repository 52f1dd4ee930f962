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
        /// Floats of scratch `images` images need: V [16, in, images·tiles], M [16, out, images·tiles].
        func scratchCount(images: Int = 1) -> Int { 16 * (inChannels + outChannels) * tiles * images + TileColumns.width }
        /// Floats of one transform's rows: the padded rows' d·B, a row's even and odd columns, the row, slack.
        var workCount: Int { paddedRows * 4 * tileColumns + 4 * (tileColumns + 1) + 32 }
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
        nonisolated(unsafe) let (w, target) = (w, u.pointer)
        Threads.parallelFor(outChannels, grain: Swift.max(1, Elementwise.grain / Swift.max(16 * inChannels, 1))) { range in
            for o in range {
                // Eight input channels at a time, one in each lane (the same arithmetic per lane); a last
                // block of fewer repeats its last channel in the spare lanes, which are not stored.
                for c in Swift.stride(from: 0, to: inChannels, by: 8) {
                    let lanes = Swift.min(8, inChannels - c)
                    // Tap i of g (the kernel, or the transposed one rotated 180°) for each lane's channel.
                    func tap(_ i: Int) -> SIMD8<Float> {
                        var v = SIMD8<Float>()
                        for lane in 0..<8 {
                            let channel = c + Swift.min(lane, lanes - 1)
                            v[lane] = transposedAndFlipped ? w[(channel * outChannels + o) * 9 + 8 - i] : w[(o * inChannels + channel) * 9 + i]
                        }
                        return v
                    }
                    let half = SIMD8<Float>(repeating: 0.5)
                    // t = G·g (4×3) column by column, then each row of U = t·Gᵀ (4×4).
                    func column(_ col: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
                        let (g0, g1, g2) = (tap(col), tap(3 + col), tap(6 + col))
                        return (g0, half * (g0 + g1 + g2), half * (g0 - g1 + g2), g2)
                    }
                    let (a, b, d) = (column(0), column(1), column(2))
                    let base = target + o * inChannels + c
                    func store(_ value: SIMD8<Float>, _ xi: Int) {
                        let out = base + xi * stride
                        if lanes == 8 {
                            UnsafeMutableRawPointer(out).storeBytes(of: value, as: SIMD8<Float>.self)
                        } else {
                            for lane in 0..<lanes { out[lane] = value[lane] }
                        }
                    }
                    func row(_ r: Int, _ t0: SIMD8<Float>, _ t1: SIMD8<Float>, _ t2: SIMD8<Float>) {
                        store(t0, 4 * r)
                        store(half * (t0 + t1 + t2), 4 * r + 1)
                        store(half * (t0 - t1 + t2), 4 * r + 2)
                        store(t2, 4 * r + 3)
                    }
                    row(0, a.0, b.0, d.0)
                    row(1, a.1, b.1, d.1)
                    row(2, a.2, b.2, d.2)
                    row(3, a.3, b.3, d.3)
                }
            }
        }
        return u
    }

    /// Convolves `images` images x [images, in, H, W] into y [images, out, OH, OW] (overwritten), adding
    /// `bias` if given, their tiles side by side: V [16, in, images·tiles], sixteen GEMMs of images·tiles
    /// columns, M [16, out, images·tiles]. Each output is computed as with one image at a time (the same
    /// transforms, and a GEMM's element is one chain over `in` whatever its width), so the same bits for
    /// any number of images. `scratch` holds `plan.scratchCount(images:)` floats. The transforms and the
    /// GEMMs run over graft's threads (serially inside a parallel loop); GEMMs through `GEMM.sgemm`.
    /// `byColumns` picks the transforms (tests compare the two): by default, `TileColumns` for small planes.
    static func convolve(_ plan: Plan, images: Int = 1, x: UnsafePointer<Float>, u: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                         y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, byColumns: Bool? = nil) {
        let (cin, cout, tiles) = (plan.inChannels, plan.outChannels, plan.tiles)
        let columns = images * tiles
        nonisolated(unsafe) let (x, u, bias, y) = (x, u, bias, y)
        nonisolated(unsafe) let (v, m) = (scratch, scratch + 16 * cin * columns)
        let (inputPlane, outputPlane) = (plan.height * plan.width, plan.outputHeight * plan.outputWidth)
        if byColumns ?? (plan.tileColumns < TileColumns.width) {
            let map = TileColumns(plan, images: images)
            Threads.parallelFor(cin, grain: 1) { range in
                for c in range { map.inputTransform(x + c * inputPlane, v + c * columns, stride: cin * columns) }
            }
            multiply(cout: cout, cin: cin, columns: columns, u: u, v: v, m: m)
            Threads.parallelFor(cout, grain: 1) { range in
                for o in range { map.outputTransform(m + o * columns, stride: cout * columns, bias: bias?[o] ?? 0, y + o * outputPlane) }
            }
            return
        }
        // V = Bᵀ d B for every image, channel and tile.
        Threads.parallelFor(images * cin, grain: 1) { range in
            let work = Storage(uninitializedCount: plan.workCount)
            for task in range {
                let (n, c) = (task / cin, task % cin)
                inputTransform(plan, x + (n * cin + c) * inputPlane, v + c * columns + n * tiles, stride: cin * columns, work.pointer)
            }
            withExtendedLifetime(work) {}
        }
        multiply(cout: cout, cin: cin, columns: columns, u: u, v: v, m: m)
        // Y = Aᵀ M A for every image and output channel.
        Threads.parallelFor(images * cout, grain: Swift.max(1, Elementwise.grain / Swift.max(outputPlane, 1))) { range in
            let work = Storage(uninitializedCount: plan.workCount)
            for task in range {
                let (n, o) = (task / cout, task % cout)
                outputTransform(plan, m + o * columns + n * tiles, stride: cout * columns, bias: bias?[o] ?? 0,
                                y + (n * cout + o) * outputPlane, work.pointer)
            }
            withExtendedLifetime(work) {}
        }
    }

    /// M_ξ = U_ξ [out, in] · V_ξ [in, columns] for the sixteen ξ, over the threads.
    private static func multiply(cout: Int, cin: Int, columns: Int, u: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                 m: UnsafeMutablePointer<Float>) {
        nonisolated(unsafe) let (u, v, m) = (u, v, m)
        Threads.parallelFor(16, grain: 1) { range in
            for xi in range {
                GEMM.sgemm(m: cout, n: columns, k: cin, u + xi * cout * cin, lda: cin, v + xi * cin * columns, ldb: columns,
                           m + xi * cout * columns, ldc: columns)
            }
        }
    }

    /// Bᵀ d B for one channel's plane: tile t's 16 values to out[ξ·stride + t] (ξ = 4·row + column of the
    /// transformed tile), first along each padded row (d·B), then down the tile rows (Bᵀ·).
    private static func inputTransform(_ plan: Plan, _ plane: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, stride: Int,
                                       _ work: UnsafeMutablePointer<Float>) {
        let tw = plan.tileColumns
        let rows = work
        let even = rows + plan.paddedRows * 4 * tw, odd = even + tw + 1
        let line = odd + tw + 1  // one padded input row, 2·(tw + 1) values plus slack for 16-wide loads
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
                let out0 = out + (0 + k) * stride + i * tw
                let out1 = out + (4 + k) * stride + i * tw
                let out2 = out + (8 + k) * stride + i * tw
                let out3 = out + (12 + k) * stride + i * tw
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

    /// Aᵀ M A (+ bias) for one output channel: its tiles' 16 products at m[ξ·stride + t], four output
    /// rows of tw values per tile row, then interleaved into the plane `y`.
    private static func outputTransform(_ plan: Plan, _ q: UnsafePointer<Float>, stride step: Int, bias b: Float,
                                        _ plane: UnsafeMutablePointer<Float>, _ work: UnsafeMutablePointer<Float>) {
        let (oh, ow, tw) = (plan.outputHeight, plan.outputWidth, plan.tileColumns)
        let y00 = work, y01 = y00 + tw, y10 = y01 + tw, y11 = y10 + tw
        for i in 0..<plan.tileRows {
            let q0 = q + i * tw, q1 = q0 + step, q2 = q0 + 2 * step, q3 = q0 + 3 * step, q4 = q0 + 4 * step, q5 = q0 + 5 * step
            let q6 = q0 + 6 * step, q7 = q0 + 7 * step, q8 = q0 + 8 * step, q9 = q0 + 9 * step, q10 = q0 + 10 * step
            let q11 = q0 + 11 * step, q12 = q0 + 12 * step, q13 = q0 + 13 * step, q14 = q0 + 14 * step, q15 = q0 + 15 * step
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

/// The transforms for small planes (fewer than eight tiles to a tile row, where the row transforms would
/// run on a few values at a time): eight columns of V or M at a time — tiles of one image, or of the
/// images side by side — each tile's sixteen inputs gathered through a table and its four outputs
/// scattered through one. Each value goes through the same operations, in the same order, as in the
/// row transforms, so the same bits (tested).
struct TileColumns {
    static let width = 8
    let plan: Winograd.Plan
    /// Columns (images × tiles), and that rounded up to whole blocks of eight.
    let columns: Int, padded: Int
    /// Input k (= 4·row + column of the 4×4 tile) of column j at inputs[k·padded + j]: its offset from
    /// a channel's plane in the first image, or −1 for a zero (padding, or a column past the end).
    private let inputs: [Int]
    /// Column j's top-left output at outputs[j] (from an output channel's plane in the first image), or −1;
    /// whether it has a right and a lower neighbour (odd output sizes end with half tiles).
    private let outputs: [Int], right: [Bool], down: [Bool]

    init(_ plan: Winograd.Plan, images: Int) {
        self.plan = plan
        let (tiles, tw) = (plan.tiles, plan.tileColumns)
        columns = images * tiles
        padded = (columns + Self.width - 1) / Self.width * Self.width
        let (inputImage, outputImage) = (plan.inChannels * plan.height * plan.width, plan.outChannels * plan.outputHeight * plan.outputWidth)
        var inputs = [Int](repeating: -1, count: 16 * padded)
        var outputs = [Int](repeating: -1, count: padded), right = [Bool](repeating: false, count: padded), down = right
        for j in 0..<columns {
            let (n, t) = (j / tiles, j % tiles)
            let (ti, tj) = (t / tw, t % tw)
            for r in 0..<4 {
                for q in 0..<4 {
                    let (row, column) = (2 * ti + r - plan.padTop, 2 * tj + q - plan.padLeft)
                    if row >= 0, row < plan.height, column >= 0, column < plan.width {
                        inputs[(4 * r + q) * padded + j] = n * inputImage + row * plan.width + column
                    }
                }
            }
            outputs[j] = n * outputImage + 2 * ti * plan.outputWidth + 2 * tj
            right[j] = 2 * tj + 1 < plan.outputWidth
            down[j] = 2 * ti + 1 < plan.outputHeight
        }
        (self.inputs, self.outputs, self.right, self.down) = (inputs, outputs, right, down)
    }

    /// V for one input channel (its plane in the first image at `plane`): value ξ of column j to out[ξ·stride + j].
    func inputTransform(_ plane: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, stride: Int) {
        inputs.withUnsafeBufferPointer { table in
            withUnsafeTemporaryAllocation(of: SIMD8<Float>.self, capacity: 48) { buffer in
                guard let table = table.baseAddress, let d = buffer.baseAddress else { return }
                let (rows, lanes) = (d + 16, d + 32)
                for j in Swift.stride(from: 0, to: columns, by: Self.width) {
                    for k in 0..<16 {
                        let offsets = table + k * padded + j
                        var value = SIMD8<Float>()
                        for lane in 0..<8 where offsets[lane] >= 0 { value[lane] = plane[offsets[lane]] }
                        d[k] = value
                    }
                    // d·B along each of the tile's rows (the row transforms' e0 − e1, o0 + e1, e1 − o0, o0 − o1) ...
                    for r in 0..<4 {
                        let (a, b, c, e) = (d[4 * r], d[4 * r + 1], d[4 * r + 2], d[4 * r + 3])
                        rows[4 * r] = a - c
                        rows[4 * r + 1] = b + c
                        rows[4 * r + 2] = c - b
                        rows[4 * r + 3] = b - e
                    }
                    // ... then Bᵀ· down its columns.
                    for k in 0..<4 {
                        let (t0, t1, t2, t3) = (rows[k], rows[4 + k], rows[8 + k], rows[12 + k])
                        lanes[k] = t0 - t2
                        lanes[4 + k] = t1 + t2
                        lanes[8 + k] = t2 - t1
                        lanes[12 + k] = t1 - t3
                    }
                    let count = Swift.min(Self.width, columns - j)
                    for xi in 0..<16 {
                        let target = out + xi * stride + j
                        if count == Self.width {
                            UnsafeMutableRawPointer(target).storeBytes(of: lanes[xi], as: SIMD8<Float>.self)
                        } else {
                            for lane in 0..<count { target[lane] = lanes[xi][lane] }
                        }
                    }
                }
            }
        }
    }

    /// Y = Aᵀ M A (+ bias) for one output channel (its products at m[ξ·stride + j]) into its plane in the first image at `plane`.
    func outputTransform(_ m: UnsafePointer<Float>, stride step: Int, bias b: Float, _ plane: UnsafeMutablePointer<Float>) {
        let bias8 = SIMD8<Float>(repeating: b)
        let ow = plan.outputWidth
        for j in Swift.stride(from: 0, to: columns, by: Self.width) {
            // Eight columns of each M_ξ (past the last column: values read from the scratch's slack, dropped).
            func q(_ xi: Int) -> SIMD8<Float> { UnsafeRawPointer(m + xi * step + j).loadUnaligned(as: SIMD8<Float>.self) }
            let m4 = q(4), m5 = q(5), m6 = q(6), m7 = q(7), m8 = q(8), m9 = q(9), m10 = q(10), m11 = q(11)
            let u00 = q(0) + m4 + m8, u01 = q(1) + m5 + m9
            let u02 = q(2) + m6 + m10, u03 = q(3) + m7 + m11
            let u10 = m4 - m8 - q(12), u11 = m5 - m9 - q(13)
            let u12 = m6 - m10 - q(14), u13 = m7 - m11 - q(15)
            let y00 = u00 + u01 + u02 + bias8, y01 = u01 - u02 - u03 + bias8
            let y10 = u10 + u11 + u12 + bias8, y11 = u11 - u12 - u13 + bias8
            for lane in 0..<Swift.min(Self.width, columns - j) {
                let at = plane + outputs[j + lane]
                at[0] = y00[lane]
                if right[j + lane] { at[1] = y01[lane] }
                if down[j + lane] {
                    at[ow] = y10[lane]
                    if right[j + lane] { at[ow + 1] = y11[lane] }
                }
            }
        }
    }
}
