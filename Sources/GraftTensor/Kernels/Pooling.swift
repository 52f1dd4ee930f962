/// Max and average pooling over [planes, H, W], parallel over planes.
enum Pooling {
    /// y = max over each window (padding never wins); `argmax` records the flat input index chosen.
    static func maxForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ argmax: UnsafeMutablePointer<Int32>,
                           planes: Int, _ g: WindowGeometry) {
        nonisolated(unsafe) let x = x, y = y, argmax = argmax
        let inside = g.padTop == 0 && g.padLeft == 0 && g.dilationHeight == 1 && g.dilationWidth == 1
            && (g.outputHeight - 1) * g.strideHeight + g.kernelHeight <= g.height
            && (g.outputWidth - 1) * g.strideWidth + g.kernelWidth <= g.width
        Threads.parallelFor(planes, grain: Swift.max(1, Elementwise.grain / Swift.max(g.outputPlane * g.kernelHeight * g.kernelWidth, 1))) { range in
            if inside {
                // Every window lies inside the image: no bounds checks.
                for p in range {
                    let plane = x + p * g.inputPlane
                    var o = p * g.outputPlane
                    for oh in 0..<g.outputHeight {
                        for ow in 0..<g.outputWidth {
                            let origin = oh * g.strideHeight * g.width + ow * g.strideWidth
                            var best = plane[origin], bestIndex = origin
                            for i in 0..<g.kernelHeight {
                                let row = origin + i * g.width
                                for j in 0..<g.kernelWidth {
                                    let v = plane[row + j]
                                    if v > best || (v.isNaN && !best.isNaN) { best = v; bestIndex = row + j }
                                }
                            }
                            y[o] = best
                            argmax[o] = Int32(truncatingIfNeeded: bestIndex)
                            o += 1
                        }
                    }
                }
                return
            }
            // Output columns whose every tap lies inside the image's width run eight at a time.
            let (inner, lanes) = (Pooling.columnsInside(g), 8)
            for p in range {
                let plane = x + p * g.inputPlane
                for oh in 0..<g.outputHeight {
                    var ow = inner.lowerBound
                    while ow + lanes <= inner.upperBound {
                        let o = p * g.outputPlane + oh * g.outputWidth + ow
                        Pooling.maxEight(plane, y + o, argmax + o, g, oh: oh, ow: ow)
                        ow += lanes
                    }
                    let vectorized = inner.lowerBound..<ow
                    for ow in 0..<g.outputWidth where !vectorized.contains(ow) {
                        var best = -Float.infinity, bestIndex = Int32(-1)
                        for i in 0..<g.kernelHeight {
                            let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight
                            guard ih >= 0 && ih < g.height else { continue }
                            for j in 0..<g.kernelWidth {
                                let iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
                                guard iw >= 0 && iw < g.width else { continue }
                                let v = plane[ih * g.width + iw]
                                if v > best || bestIndex < 0 || v.isNaN { best = v; bestIndex = Int32(ih * g.width + iw) }
                                if v.isNaN { break }
                            }
                        }
                        let o = p * g.outputPlane + oh * g.outputWidth + ow
                        y[o] = best
                        argmax[o] = bestIndex
                    }
                }
            }
        }
    }

    /// The output columns whose windows lie inside the image's width (all taps).
    static func columnsInside(_ g: WindowGeometry) -> Range<Int> {
        var low = 0
        while low < g.outputWidth && low * g.strideWidth - g.padLeft < 0 { low += 1 }
        var high = low
        while high < g.outputWidth && high * g.strideWidth - g.padLeft + (g.kernelWidth - 1) * g.dilationWidth < g.width { high += 1 }
        return low..<high
    }

    /// Eight adjacent windows of output row `oh` from column `ow` (all their taps inside the width),
    /// one lane each, with the per-window rule of the general path: the first tap inside the image,
    /// then a larger value or a NaN replaces the best, and a NaN ends its row of taps. Eight
    /// independent compare-and-select chains instead of one.
    @inline(__always)
    static func maxEight(_ plane: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ argmax: UnsafeMutablePointer<Int32>,
                         _ g: WindowGeometry, oh: Int, ow: Int) {
        var best = SIMD8<Float>(repeating: -.infinity), bestIndex = SIMD8<Int32>(repeating: -1)
        var first = true
        let left = ow * g.strideWidth - g.padLeft
        for i in 0..<g.kernelHeight {
            let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight
            guard ih >= 0 && ih < g.height else { continue }
            var rowNaN = SIMDMask<SIMD8<Int32>>(repeating: false)
            for j in 0..<g.kernelWidth {
                let start = ih * g.width + left + j * g.dilationWidth
                var v = SIMD8<Float>(), at = SIMD8<Int32>()
                for k in 0..<8 {
                    let offset = start + k * g.strideWidth
                    v[k] = plane[offset]
                    at[k] = Int32(truncatingIfNeeded: offset)
                }
                let isNaN = v .!= v
                var take = (v .> best) .| isNaN
                take = first ? SIMDMask(repeating: true) : take .& .!rowNaN
                best.replace(with: v, where: take)
                bestIndex.replace(with: at, where: take)
                rowNaN = rowNaN .| isNaN
                first = false
            }
        }
        for k in 0..<8 { y[k] = best[k]; argmax[k] = bestIndex[k] }
    }

    static func maxBackward(_ dy: UnsafePointer<Float>, _ argmax: UnsafePointer<Int32>, _ dx: UnsafeMutablePointer<Float>,
                            planes: Int, _ g: WindowGeometry) {
        nonisolated(unsafe) let dy = dy, dx = dx, argmax = argmax
        Threads.parallelFor(planes, grain: Swift.max(1, Elementwise.grain / Swift.max(g.outputPlane, 1))) { range in
            for p in range {
                let plane = dx + p * g.inputPlane
                for o in 0..<g.outputPlane where argmax[p * g.outputPlane + o] >= 0 {
                    plane[Int(argmax[p * g.outputPlane + o])] += dy[p * g.outputPlane + o]
                }
            }
        }
    }

    /// Calls `body` with the flat plane index of every in-image element of output (oh, ow)'s window (no dilation).
    @inline(__always)
    static func forEachInput(oh: Int, ow: Int, _ g: WindowGeometry, _ body: (Int) -> Void) {
        for i in 0..<g.kernelHeight {
            let ih = oh * g.strideHeight - g.padTop + i
            guard ih >= 0 && ih < g.height else { continue }
            for j in 0..<g.kernelWidth {
                let iw = ow * g.strideWidth - g.padLeft + j
                guard iw >= 0 && iw < g.width else { continue }
                body(ih * g.width + iw)
            }
        }
    }

    /// The number of elements each output averages over.
    @inline(__always)
    static func divisor(oh: Int, ow: Int, _ g: WindowGeometry, padBottom: Int, padRight: Int, countPadding: Bool) -> Float {
        let h0 = oh * g.strideHeight - g.padTop, w0 = ow * g.strideWidth - g.padLeft
        let h1 = Swift.min(h0 + g.kernelHeight, g.height + padBottom), w1 = Swift.min(w0 + g.kernelWidth, g.width + padRight)
        if countPadding { return Float((h1 - h0) * (w1 - w0)) }
        let rows = Swift.min(h1, g.height) - Swift.max(h0, 0), columns = Swift.min(w1, g.width) - Swift.max(w0, 0)
        return Float(Swift.max(rows * columns, 1))
    }

    static func averageForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, planes: Int, _ g: WindowGeometry,
                               padBottom: Int, padRight: Int, countPadding: Bool) {
        nonisolated(unsafe) let x = x, y = y
        Threads.parallelFor(planes, grain: Swift.max(1, Elementwise.grain / Swift.max(g.outputPlane * g.kernelHeight * g.kernelWidth, 1))) { range in
            for p in range {
                let plane = x + p * g.inputPlane
                for oh in 0..<g.outputHeight {
                    for ow in 0..<g.outputWidth {
                        var total: Float = 0
                        forEachInput(oh: oh, ow: ow, g) { total += plane[$0] }
                        y[p * g.outputPlane + oh * g.outputWidth + ow] =
                            total / divisor(oh: oh, ow: ow, g, padBottom: padBottom, padRight: padRight, countPadding: countPadding)
                    }
                }
            }
        }
    }

    static func averageBackward(_ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, planes: Int, _ g: WindowGeometry,
                                padBottom: Int, padRight: Int, countPadding: Bool) {
        nonisolated(unsafe) let dy = dy, dx = dx
        Threads.parallelFor(planes, grain: Swift.max(1, Elementwise.grain / Swift.max(g.outputPlane * g.kernelHeight * g.kernelWidth, 1))) { range in
            for p in range {
                let plane = dx + p * g.inputPlane
                for oh in 0..<g.outputHeight {
                    for ow in 0..<g.outputWidth {
                        let share = dy[p * g.outputPlane + oh * g.outputWidth + ow]
                            / divisor(oh: oh, ow: ow, g, padBottom: padBottom, padRight: padRight, countPadding: countPadding)
                        forEachInput(oh: oh, ow: ow, g) { plane[$0] += share }
                    }
                }
            }
        }
    }
}
