import Foundation

extension Image {
    /// Bilinear resize with antialiasing when shrinking: the triangle filter is widened by the
    /// shrink factor, as Pillow's `Image.resize(…, BILINEAR)` does, so the results match Pillow's.
    public func resized(height newHeight: Int, width newWidth: Int) throws(DataError) -> Image {
        guard newHeight > 0, newWidth > 0, newHeight <= 1 << 15, newWidth <= 1 << 15 else {
            throw .invalidArgument(what: "resize", reason: "size \(newWidth)×\(newHeight) must be between 1 and 32768")
        }
        if newHeight == height && newWidth == width { return self }
        var result = self
        if newWidth != width { result = result.resampled(axisIsWidth: true, to: newWidth) }
        if newHeight != height { result = result.resampled(axisIsWidth: false, to: newHeight) }
        return result
    }

    /// Resizes so the shorter side is `size`, keeping the aspect ratio (the longer side rounds).
    public func resized(shorterSide size: Int) throws(DataError) -> Image {
        if height <= width {
            return try resized(height: size, width: Swift.max(1, Int((Double(width) * Double(size) / Double(height)).rounded())))
        }
        return try resized(height: Swift.max(1, Int((Double(height) * Double(size) / Double(width)).rounded())), width: size)
    }

    /// The `height × width` window starting at (`top`, `left`); parts outside the image are zero.
    public func cropped(top: Int, left: Int, height h: Int, width w: Int) -> Image {
        var out = Image(channels: channels, height: h, width: w)
        let columns = Swift.max(0, left)..<Swift.min(width, left + w)
        guard !columns.isEmpty else { return out }
        for c in 0..<channels {
            for r in 0..<h where top + r >= 0 && top + r < height {
                let from = (c * height + top + r) * width, to = (c * h + r) * w - left
                out.pixels.replaceSubrange((to + columns.lowerBound)..<(to + columns.upperBound),
                                           with: pixels[(from + columns.lowerBound)..<(from + columns.upperBound)])
            }
        }
        return out
    }

    /// The central `size × size` window, placed as torchvision places it: top = round((H − size)/2)
    /// with Python's round-half-to-even.
    public func centerCropped(_ size: Int) -> Image {
        cropped(top: Int((Double(height - size) / 2).rounded(.toNearestOrEven)),
                left: Int((Double(width - size) / 2).rounded(.toNearestOrEven)), height: size, width: size)
    }

    /// The ImageNet evaluation recipe: shorter side to `resize`, then the central `crop` square (256 → 224).
    public func resizedAndCenterCropped(resize: Int, crop: Int) throws(DataError) -> Image {
        try resized(shorterSide: resize).centerCropped(crop)
    }

    /// Mirrored top to bottom.
    public func flippedVertically() -> Image {
        var out = self
        for c in 0..<channels {
            for r in 0..<height {
                for col in 0..<width { out[c, r, col] = self[c, height - 1 - r, col] }
            }
        }
        return out
    }

    /// Mirrored left to right.
    public func flippedHorizontally() -> Image {
        var out = self
        for c in 0..<channels {
            for r in 0..<height {
                for col in 0..<width { out[c, r, col] = self[c, r, width - 1 - col] }
            }
        }
        return out
    }

    /// The filter taps of one resampling pass: output i reads `count[i]` inputs from `start[i]`
    /// with weights `weights[i·stride ..< i·stride + count[i]]` (Pillow's triangle filter, support
    /// widened by the shrink factor, C-style truncation of the bounds, weights normalized).
    struct Taps {
        var start: [Int], count: [Int], weights: [Float]
        let stride: Int

        init(inSize: Int, outSize: Int) {
            let scale = Double(inSize) / Double(outSize)
            let filterScale = Swift.max(scale, 1)
            let support = 1.0 * filterScale
            stride = Int(support.rounded(.up)) * 2 + 1
            start = [Int](repeating: 0, count: outSize)
            count = [Int](repeating: 0, count: outSize)
            weights = [Float](repeating: 0, count: outSize * stride)
            for x in 0..<outSize {
                let center = (Double(x) + 0.5) * scale
                let low = Swift.max(Int(center - support + 0.5), 0)
                let high = Swift.min(Int(center + support + 0.5), inSize)
                var k = (low..<high).map { i -> Double in
                    let t = Swift.abs((Double(i) - center + 0.5) / filterScale)
                    return t < 1 ? 1 - t : 0
                }
                let total = k.reduce(0, +)
                if total != 0 { k = k.map { $0 / total } }
                start[x] = low
                count[x] = Swift.min(k.count, stride)
                for (i, w) in k.prefix(stride).enumerated() { weights[x * stride + i] = Float(w) }
            }
        }
    }

    /// One separable pass along the width (each output a dot product along its row) or the height
    /// (each output row a weighted sum of input rows, vectorized across the row).
    private func resampled(axisIsWidth: Bool, to outSize: Int) -> Image {
        let taps = Taps(inSize: axisIsWidth ? width : height, outSize: outSize)
        let (outH, outW) = axisIsWidth ? (height, outSize) : (outSize, width)
        var out = Image(channels: channels, height: outH, width: outW)
        let (inH, inW) = (height, width)
        pixels.withUnsafeBufferPointer { sourceBuffer in
            out.pixels.withUnsafeMutableBufferPointer { targetBuffer in
                taps.weights.withUnsafeBufferPointer { weightBuffer in
                    guard let source = sourceBuffer.baseAddress, let target = targetBuffer.baseAddress,
                          let weights = weightBuffer.baseAddress else { return }
                    for c in 0..<channels {
                        if axisIsWidth {
                            for r in 0..<outH {
                                let row = source + (c * inH + r) * inW, outRow = target + (c * outH + r) * outW
                                for x in 0..<outW {
                                    let first = row + taps.start[x], k = weights + x * taps.stride
                                    var sum: Float = 0
                                    for i in 0..<taps.count[x] { sum += first[i] * k[i] }
                                    outRow[x] = sum
                                }
                            }
                        } else {
                            for y in 0..<outH {
                                let outRow = target + (c * outH + y) * outW, k = weights + y * taps.stride
                                outRow.initialize(repeating: 0, count: outW)
                                for i in 0..<taps.count[y] {
                                    let row = source + (c * inH + taps.start[y] + i) * inW, w = k[i]
                                    for x in 0..<outW { outRow[x] += row[x] * w }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Rotates by `degrees` (counter-clockwise) about the centre and shifts by (`dx`, `dy`) pixels,
    /// sampling bilinearly; uncovered pixels are zero.
    public func affineTransformed(degrees: Double, dx: Double, dy: Double) -> Image {
        let angle = degrees * Double.pi / 180
        let (cosA, sinA) = (cos(angle), sin(angle))
        let (cx, cy) = (Double(width - 1) / 2, Double(height - 1) / 2)
        var out = Image(channels: channels, height: height, width: width)
        for r in 0..<height {
            for col in 0..<width {
                // Inverse map: undo the shift, then rotate back.
                let x = Double(col) - dx - cx, y = Double(r) - dy - cy
                let sx = cosA * x - sinA * y + cx, sy = sinA * x + cosA * y + cy
                let x0 = Int(floor(sx)), y0 = Int(floor(sy))
                let fx = Float(sx - Double(x0)), fy = Float(sy - Double(y0))
                for c in 0..<channels {
                    func at(_ yy: Int, _ xx: Int) -> Float {
                        yy >= 0 && yy < height && xx >= 0 && xx < width ? self[c, yy, xx] : 0
                    }
                    let top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx
                    let bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx
                    out[c, r, col] = top * (1 - fy) + bottom * fy
                }
            }
        }
        return out
    }
}
