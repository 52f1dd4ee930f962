/// Geometry of a 2-D convolution or pooling window over one [C, H, W] plane stack.
struct WindowGeometry: Sendable, Equatable {
    var channels: Int
    var height: Int, width: Int
    var kernelHeight: Int, kernelWidth: Int
    var strideHeight: Int, strideWidth: Int
    var padTop: Int, padLeft: Int
    var dilationHeight: Int, dilationWidth: Int
    var outputHeight: Int, outputWidth: Int

    var patchSize: Int { channels * kernelHeight * kernelWidth }
    var outputPlane: Int { outputHeight * outputWidth }
    var inputPlane: Int { height * width }

    /// True when im2col would copy the input unchanged (1×1, stride 1, no padding).
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
            && padTop == 0 && padLeft == 0 && outputHeight == height && outputWidth == width
    }

    /// The output columns `ow` whose input column `ow·stride − padLeft + offset` lies inside the image.
    @inline(__always)
    func validColumns(offset: Int) -> Range<Int> {
        // smallest ow with ow·s − pl + off ≥ 0, and smallest ow with ow·s − pl + off ≥ width
        // NOTE: with more padding on the left than the window can use (a tiny input, asymmetric padding), the first
        // valid column lies past the output: clamp it, or callers zero-filling up to it would write past the row.
        let low = Swift.min(outputWidth, Swift.max(0, ceilDiv(padLeft - offset, strideWidth)))
        let high = Swift.min(outputWidth, Swift.max(0, ceilDiv(width + padLeft - offset, strideWidth)))
        return low..<Swift.max(low, high)
    }

    @inline(__always) private func ceilDiv(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? (a + b - 1) / b : -((-a) / b)
    }
}

/// Unfolds image patches into columns ([C·KH·KW, OH·OW]) and folds them back, for conv as GEMM.
/// `rowStride` (default OH·OW) places one image's columns inside a wider matrix that holds several
/// images side by side, [C·KH·KW, images·OH·OW], so that one GEMM covers them all.
enum Im2col {
    /// col[(c, i, j), (oh, ow)] = x[c, oh·sh − pt + i·dh, ow·sw − pl + j·dw], zero outside the image.
    static func unfold(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, _ g: WindowGeometry, rowStride: Int? = nil) {
        nonisolated(unsafe) let x = x, col = col
        let rowStride = rowStride ?? g.outputPlane
        let rows = g.patchSize
        // Stride 1, no dilation, rows as wide as the image's ("same" padding): a row of columns is the
        // plane itself shifted, so it is one copy, then zeros where the window leaves the image.
        let shifted = g.strideHeight == 1 && g.strideWidth == 1 && g.dilationHeight == 1 && g.dilationWidth == 1 && g.outputWidth == g.width
        if let table = SmallPlanes(g) {
            table.unfold(x, col, g, rowStride: rowStride)
            return
        }
        Threads.parallelFor(rows, grain: Swift.max(1, Elementwise.grain / Swift.max(g.outputPlane, 1))) { range in
            for row in range {
                let c = row / (g.kernelHeight * g.kernelWidth)
                let i = (row / g.kernelWidth) % g.kernelHeight
                let j = row % g.kernelWidth
                let plane = x + c * g.inputPlane
                let out = col + row * rowStride
                let columnOffset = j * g.dilationWidth
                let valid = g.validColumns(offset: columnOffset)
                if shifted {
                    unfoldShifted(plane, out, g, i: i, shift: columnOffset - g.padLeft, valid: valid)
                    continue
                }
                // Narrow rows (a CNN's late stages: 7, 4, 2 columns) copy value by value: a library call per
                // handful of floats costs more than the copy.
                let narrow = g.outputWidth < 16
                for oh in 0..<g.outputHeight {
                    let line = out + oh * g.outputWidth
                    let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight
                    guard ih >= 0 && ih < g.height else {
                        if narrow { for ow in 0..<g.outputWidth { line[ow] = 0 } } else { line.initialize(repeating: 0, count: g.outputWidth) }
                        continue
                    }
                    let source = plane + ih * g.width - g.padLeft + columnOffset
                    if narrow {
                        for ow in 0..<valid.lowerBound { line[ow] = 0 }
                        for ow in valid { line[ow] = source[ow * g.strideWidth] }
                        for ow in valid.upperBound..<g.outputWidth { line[ow] = 0 }
                        continue
                    }
                    if valid.lowerBound > 0 { line.initialize(repeating: 0, count: valid.lowerBound) }
                    if valid.upperBound < g.outputWidth {
                        (line + valid.upperBound).initialize(repeating: 0, count: g.outputWidth - valid.upperBound)
                    }
                    if g.strideWidth == 1 {
                        (line + valid.lowerBound).update(from: source + valid.lowerBound, count: valid.count)
                    } else {
                        for ow in valid { line[ow] = source[ow * g.strideWidth] }
                    }
                }
            }
        }
    }

    /// One row of columns, (c, i, j), when it is the plane shifted (stride 1, no dilation, output
    /// rows as wide as the input's): out[oh·W + ow] = plane[(oh − padTop + i)·W + ow + shift] for the
    /// rows inside the image and `valid` columns, zero elsewhere. One copy of every row at once
    /// (the values that wrap across a row edge are then zeroed), instead of one per output row.
    @inline(__always)
    private static func unfoldShifted(_ plane: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ g: WindowGeometry,
                                      i: Int, shift: Int, valid: Range<Int>) {
        let (width, height) = (g.width, g.outputHeight)
        let first = Swift.min(height, Swift.max(0, g.padTop - i))
        let end = Swift.max(first, Swift.min(height, g.height + g.padTop - i))
        if first > 0 { out.initialize(repeating: 0, count: first * width) }
        if end < height { (out + end * width).initialize(repeating: 0, count: (height - end) * width) }
        guard end > first else { return }
        let target = out + first * width, count = (end - first) * width
        let start = (first - g.padTop + i) * width + shift
        // Only the plane's own values are read: before its first and past its last, zeros.
        let low = Swift.min(count, Swift.max(0, -start)), high = Swift.max(low, Swift.min(count, g.inputPlane - start))
        if low > 0 { target.initialize(repeating: 0, count: low) }
        if high > low { (target + low).update(from: plane + start + low, count: high - low) }
        if high < count { (target + high).initialize(repeating: 0, count: count - high) }
        if valid.lowerBound > 0 || valid.upperBound < width {
            for oh in first..<end {
                let line = out + oh * width
                for ow in 0..<valid.lowerBound { line[ow] = 0 }
                for ow in valid.upperBound..<width { line[ow] = 0 }
            }
        }
    }

    /// dx[c, ih, iw] += Σ col[(c, i, j), (oh, ow)] over the windows that read (ih, iw); the exact adjoint
    /// of `unfold`. Parallel over channels, so every element is summed in one fixed order.
    static func fold(_ col: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ g: WindowGeometry, rowStride: Int? = nil) {
        nonisolated(unsafe) let col = col, dx = dx
        let rowStride = rowStride ?? g.outputPlane
        if let table = SmallPlanes(g) {
            table.fold(col, dx, g, rowStride: rowStride)
            return
        }
        let perChannel = g.kernelHeight * g.kernelWidth
        Threads.parallelFor(g.channels, grain: Swift.max(1, Elementwise.grain / Swift.max(perChannel * g.outputPlane, 1))) { range in
            for c in range {
                let plane = dx + c * g.inputPlane
                for i in 0..<g.kernelHeight {
                    for j in 0..<g.kernelWidth {
                        let row = col + ((c * g.kernelHeight + i) * g.kernelWidth + j) * rowStride
                        let columnOffset = j * g.dilationWidth
                        let valid = g.validColumns(offset: columnOffset)
                        for oh in 0..<g.outputHeight {
                            let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight
                            guard ih >= 0 && ih < g.height else { continue }
                            let target = plane + ih * g.width - g.padLeft + columnOffset
                            let line = row + oh * g.outputWidth
                            if g.strideWidth == 1 {
                                for ow in valid { target[ow] += line[ow] }
                            } else {
                                for ow in valid { target[ow * g.strideWidth] += line[ow] }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Small planes (a CNN's late stages: output rows of 2 to 15 values) unfold and fold through a
/// table of where each (tap, output position) reads, made once per call: per channel, one copy of
/// the plane into a buffer with a zero after it, then every row of columns is a gather from that
/// buffer (`unfold`), or a scatter-add into it (`fold`). A loop per output row of a handful of values
/// cost more than the copy itself. The same values as the general path: unfold copies, and fold adds
/// each tap's values in tap order onto the same starting values — within one tap, no two outputs
/// read the same input — so every sum has the same terms in the same order.
struct SmallPlanes {
    /// offsets[tap · plane + p]: the input offset output position p reads through tap (i, j), or
    /// `inputPlane` (the zero after the plane) when it reads padding.
    private let offsets: [Int32]
    private let taps: Int

    /// Nil unless output rows are narrow and the table and the plane stay small.
    init?(_ g: WindowGeometry) {
        let taps = g.kernelHeight * g.kernelWidth
        guard g.outputWidth < 16, taps * g.outputPlane > 0, taps * g.outputPlane <= 1 << 16, g.inputPlane < 1 << 14 else { return nil }
        var offsets = [Int32](repeating: Int32(g.inputPlane), count: taps * g.outputPlane)
        for i in 0..<g.kernelHeight {
            for j in 0..<g.kernelWidth {
                let base = (i * g.kernelWidth + j) * g.outputPlane
                for oh in 0..<g.outputHeight {
                    let ih = oh * g.strideHeight - g.padTop + i * g.dilationHeight
                    guard ih >= 0 && ih < g.height else { continue }
                    for ow in 0..<g.outputWidth {
                        let iw = ow * g.strideWidth - g.padLeft + j * g.dilationWidth
                        if iw >= 0 && iw < g.width { offsets[base + oh * g.outputWidth + ow] = Int32(ih * g.width + iw) }
                    }
                }
            }
        }
        (self.offsets, self.taps) = (offsets, taps)
    }

    /// Calls `body(channel, buffer, table)` for every channel, in parallel: a buffer of the plane's
    /// size and one more value per thread, and the table of offsets.
    private func forEachChannel(_ g: WindowGeometry, _ body: (Int, UnsafeMutablePointer<Float>, UnsafePointer<Int32>) -> Void) {
        let inputPlane = g.inputPlane
        offsets.withUnsafeBufferPointer { table in
            // Never empty (see `init`): the guard only spares a force-unwrap.
            guard let first = table.baseAddress else { return }
            nonisolated(unsafe) let table = first
            // About `Elementwise.grain` values of columns a chunk.
            Threads.parallelFor(g.channels, grain: Swift.max(1, Elementwise.grain / Swift.max(taps * g.outputPlane, 1))) { channels in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: inputPlane + 1) { buffer in
                    guard let scratch = buffer.baseAddress else { return }
                    for c in channels { body(c, scratch, table) }
                }
            }
        }
    }

    func unfold(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, _ g: WindowGeometry, rowStride: Int) {
        nonisolated(unsafe) let (x, col) = (x, col)
        let (taps, plane, inputPlane) = (taps, g.outputPlane, g.inputPlane)
        forEachChannel(g) { c, padded, table in
            padded.update(from: x + c * inputPlane, count: inputPlane)
            padded[inputPlane] = 0
            for t in 0..<taps {
                let out = col + (c * taps + t) * rowStride, reads = table + t * plane
                for p in 0..<plane { out[p] = padded[Int(reads[p])] }
            }
        }
    }

    func fold(_ col: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ g: WindowGeometry, rowStride: Int) {
        nonisolated(unsafe) let (col, dx) = (col, dx)
        let (taps, plane, inputPlane) = (taps, g.outputPlane, g.inputPlane)
        forEachChannel(g) { c, sums, table in
            let target = dx + c * inputPlane
            sums.update(from: target, count: inputPlane)
            sums[inputPlane] = 0  // takes what padding would have received; never read back
            for t in 0..<taps {
                let row = col + (c * taps + t) * rowStride, writes = table + t * plane
                for p in 0..<plane { sums[Int(writes[p])] += row[p] }
            }
            target.update(from: sums, count: inputPlane)
        }
    }
}
