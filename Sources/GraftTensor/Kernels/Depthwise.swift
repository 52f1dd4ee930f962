/// Direct depthwise convolution (one filter per channel, multiplier 1), which im2col would turn
/// into thousands of one-row GEMMs. Each output row accumulates one kernel tap at a time over a
/// whole row (vectorized for stride 1); planes are independent and run in parallel.
enum Depthwise {
    /// y[n, c] = Σ taps w[c, i, j] · x[n, c] shifted, plus bias[c], then `epilogue` on each plane.
    ///
    /// Strides 1 and 2 without dilation (every depthwise layer of the common CNNs) go through whole
    /// planes: the input plane is laid out zero-padded — for stride 2 as four phase planes, its
    /// even and odd rows by even and odd columns — so that each tap reads one contiguous run that
    /// covers every output row at once (rows laid out with the padded width; the extra columns are
    /// dropped at the end). Each tap is then one long vector multiply-add, even on 7×7 planes.
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
        let blockRows = Swift.max(1, 2048 / columns)
        let scratch = s * s * phase + g.outputHeight * columns + columns * s
        Threads.parallelFor(planes, grain: Swift.max(1, Elementwise.grain / Swift.max(g.outputPlane * taps, 1))) { range in
            let buffer = Storage(uninitializedCount: scratch)
            let phases = buffer.pointer, wide = buffer.pointer + s * s * phase
            let padded = wide + g.outputHeight * columns  // one padded row (stride 2)
            for p in range {
                let c = p % g.channels
                let input = x + p * g.inputPlane, output = y + p * g.outputPlane, kernel = w + c * taps
                // phase (a, b)[r, q] = x[s·r + a − padTop, s·q + b − padLeft], zero outside the image: each
                // padded row is laid out once (zeros, then the image's row), then split into its even and odd columns.
                let first = Swift.min(g.padLeft, paddedWidth), last = Swift.min(paddedWidth, g.padLeft + g.width)
                for row in 0..<paddedHeight {
                    let (a, r) = (row % s, row / s)
                    let ih = row - g.padTop
                    let line = s == 1 ? phases + r * columns : padded
                    if ih >= 0 && ih < g.height {
                        if first > 0 { line.initialize(repeating: 0, count: first) }
                        if last > first { (line + first).update(from: input + ih * g.width + first - g.padLeft, count: last - first) }
                        if last < columns * s { (line + last).initialize(repeating: 0, count: columns * s - last) }
                    } else {
                        line.initialize(repeating: 0, count: columns * s)
                    }
                    if s == 2 {
                        let even = phases + (a * 2) * phase + r * columns, odd = phases + (a * 2 + 1) * phase + r * columns
                        var q = 0
                        while q + 8 <= columns {
                            let pairs = UnsafeRawPointer(line + 2 * q).loadUnaligned(as: SIMD16<Float>.self)
                            Lanes.store(pairs.evenHalf, even, q)
                            Lanes.store(pairs.oddHalf, odd, q)
                            q += 8
                        }
                        while q < columns { even[q] = line[2 * q]; odd[q] = line[2 * q + 1]; q += 1 }
                    }
                }
                if paddedHeight < rows * s {
                    // Stride 2 with an odd padded height: the last row of the odd-row phases is never read; zero it all the same.
                    for b in 0..<s { (phases + (s * (s - 1) + b) * phase + (rows - 1) * columns).initialize(repeating: 0, count: columns) }
                }
                // wide[oh·columns + ow] = bias + Σ taps w · phase(i mod s, j mod s)[oh + i/s, ow + j/s]
                // In blocks of output rows of about 2,048 values, so that the block stays in L1 across the taps.
                wide.initialize(repeating: bias?[c] ?? 0, count: g.outputHeight * columns)
                var top = 0
                while top < g.outputHeight {
                    let bottom = Swift.min(g.outputHeight, top + blockRows)
                    let count = (bottom - top - 1) * columns + g.outputWidth
                    for i in 0..<g.kernelHeight {
                        for j in 0..<g.kernelWidth {
                            let plane = phases + ((i % s) * s + j % s) * phase
                            axpy(kernel[i * g.kernelWidth + j], plane + (top + i / s) * columns + j / s, wide + top * columns, count: count)
                        }
                    }
                    top = bottom
                }
                for oh in 0..<g.outputHeight {
                    let target = output + oh * g.outputWidth
                    target.update(from: wide + oh * columns, count: g.outputWidth)
                    epilogue?.apply(target, count: g.outputWidth, channel: c)
                }
            }
            withExtendedLifetime(buffer) {}
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
                                for ow in valid { target[ow] += weight * source[ow * g.strideWidth] }
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

    /// y[k] += a · x[k]
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        let a8 = SIMD8<Float>(repeating: a)
        var k = 0
        while k &+ 8 <= count {
            Lanes.store(Lanes.load(y, k).addingProduct(a8, Lanes.load(x, k)), y, k)
            k &+= 8
        }
        while k < count { y[k] += a * x[k]; k &+= 1 }
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
