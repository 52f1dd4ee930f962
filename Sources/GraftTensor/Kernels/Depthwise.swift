/// Direct depthwise convolution (one filter per channel, multiplier 1), which im2col would turn
/// into thousands of one-row GEMMs. Planes are independent and run in parallel.
///
/// Every output is **one chain of fused multiply-adds from the bias over the taps in row-major
/// order** (y ← b; for (i, j): y ← fma(w[i, j], x[…], y)), whichever path computes it, so the
/// whole-plane path and the general one give the same bits, on every CPU with AVX2 and FMA.
enum Depthwise {
    /// y[n, c] = Σ taps w[c, i, j] · x[n, c] shifted, plus bias[c], then `epilogue` on each plane.
    ///
    /// Strides 1 and 2 without dilation (every depthwise layer of the common CNNs) go through whole
    /// planes: the input plane is laid out zero-padded — for stride 2 as four phase planes, its
    /// even and odd rows by even and odd columns — so that each tap reads one contiguous run that
    /// covers every output row at once (rows laid out with the padded width; the extra columns are
    /// dropped at the end). Thirty-two outputs at a time then stay in registers across all the taps
    /// (``chains``), even on 7×7 planes.
    static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                        _ y: UnsafeMutablePointer<Float>, planes: Int, _ g: WindowGeometry, epilogue: ConvEpilogue? = nil) {
        let s = g.strideHeight
        guard s == g.strideWidth, s == 1 || s == 2, g.dilationHeight == 1, g.dilationWidth == 1 else {
            forwardGeneral(x, w, bias, y, planes: planes, g, epilogue: epilogue)
            return
        }
        nonisolated(unsafe) let (x, w, bias, y) = (x, w, bias, y)
        let taps = g.kernelHeight * g.kernelWidth
        // The padded extent the windows read, then each phase plane's (rows, columns).
        let paddedHeight = (g.outputHeight - 1) * s + g.kernelHeight, paddedWidth = (g.outputWidth - 1) * s + g.kernelWidth
        let (rows, columns) = ((paddedHeight + s - 1) / s, (paddedWidth + s - 1) / s)
        let phase = rows * columns
        // Where each tap (i, j) reads: phase plane (i mod s, j mod s), shifted by (i/s, j/s).
        let offsets = (0..<taps).map { tap in
            let (i, j) = (tap / g.kernelWidth, tap % g.kernelWidth)
            return ((i % s) * s + j % s) * phase + (i / s) * columns + j / s
        }
        let scratch = s * s * phase + g.outputHeight * columns + columns * s
        // The image rows that land in the padded extent, and the columns of each that do.
        let firstRow = Swift.max(0, -g.padTop), endRow = Swift.min(g.height, paddedHeight - g.padTop)
        let first = Swift.min(g.padLeft, paddedWidth), last = Swift.min(paddedWidth, g.padLeft + g.width)
        // Rows of at least eight outputs are computed straight into the output; narrower planes
        // (7×7) go through one wide run over every row, then are copied out.
        let direct = g.outputWidth >= 8
        Threads.parallelFor(planes, grain: Swift.max(1, Elementwise.grain / Swift.max(g.outputPlane * taps, 1))) { range in
            let buffer = Storage(uninitializedCount: scratch)
            let phases = buffer.pointer, wide = buffer.pointer + s * s * phase
            let padded = wide + g.outputHeight * columns  // one padded row (stride 2)
            // The padding is zero for every plane: laid out once; each plane then writes only its image's values.
            phases.initialize(repeating: 0, count: s * s * phase)
            padded.initialize(repeating: 0, count: columns * s)
            for p in range {
                let c = p % g.channels
                let input = x + p * g.inputPlane, output = y + p * g.outputPlane, kernel = w + c * taps
                // phase (a, b)[r, q] = x[s·r + a − padTop, s·q + b − padLeft], zero outside the image: with stride 2
                // each row is laid out in `padded` (zeros, then the image's row), then split into its even and odd columns.
                if last > first {
                    for ih in firstRow..<endRow {
                        let row = ih + g.padTop
                        let (a, r) = (row % s, row / s)
                        let line = s == 1 ? phases + r * columns : padded
                        copy(input + ih * g.width + first - g.padLeft, line + first, count: last - first)
                        if s == 2 {
                            let even = phases + (a * 2) * phase + r * columns, odd = phases + (a * 2 + 1) * phase + r * columns
                            var q = 0
                            while q &+ 8 <= columns {
                                let pairs = UnsafeRawPointer(line + 2 &* q).loadUnaligned(as: SIMD16<Float>.self)
                                Lanes.store(pairs.evenHalf, even, q)
                                Lanes.store(pairs.oddHalf, odd, q)
                                q &+= 8
                            }
                            while q < columns { even[q] = line[2 &* q]; odd[q] = line[2 &* q &+ 1]; q &+= 1 }
                        }
                    }
                }
                // y[oh, ow] = bias + Σ taps w · phase(i mod s, j mod s)[oh + i/s, ow + j/s]
                let start = bias?[c] ?? 0
                if direct {
                    for oh in 0..<g.outputHeight {
                        let target = output + oh * g.outputWidth
                        chains(phases + oh * columns, offsets: offsets, kernel, from: start, target, count: g.outputWidth)
                        epilogue?.apply(target, count: g.outputWidth, channel: c)
                    }
                } else {
                    chains(phases, offsets: offsets, kernel, from: start, wide, count: (g.outputHeight - 1) * columns + g.outputWidth)
                    for oh in 0..<g.outputHeight {
                        let target = output + oh * g.outputWidth
                        copy(wide + oh * columns, target, count: g.outputWidth)
                        epilogue?.apply(target, count: g.outputWidth, channel: c)
                    }
                }
            }
            withExtendedLifetime(buffer) {}
        }
    }

    /// out[t] = fma chain from `start` over the taps in order: out[t] ← fma(w[tap], source[offsets[tap] + t], out[t]),
    /// for t in 0..<count. Thirty-two outputs at a time stay in registers across all the taps (one
    /// load per multiply-add, one store per output); the last group overlaps the one before rather
    /// than running short (its outputs are the same chains again, so `out` must not overlap the
    /// source). Runs shorter than 32 go sixteen or eight at a time; shorter than 8, one at a time.
    @inline(__always)
    static func chains(_ source: UnsafePointer<Float>, offsets: [Int], _ w: UnsafePointer<Float>, from start: Float,
                       _ out: UnsafeMutablePointer<Float>, count: Int) {
        offsets.withUnsafeBufferPointer { offsets in
            if count >= 32 {
                groups(of: 4, source, offsets, w, start, out, count: count)
            } else if count >= 16 {
                groups(of: 2, source, offsets, w, start, out, count: count)
            } else if count >= 8 {
                groups(of: 1, source, offsets, w, start, out, count: count)
            } else {
                for t in 0..<count {
                    var a = start
                    for tap in 0..<offsets.count { a = a.addingProduct(w[tap], source[offsets[tap] &+ t]) }
                    out[t] = a
                }
            }
        }
    }

    /// `chains` in groups of `vectors` × 8 outputs (1, 2 or 4; `count` ≥ the group), the last group overlapping.
    @inline(__always)
    private static func groups(of vectors: Int, _ source: UnsafePointer<Float>, _ offsets: UnsafeBufferPointer<Int>, _ w: UnsafePointer<Float>,
                               _ start: Float, _ out: UnsafeMutablePointer<Float>, count: Int) {
        let width = vectors &* 8, first = SIMD8<Float>(repeating: start)
        var t = 0
        while t < count {
            t = Swift.min(t, count &- width)
            var (a0, a1, a2, a3) = (first, first, first, first)
            for tap in 0..<offsets.count {
                let p = source + (offsets[tap] &+ t)
                let weight = SIMD8<Float>(repeating: w[tap])
                a0 = a0.addingProduct(weight, Lanes.load(p, 0))
                if vectors > 1 { a1 = a1.addingProduct(weight, Lanes.load(p, 8)) }
                if vectors > 2 {
                    a2 = a2.addingProduct(weight, Lanes.load(p, 16))
                    a3 = a3.addingProduct(weight, Lanes.load(p, 24))
                }
            }
            Lanes.store(a0, out, t)
            if vectors > 1 { Lanes.store(a1, out, t &+ 8) }
            if vectors > 2 { Lanes.store(a2, out, t &+ 16); Lanes.store(a3, out, t &+ 24) }
            t &+= width
        }
    }

    /// Any stride and dilation: one tap at a time over each output row.
    private static func forwardGeneral(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                                       _ y: UnsafeMutablePointer<Float>, planes: Int, _ g: WindowGeometry, epilogue: ConvEpilogue?) {
        nonisolated(unsafe) let (x, w, bias, y) = (x, w, bias, y)
        let taps = g.kernelHeight * g.kernelWidth
        Threads.parallelFor(planes, grain: Swift.max(1, Elementwise.grain / Swift.max(g.outputPlane * taps, 1))) { range in
            for p in range {
                let c = p % g.channels
                let input = x + p * g.inputPlane, output = y + p * g.outputPlane, kernel = w + c * taps
                output.initialize(repeating: bias?[c] ?? 0, count: g.outputPlane)
                for i in 0..<g.kernelHeight {
                    for j in 0..<g.kernelWidth {
                        let weight = kernel[i * g.kernelWidth + j]
                        let columnOffset = j * g.dilationWidth
                        let valid = g.validColumns(offset: columnOffset)
                        guard !valid.isEmpty else { continue }
                        for oh in 0..<g.outputHeight {
                            let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight
                            guard ih >= 0 && ih < g.height else { continue }
                            let source = input + ih * g.width - g.padLeft + columnOffset
                            let target = output + oh * g.outputWidth
                            if g.strideWidth == 1 {
                                axpy(weight, source + valid.lowerBound, target + valid.lowerBound, count: valid.count)
                            } else {
                                for ow in valid { target[ow] = target[ow].addingProduct(weight, source[ow * g.strideWidth]) }
                            }
                        }
                    }
                }
                if let epilogue {
                    for oh in 0..<g.outputHeight { epilogue.apply(output + oh * g.outputWidth, count: g.outputWidth, channel: c) }
                }
            }
        }
    }

    /// dx[n, c] (zeroed by the caller) and per-sample weight gradients dwPartial[n, c, taps], both from dy.
    static func backward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>?, _ dwPartial: UnsafeMutablePointer<Float>?, planes: Int, _ g: WindowGeometry) {
        nonisolated(unsafe) let (x, w, dy, dx, dwPartial) = (x, w, dy, dx, dwPartial)
        let taps = g.kernelHeight * g.kernelWidth
        Threads.parallelFor(planes, grain: Swift.max(1, Elementwise.grain / Swift.max(g.outputPlane * taps, 1))) { range in
            for p in range {
                let c = p % g.channels
                let input = x + p * g.inputPlane, gradient = dy + p * g.outputPlane, kernel = w + c * taps
                for i in 0..<g.kernelHeight {
                    for j in 0..<g.kernelWidth {
                        let tap = i * g.kernelWidth + j
                        let columnOffset = j * g.dilationWidth
                        let valid = g.validColumns(offset: columnOffset)
                        var dw: Float = 0
                        if !valid.isEmpty {
                            for oh in 0..<g.outputHeight {
                                let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight
                                guard ih >= 0 && ih < g.height else { continue }
                                let offset = ih * g.width - g.padLeft + columnOffset
                                let row = gradient + oh * g.outputWidth
                                if g.strideWidth == 1 {
                                    if dwPartial != nil { dw += dot(row + valid.lowerBound, input + offset + valid.lowerBound, count: valid.count) }
                                    if let dx { axpy(kernel[tap], row + valid.lowerBound, dx + p * g.inputPlane + offset + valid.lowerBound, count: valid.count) }
                                } else {
                                    for ow in valid {
                                        if dwPartial != nil { dw += row[ow] * input[offset + ow * g.strideWidth] }
                                        if let dx { dx[p * g.inputPlane + offset + ow * g.strideWidth] += kernel[tap] * row[ow] }
                                    }
                                }
                            }
                        }
                        dwPartial?[p * taps + tap] = dw
                    }
                }
            }
        }
    }

    /// to[k] = from[k], eight at a time (rows are short: a call to memmove per row costs as much as the row).
    @inline(__always)
    static func copy(_ from: UnsafePointer<Float>, _ to: UnsafeMutablePointer<Float>, count: Int) {
        var k = 0
        while k &+ 8 <= count {
            Lanes.store(Lanes.load(from, k), to, k)
            k &+= 8
        }
        while k < count { to[k] = from[k]; k &+= 1 }
    }

    /// y[k] ← fma(a, x[k], y[k])
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        let a8 = SIMD8<Float>(repeating: a)
        var k = 0
        while k &+ 8 <= count {
            Lanes.store(Lanes.load(y, k).addingProduct(a8, Lanes.load(x, k)), y, k)
            k &+= 8
        }
        while k < count { y[k] = y[k].addingProduct(a, x[k]); k &+= 1 }
    }

    /// Σ a[k]·b[k] with eight lanes (a fixed order).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var sum = SIMD8<Float>.zero
        var k = 0
        while k &+ 8 <= count {
            sum = sum.addingProduct(Lanes.load(a, k), Lanes.load(b, k))
            k &+= 8
        }
        var total = sum.sum()
        while k < count { total += a[k] * b[k]; k &+= 1 }
        return total
    }
}
