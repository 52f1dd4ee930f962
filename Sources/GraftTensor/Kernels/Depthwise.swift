/// Direct depthwise convolution (one filter per channel, multiplier 1), which im2col would turn
/// into thousands of one-row GEMMs. Each output row accumulates one kernel tap at a time over a
/// whole row (vectorized for stride 1); planes are independent and run in parallel.
enum Depthwise {
    /// y[n, c] = Σ taps w[c, i, j] · x[n, c] shifted, plus bias[c].
    static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                        _ y: UnsafeMutablePointer<Float>, planes: Int, _ g: WindowGeometry) {
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
