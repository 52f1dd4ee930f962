import CGraftKernels

/// Kernels on channels-last maps [N, H, W, C], for inference chains of depthwise and pointwise
/// convolutions (MobileNet, EfficientNet): a depthwise filter then reads eight channels with one
/// load at every tap, on any plane size and stride, and a pointwise convolution of the whole batch
/// is one GEMM.
///
/// Each kernel computes every output with **exactly the arithmetic of its NCHW counterpart** —
/// the same chain of fused multiply-adds in the same order, the same epilogue — so a chain run in
/// this layout gives the same bits as one run layer by layer in NCHW (tested bit for bit).
enum ChannelsLast {
    /// y[n, p, c] = x[n, c, p] (`toChannelsLast`) or y[n, c, p] = x[n, p, c]: per image, a
    /// [rows, columns] matrix transposed, in column blocks spread over the threads. Data movement only.
    static func transpose(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, rows: Int, columns: Int) {
        nonisolated(unsafe) let (x, y) = (x, y)
        let block = 256, blocks = (columns + block - 1) / block
        Threads.parallelFor(batch * blocks, grain: Swift.max(1, Elementwise.grain / Swift.max(rows * block, 1))) { units in
            for unit in units {
                let (n, first) = (unit / blocks, (unit % blocks) * block)
                let count = Swift.min(block, columns - first)
                graft_transpose_into(x + n * rows * columns + first, columns, rows, count, y + n * rows * columns + first * rows, rows)
            }
        }
    }

    /// A depthwise convolution (one filter per channel) of x [N, H, W, C] with w [C, kh, kw] into
    /// y [N, OH, OW, C] (`g.channels` = C), then `epilogue`.
    ///
    /// Every output is the chain ``Depthwise`` computes: from the bias, one fused multiply-add per
    /// tap in row-major order. Where the window leaves the image, strides 1 and 2 without dilation
    /// (Depthwise's whole-plane path) multiply-add a zero, and other geometries (its general path)
    /// skip the tap; both are kept here, so even a −0 or an infinite weight gives the same bits.
    static func depthwise(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                          _ y: UnsafeMutablePointer<Float>, batch: Int, _ g: WindowGeometry, epilogue: ConvEpilogue?) {
        guard batch > 0, g.channels > 0, g.outputPlane > 0 else { return }
        let plan = DepthwisePlan(w, bias, g, epilogue: epilogue)
        nonisolated(unsafe) let (x, y) = (x, y)
        let rowWork = g.outputWidth * plan.taps * g.channels
        Threads.parallelFor(batch * g.outputHeight, grain: Swift.max(1, Elementwise.grain / Swift.max(rowWork, 1))) { rows in
            var r = rows.lowerBound
            while r < rows.upperBound {
                // The range's rows of one image at a time.
                let (n, oh) = (r / g.outputHeight, r % g.outputHeight)
                let end = Swift.min(rows.upperBound, (n + 1) * g.outputHeight)
                plan.rows(oh..<oh + end - r, image: x + n * g.inputPlane * g.channels, height: g.height, padTop: g.padTop,
                          into: y + r * g.outputWidth * g.channels)
                r = end
            }
        }
    }

    /// A depthwise convolution's tables, made once for all its rows: the weights by tap (each tap's
    /// row of C contiguous), the chains' starts, a zero pixel for padded taps, where each tap reads
    /// from its window's first pixel, and the output columns whose windows lie inside the image's.
    /// ``rows(_:image:height:padTop:into:)`` computes any rows of one image, or of a band of its rows.
    final class DepthwisePlan: @unchecked Sendable {
        let g: WindowGeometry, taps: Int
        private let table: Storage
        private let weights: UnsafePointer<Float>, start: UnsafePointer<Float>, zero: UnsafePointer<Float>
        private let offsets: [Int]
        private let innerColumns: Range<Int>
        private let padsWithZeros: Bool
        /// Whether the interior runs eight pixels at a time: 5×5 and wider kernels at stride 1 without
        /// dilation across (measured faster there; 3×3 kernels and stride 2 run faster two pixels at a time).
        private let eightPixels: Bool
        private let finish: Finish
        private let epilogue: ConvEpilogue?

        init(_ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, _ g: WindowGeometry, epilogue: ConvEpilogue?) {
            let c = g.channels, taps = g.kernelHeight * g.kernelWidth
            (self.g, self.taps, self.epilogue) = (g, taps, epilogue)
            table = Storage(uninitializedCount: taps * c + 4 * c)
            let byTap = table.pointer, start = table.pointer + taps * c, zeros = start + c
            for ch in 0..<c {
                for tap in 0..<taps { byTap[tap * c + ch] = w[ch * taps + tap] }
            }
            if let bias { start.update(from: bias, count: c) } else { start.initialize(repeating: 0, count: c) }
            zeros.initialize(repeating: 0, count: c)
            (weights, self.start, zero) = (UnsafePointer(byTap), UnsafePointer(start), UnsafePointer(zeros))
            padsWithZeros = g.strideHeight == g.strideWidth && (g.strideHeight == 1 || g.strideHeight == 2)
                && g.dilationHeight == 1 && g.dilationWidth == 1
            eightPixels = g.kernelWidth >= 5 && g.strideWidth == 1 && g.dilationWidth == 1 && c >= 8
            offsets = (0..<taps).map { t in ((t / g.kernelWidth) * g.dilationHeight * g.width + (t % g.kernelWidth) * g.dilationWidth) * c }
            let spanW = (g.kernelWidth - 1) * g.dilationWidth
            let lastInside = g.width - 1 - spanW + g.padLeft  // the window of ow fits while ow·stride ≤ this
            let firstInner = Swift.min(g.outputWidth, (g.padLeft + g.strideWidth - 1) / g.strideWidth)
            let endInner = lastInside < 0 ? 0 : Swift.min(g.outputWidth, lastInside / g.strideWidth + 1)
            innerColumns = firstInner..<Swift.max(firstInner, endInner)
            finish = Finish(epilogue, maps: zeros + c, channels: c)
        }

        /// Output rows `rows` of one image whose rows `0..<height` are at `image` ([height, W, C]; rows
        /// outside them are padding), the first window row of output row oh at oh·stride − `padTop`,
        /// written from `out` on. The whole image: its height and the geometry's padTop; a band of its rows
        /// from row r0: the band's height and padTop − r0 (the rows the band's outputs read must all be in it).
        func rows(_ rows: Range<Int>, image: UnsafePointer<Float>, height: Int, padTop: Int, into out: UnsafeMutablePointer<Float>) {
            let c = g.channels
            let spanH = (g.kernelHeight - 1) * g.dilationHeight
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 2 * taps) { pointers in
                // Per border pixel: where each counted tap reads (a pixel of x, or the zero pixel) and its weights.
                let sources = UnsafeMutableBufferPointer(rebasing: pointers[..<taps])
                let kernels = UnsafeMutableBufferPointer(rebasing: pointers[taps...])
                offsets.withUnsafeBufferPointer { offsets in
                    for oh in rows {
                        let target = out + (oh - rows.lowerBound) * g.outputWidth * c
                        let top = oh * g.strideHeight - padTop
                        let inner = top >= 0 && top + spanH < height ? innerColumns : 0..<0
                        if !inner.isEmpty {
                            let window = image + (top * g.width + inner.lowerBound * g.strideWidth - g.padLeft) * c
                            let done = eightPixels
                                ? interiorWide(window, stride: g.strideWidth, pixels: inner.count, kernel: (g.kernelHeight, g.kernelWidth),
                                               rowStride: g.dilationHeight * g.width * c, weights, from: start, finish,
                                               target + inner.lowerBound * c, channels: c)
                                : 0
                            interior(window + done * g.strideWidth * c, step: g.strideWidth * c, pixels: inner.count - done, offsets, weights,
                                     from: start, finish, target + (inner.lowerBound + done) * c, channels: c)
                            epilogue?.function?.apply(target + inner.lowerBound * c, count: inner.count * c)
                        }
                        for ow in 0..<g.outputWidth where !inner.contains(ow) {
                            var count = 0
                            for i in 0..<g.kernelHeight {
                                let ih = top + i * g.dilationHeight
                                for j in 0..<g.kernelWidth {
                                    let iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
                                    if ih >= 0 && ih < height && iw >= 0 && iw < g.width {
                                        sources[count] = image + (ih * g.width + iw) * c
                                    } else if padsWithZeros {
                                        sources[count] = zero
                                    } else {
                                        continue
                                    }
                                    kernels[count] = weights + (i * g.kernelWidth + j) * c
                                    count += 1
                                }
                            }
                            chains(UnsafeBufferPointer(rebasing: sources[..<count]), UnsafeBufferPointer(rebasing: kernels[..<count]),
                                   from: start, target + ow * c, channels: c)
                            epilogue?.applyChannelsLast(target + ow * c, pixels: 1, channels: c)
                        }
                    }
                }
            }
        }
    }

    /// A ConvEpilogue applied to eight channels in registers: the same operations, in the same order,
    /// with the same NaN and signed-zero rules as ``ConvEpilogue/apply(_:count:channel:)``.
    struct Finish {
        let scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?
        let low: SIMD8<Float>, high: SIMD8<Float>, clamps: Bool
        let lowScalar: Float, highScalar: Float

        /// `maps` holds room for 2·channels floats: the affine map's scale and shift are copied there.
        init(_ epilogue: ConvEpilogue?, maps: UnsafeMutablePointer<Float>, channels: Int) {
            let e = epilogue ?? ConvEpilogue()
            if let s = e.scale, let t = e.shift, s.count == channels, t.count == channels {
                maps.update(from: s, count: channels)
                (maps + channels).update(from: t, count: channels)
                (scale, shift) = (UnsafePointer(maps), UnsafePointer(maps + channels))
            } else {
                (scale, shift) = (nil, nil)
            }
            (low, high, clamps) = (SIMD8(repeating: e.low), SIMD8(repeating: e.high), e.clamps)
            (lowScalar, highScalar) = (e.low, e.high)
        }

        @inline(__always)
        func callAsFunction(_ v: SIMD8<Float>, _ ch: Int) -> SIMD8<Float> {
            var v = v
            if let scale, let shift { v = v * Lanes.load(scale, ch) + Lanes.load(shift, ch) }
            if clamps {
                v = v.replacing(with: low, where: low .>= v)   // Tensor.clamped: Swift.max(v, low),
                v = v.replacing(with: high, where: high .< v)  // then Swift.min(v, high)
            }
            return v
        }

        @inline(__always)
        func callAsFunction(_ v: Float, _ ch: Int) -> Float {
            var v = v
            if let scale, let shift { v = v * scale[ch] + shift[ch] }
            if clamps { v = Tensor.clamped(v, lowScalar, highScalar) }
            return v
        }
    }

    /// Depthwise chains for `pixels` consecutive output pixels whose windows lie inside the image:
    /// pixel q's window starts at `window + q·step`, tap t reads `offsets[t]` floats further, with
    /// weights `weights + t·c`. Two pixels at a time share each weight load; the epilogue is applied
    /// in registers.
    @inline(never)
    private static func interior(_ window: UnsafePointer<Float>, step: Int, pixels: Int, _ offsets: UnsafeBufferPointer<Int>,
                                 _ weights: UnsafePointer<Float>, from start: UnsafePointer<Float>, _ finish: Finish,
                                 _ out: UnsafeMutablePointer<Float>, channels c: Int) {
        let taps = offsets.count
        var q = 0
        while q &+ 2 <= pixels {
            let p0 = window + q &* step, p1 = window + (q &+ 1) &* step
            let o0 = out + q &* c, o1 = out + (q &+ 1) &* c
            var ch = 0
            while ch &+ 32 <= c {
                let s0 = Lanes.load(start, ch), s1 = Lanes.load(start, ch &+ 8), s2 = Lanes.load(start, ch &+ 16), s3 = Lanes.load(start, ch &+ 24)
                var (a0, a1, a2, a3, b0, b1, b2, b3) = (s0, s1, s2, s3, s0, s1, s2, s3)
                for t in 0..<taps {
                    let k = weights + (t &* c &+ ch), off = offsets[t] &+ ch
                    let (w0, w1, w2, w3) = (Lanes.load(k, 0), Lanes.load(k, 8), Lanes.load(k, 16), Lanes.load(k, 24))
                    a0 = a0.addingProduct(w0, Lanes.load(p0, off)); a1 = a1.addingProduct(w1, Lanes.load(p0, off &+ 8))
                    a2 = a2.addingProduct(w2, Lanes.load(p0, off &+ 16)); a3 = a3.addingProduct(w3, Lanes.load(p0, off &+ 24))
                    b0 = b0.addingProduct(w0, Lanes.load(p1, off)); b1 = b1.addingProduct(w1, Lanes.load(p1, off &+ 8))
                    b2 = b2.addingProduct(w2, Lanes.load(p1, off &+ 16)); b3 = b3.addingProduct(w3, Lanes.load(p1, off &+ 24))
                }
                Lanes.store(finish(a0, ch), o0, ch); Lanes.store(finish(a1, ch &+ 8), o0, ch &+ 8)
                Lanes.store(finish(a2, ch &+ 16), o0, ch &+ 16); Lanes.store(finish(a3, ch &+ 24), o0, ch &+ 24)
                Lanes.store(finish(b0, ch), o1, ch); Lanes.store(finish(b1, ch &+ 8), o1, ch &+ 8)
                Lanes.store(finish(b2, ch &+ 16), o1, ch &+ 16); Lanes.store(finish(b3, ch &+ 24), o1, ch &+ 24)
                ch &+= 32
            }
            while ch &+ 16 <= c {
                let s0 = Lanes.load(start, ch), s1 = Lanes.load(start, ch &+ 8)
                var (a0, a1, b0, b1) = (s0, s1, s0, s1)
                for t in 0..<taps {
                    let k = weights + (t &* c &+ ch), off = offsets[t] &+ ch
                    let (w0, w1) = (Lanes.load(k, 0), Lanes.load(k, 8))
                    a0 = a0.addingProduct(w0, Lanes.load(p0, off)); a1 = a1.addingProduct(w1, Lanes.load(p0, off &+ 8))
                    b0 = b0.addingProduct(w0, Lanes.load(p1, off)); b1 = b1.addingProduct(w1, Lanes.load(p1, off &+ 8))
                }
                Lanes.store(finish(a0, ch), o0, ch); Lanes.store(finish(a1, ch &+ 8), o0, ch &+ 8)
                Lanes.store(finish(b0, ch), o1, ch); Lanes.store(finish(b1, ch &+ 8), o1, ch &+ 8)
                ch &+= 16
            }
            while ch &+ 8 <= c {
                var (a, b) = (Lanes.load(start, ch), Lanes.load(start, ch))
                for t in 0..<taps {
                    let w = Lanes.load(weights + t &* c, ch), off = offsets[t] &+ ch
                    a = a.addingProduct(w, Lanes.load(p0, off)); b = b.addingProduct(w, Lanes.load(p1, off))
                }
                Lanes.store(finish(a, ch), o0, ch); Lanes.store(finish(b, ch), o1, ch)
                ch &+= 8
            }
            while ch < c {
                var (a, b) = (start[ch], start[ch])
                for t in 0..<taps {
                    let w = weights[t &* c &+ ch], off = offsets[t] &+ ch
                    a = a.addingProduct(w, p0[off]); b = b.addingProduct(w, p1[off])
                }
                o0[ch] = finish(a, ch); o1[ch] = finish(b, ch)
                ch &+= 1
            }
            q &+= 2
        }
        if q < pixels {
            let p0 = window + q &* step, o0 = out + q &* c
            var ch = 0
            while ch &+ 8 <= c {
                var a = Lanes.load(start, ch)
                for t in 0..<taps { a = a.addingProduct(Lanes.load(weights + t &* c, ch), Lanes.load(p0, offsets[t] &+ ch)) }
                Lanes.store(finish(a, ch), o0, ch)
                ch &+= 8
            }
            while ch < c {
                var a = start[ch]
                for t in 0..<taps { a = a.addingProduct(weights[t &* c &+ ch], p0[offsets[t] &+ ch]) }
                o0[ch] = finish(a, ch)
                ch &+= 1
            }
        }
    }

    /// ``interior`` for windows that move along a row without dilation across, eight output pixels and
    /// eight channels at a time: each tap's weights are loaded once for eight pixels (eight independent
    /// chains keep both FMA units busy), so a multiply-add costs 1.125 loads instead of 1.5. Every
    /// output is the same chain — from the bias, one fused multiply-add per tap, kernel rows outer,
    /// columns inner — and gets the same epilogue. Computes the first `pixels` rounded down to eight
    /// (every channel) and returns how many; ``interior`` does the rest.
    @inline(never)
    private static func interiorWide(_ window: UnsafePointer<Float>, stride: Int, pixels: Int, kernel: (height: Int, width: Int),
                                     rowStride: Int, _ weights: UnsafePointer<Float>, from start: UnsafePointer<Float>, _ finish: Finish,
                                     _ out: UnsafeMutablePointer<Float>, channels c: Int) -> Int {
        let blocks = pixels / 8 * 8
        let (kh, kw) = kernel
        let step = stride &* c
        var q = 0
        while q < blocks {
            let first = window + q &* step, o = out + q &* c
            var ch = 0
            while ch &+ 8 <= c {
                let s = Lanes.load(start, ch)
                var (a0, a1, a2, a3, a4, a5, a6, a7) = (s, s, s, s, s, s, s, s)
                for i in 0..<kh {
                    let row = first + (i &* rowStride &+ ch), taps = weights + (i &* kw &* c &+ ch)
                    for j in 0..<kw {
                        let w = Lanes.load(taps, j &* c), x = row + j &* c
                        a0 = a0.addingProduct(w, Lanes.load(x, 0)); a1 = a1.addingProduct(w, Lanes.load(x, step))
                        a2 = a2.addingProduct(w, Lanes.load(x, 2 &* step)); a3 = a3.addingProduct(w, Lanes.load(x, 3 &* step))
                        a4 = a4.addingProduct(w, Lanes.load(x, 4 &* step)); a5 = a5.addingProduct(w, Lanes.load(x, 5 &* step))
                        a6 = a6.addingProduct(w, Lanes.load(x, 6 &* step)); a7 = a7.addingProduct(w, Lanes.load(x, 7 &* step))
                    }
                }
                Lanes.store(finish(a0, ch), o, ch); Lanes.store(finish(a1, ch), o, c &+ ch)
                Lanes.store(finish(a2, ch), o, 2 &* c &+ ch); Lanes.store(finish(a3, ch), o, 3 &* c &+ ch)
                Lanes.store(finish(a4, ch), o, 4 &* c &+ ch); Lanes.store(finish(a5, ch), o, 5 &* c &+ ch)
                Lanes.store(finish(a6, ch), o, 6 &* c &+ ch); Lanes.store(finish(a7, ch), o, 7 &* c &+ ch)
                ch &+= 8
            }
            // The channels past the last eight, one at a time in the same order.
            while ch < c {
                for p in 0..<8 {
                    var a = start[ch]
                    for i in 0..<kh {
                        for j in 0..<kw { a = a.addingProduct(weights[(i &* kw &+ j) &* c &+ ch], first[i &* rowStride &+ p &* step &+ j &* c &+ ch]) }
                    }
                    o[p &* c &+ ch] = finish(a, ch)
                }
                ch &+= 1
            }
            q &+= 8
        }
        return blocks
    }

    /// out[ch] = fma chain from start[ch] over t: out ← fma(kernels[t][ch], sources[t][ch], out), for every channel:
    /// thirty-two channels at a time in registers across the taps, then eight, then one.
    @inline(__always)
    private static func chains(_ sources: UnsafeBufferPointer<UnsafePointer<Float>>, _ kernels: UnsafeBufferPointer<UnsafePointer<Float>>,
                               from start: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, channels c: Int) {
        var ch = 0
        while ch &+ 32 <= c {
            var (a0, a1, a2, a3) = (Lanes.load(start, ch), Lanes.load(start, ch &+ 8), Lanes.load(start, ch &+ 16), Lanes.load(start, ch &+ 24))
            for t in 0..<sources.count {
                let (s, k) = (sources[t] + ch, kernels[t] + ch)
                a0 = a0.addingProduct(Lanes.load(k, 0), Lanes.load(s, 0))
                a1 = a1.addingProduct(Lanes.load(k, 8), Lanes.load(s, 8))
                a2 = a2.addingProduct(Lanes.load(k, 16), Lanes.load(s, 16))
                a3 = a3.addingProduct(Lanes.load(k, 24), Lanes.load(s, 24))
            }
            Lanes.store(a0, out, ch); Lanes.store(a1, out, ch &+ 8); Lanes.store(a2, out, ch &+ 16); Lanes.store(a3, out, ch &+ 24)
            ch &+= 32
        }
        while ch &+ 8 <= c {
            var a = Lanes.load(start, ch)
            for t in 0..<sources.count { a = a.addingProduct(Lanes.load(kernels[t], ch), Lanes.load(sources[t], ch)) }
            Lanes.store(a, out, ch)
            ch &+= 8
        }
        while ch < c {
            var a = start[ch]
            for t in 0..<sources.count { a = a.addingProduct(kernels[t][ch], sources[t][ch]) }
            out[ch] = a
            ch &+= 1
        }
    }

    /// A pointwise convolution (1×1, stride 1, one group) of x [P, cin] (P = N·H·W pixels) with
    /// w [cout, cin] into y [P, cout]: a linear map of each pixel (``GEMM/linear``), each output the
    /// chain over cin that the NCHW GEMM computes, then the bias added and `epilogue` applied, as
    /// ``ConvPlan`` does.
    static func pointwise(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                          _ y: UnsafeMutablePointer<Float>, pixels: Int, inChannels: Int, outChannels: Int, epilogue: ConvEpilogue?) {
        GEMM.linear(x, w, bias, y, rows: pixels, inFeatures: inChannels, outFeatures: outChannels, epilogue: epilogue)
    }

    /// The mean over each image's pixels per channel, x [N, P = H·W, C] → y [N, C], with the
    /// arithmetic of `mean(axes: [2, 3])` on [N, C, H, W]: each column's sum down the rows from 0,
    /// then the columns' sum in eight interleaved lanes (``Reduction/sumContiguous``), times 1/P.
    static func averagePool(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, height: Int, width: Int, channels c: Int) {
        nonisolated(unsafe) let (x, y) = (x, y)
        let scale = 1 / Float(height * width)
        Threads.parallelFor(batch, grain: 1) { images in
            let buffer = Storage(uninitializedCount: width * c)
            let columns = buffer.pointer  // [W, C]: Σ over rows
            for n in images {
                let image = x + n * height * width * c
                columns.initialize(repeating: 0, count: width * c)
                for h in 0..<height {
                    let row = image + h * width * c
                    for k in 0..<width * c { columns[k] += row[k] }
                }
                for ch in 0..<c {
                    var lanes = SIMD8<Float>.zero
                    var q = 0
                    while q + 8 <= width {
                        var next = SIMD8<Float>.zero
                        for l in 0..<8 { next[l] = columns[(q + l) * c + ch] }
                        lanes += next
                        q += 8
                    }
                    var total = lanes.sum()
                    while q < width { total += columns[q * c + ch]; q += 1 }
                    y[n * c + ch] = total * scale
                }
            }
            withExtendedLifetime(buffer) {}
        }
    }
}

extension ConvEpilogue {
    /// ``apply(_:count:channel:)`` on `pixels` rows of `channels` values (channels-last): the same arithmetic per value.
    @inline(__always)
    func applyChannelsLast(_ p: UnsafeMutablePointer<Float>, pixels: Int, channels: Int) {
        if let scale, let shift {
            scale.withUnsafeBufferPointer { s in
                shift.withUnsafeBufferPointer { t in
                    for q in 0..<pixels {
                        let row = p + q * channels
                        if clamps {
                            for ch in 0..<channels { row[ch] = Tensor.clamped(row[ch] * s[ch] + t[ch], low, high) }
                        } else {
                            for ch in 0..<channels { row[ch] = row[ch] * s[ch] + t[ch] }
                        }
                    }
                }
            }
        } else if clamps {
            clampAll(p, count: pixels * channels)
        }
        function?.apply(p, count: pixels * channels)
    }
}
