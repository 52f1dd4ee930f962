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
        for c in 0..<channels {
            for r in 0..<h where top + r >= 0 && top + r < height {
                for col in 0..<w where left + col >= 0 && left + col < width {
                    out[c, r, col] = self[c, top + r, left + col]
                }
            }
        }
        return out
    }

    /// The central `size × size` window (torchvision's rounding: top = round((H − size)/2)).
    public func centerCropped(_ size: Int) -> Image {
        cropped(top: Int((Double(height - size) / 2).rounded()), left: Int((Double(width - size) / 2).rounded()),
                height: size, width: size)
    }

    /// The ImageNet evaluation recipe: shorter side to `resize`, then the central `crop` square (256 → 224).
    public func resizedAndCenterCropped(resize: Int, crop: Int) throws(DataError) -> Image {
        try resized(shorterSide: resize).centerCropped(crop)
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

    /// One separable pass of Pillow's resampling along one axis (triangle filter, support scaled when shrinking).
    private func resampled(axisIsWidth: Bool, to outSize: Int) -> Image {
        let inSize = axisIsWidth ? width : height
        let scale = Double(inSize) / Double(outSize)
        let filterScale = Swift.max(scale, 1)
        let support = 1.0 * filterScale
        var starts = [Int](repeating: 0, count: outSize)
        var weights = [[Double]](repeating: [], count: outSize)
        for x in 0..<outSize {
            let center = (Double(x) + 0.5) * scale
            // C's (int) truncates toward zero: Pillow's bounds depend on it.
            let low = Swift.max(Int(center - support + 0.5), 0)
            let high = Swift.min(Int(center + support + 0.5), inSize)
            var k = (low..<high).map { i -> Double in
                let t = Swift.abs((Double(i) - center + 0.5) / filterScale)
                return t < 1 ? 1 - t : 0
            }
            let total = k.reduce(0, +)
            if total != 0 { k = k.map { $0 / total } }
            starts[x] = low
            weights[x] = k
        }
        let (outH, outW) = axisIsWidth ? (height, outSize) : (outSize, width)
        var out = Image(channels: channels, height: outH, width: outW)
        pixels.withUnsafeBufferPointer { source in
            out.pixels.withUnsafeMutableBufferPointer { target in
                for c in 0..<channels {
                    for r in 0..<outH {
                        for col in 0..<outW {
                            let x = axisIsWidth ? col : r
                            var sum = 0.0
                            for (i, w) in weights[x].enumerated() {
                                let s = starts[x] + i
                                sum += w * Double(axisIsWidth ? source[(c * height + r) * width + s] : source[(c * height + s) * width + col])
                            }
                            target[(c * outH + r) * outW + col] = Float(sum)
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
