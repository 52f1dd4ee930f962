import Foundation
import GraftData

/// Pictures made of images: a captioned grid (PNG), and small versions for the terminal in
/// Unicode half-blocks with 24-bit colour.
enum Pictures {
    struct Tile {
        let image: Image
        /// Up to three short lines under the image.
        let caption: [String]
        var captionColour = Canvas.Colour.black
    }

    /// The tiles in rows of `columns`, each image scaled to about `side` pixels (whole multiples up,
    /// bilinear down), captions below, a title on top.
    static func grid(_ tiles: [Tile], columns: Int, side: Int = 112, title: String) throws -> Canvas {
        let columns = max(1, min(columns, tiles.count))
        let rows = (tiles.count + columns - 1) / columns
        let shown = try tiles.map { try fit($0.image, side: side) }
        let captionLines = tiles.map(\.caption.count).max() ?? 0
        let captionWidth = tiles.flatMap(\.caption).map { Canvas.textWidth($0) }.max() ?? 0
        let cellW = max(side, captionWidth) + 12, cellH = side + captionLines * 10 + 14
        var canvas = Canvas(width: max(columns * cellW + 12, Canvas.textWidth(title, scale: 2) + 24), height: rows * cellH + 40)
        canvas.text(title, x: 12, y: 10, scale: 2)
        for (i, tile) in tiles.enumerated() {
            let (x, y) = (12 + (i % columns) * cellW, 36 + (i / columns) * cellH)
            let image = shown[i]
            let left = x + (cellW - 12 - image.width) / 2
            canvas.draw(planes: image.pixels, channels: image.channels, h: image.height, w: image.width, x: left, y: y + (side - image.height) / 2)
            for (line, text) in tile.caption.enumerated() {
                canvas.text(text, x: x + (cellW - 12) / 2, y: y + side + 4 + line * 10, tile.captionColour, anchor: .middle)
            }
        }
        return canvas
    }

    /// The image at about `side` pixels: small ones scaled up by a whole factor (crisp pixels),
    /// big ones scaled down; grey or RGB.
    static func fit(_ image: Image, side: Int) throws -> Image {
        let image = image.channels == 1 || image.channels == 3 ? image : try image.converted(toChannels: 3)
        let longest = max(image.height, image.width)
        if longest <= side {
            let factor = max(1, side / max(longest, 1))
            guard factor > 1 else { return image }
            var pixels = [Float](repeating: 0, count: image.channels * image.height * factor * image.width * factor)
            let (h, w) = (image.height * factor, image.width * factor)
            for c in 0..<image.channels {
                for y in 0..<h { for x in 0..<w { pixels[(c * h + y) * w + x] = image.pixels[(c * image.height + y / factor) * image.width + x / factor] } }
            }
            return Image(channels: image.channels, height: h, width: w, pixels: pixels)
        }
        let scale = Double(side) / Double(longest)
        return try image.resized(height: max(1, Int(Double(image.height) * scale)), width: max(1, Int(Double(image.width) * scale)))
    }

    /// An image in `width` terminal columns: each character cell two pixels tall ("▀" in the top
    /// pixel's colour over the bottom one's).
    static func halfBlocks(_ image: Image, width: Int = 24) throws -> [String] {
        let w = max(1, min(width, image.width * 4)), h = max(2, Int((Double(image.height) * Double(w) / Double(image.width)).rounded()) / 2 * 2)
        let small = try (image.channels == 1 || image.channels == 3 ? image : image.converted(toChannels: 3)).resized(height: h, width: w)
        func rgb(_ y: Int, _ x: Int) -> (Int, Int, Int) {
            let value = { (c: Int) in Int((max(0, min(1, small.pixels[(c * h + y) * w + x])) * 255).rounded()) }
            return small.channels == 1 ? (value(0), value(0), value(0)) : (value(0), value(1), value(2))
        }
        return stride(from: 0, to: h, by: 2).map { y in
            (0..<w).map { x in
                let (top, bottom) = (rgb(y, x), rgb(y + 1, x))
                return "\u{1B}[38;2;\(top.0);\(top.1);\(top.2)m\u{1B}[48;2;\(bottom.0);\(bottom.1);\(bottom.2)m▀"
            }.joined() + "\u{1B}[0m"
        }
    }

    /// Thumbnails side by side with a caption under each, for the terminal.
    /// Each column is as wide as its longest caption (up to `captionWidth`; longer ones keep their
    /// start and end), the image centred in it.
    static func terminalStrip(_ tiles: [Tile], width: Int = 16, captionWidth: Int = 24) throws -> String {
        let blocks = try tiles.map { try halfBlocks($0.image, width: width) }
        let columns = tiles.map { max(width, min(captionWidth, $0.caption.map(\.count).max() ?? 0)) }
        let rows = blocks.map(\.count).max() ?? 0
        var lines: [String] = []
        for row in 0..<rows {
            lines.append(zip(blocks, columns).map { block, column in
                let pad = (column - width) / 2
                return String(repeating: " ", count: pad) + (row < block.count ? block[row] : String(repeating: " ", count: width)) + String(repeating: " ", count: column - width - pad)
            }.joined(separator: "  "))
        }
        for line in 0..<(tiles.map(\.caption.count).max() ?? 0) {
            lines.append(zip(tiles, columns).map { tile, column in
                let text = line < tile.caption.count ? Terminal.fitted(tile.caption[line], width: column) : ""
                return text.padding(toLength: column, withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    enum ColourMap { case viridis, heat }

    /// A colour for `value` in [0, 1]: viridis (dark blue → green → yellow) for feature maps, or a
    /// heat ramp (blue → cyan → green → yellow → red) for class activation maps.
    static func colour(_ value: Float, map: ColourMap = .viridis) -> (Float, Float, Float) {
        let stops: [(Float, Float, Float)] = map == .viridis
            ? [(0.267, 0.005, 0.329), (0.231, 0.322, 0.545), (0.129, 0.569, 0.549), (0.369, 0.788, 0.384), (0.993, 0.906, 0.144)]
            : [(0, 0, 0.5), (0, 0.5, 1), (0.2, 0.9, 0.3), (1, 0.9, 0), (0.85, 0, 0)]
        let v = value.isFinite ? max(0, min(1, value)) : 0
        let position = v * Float(stops.count - 1)
        let i = min(Int(position), stops.count - 2), t = position - Float(i)
        let (a, b) = (stops[i], stops[i + 1])
        return (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, a.2 + (b.2 - a.2) * t)
    }

    /// Values in [0, 1] (`height × width`) as an RGB image through a colour map.
    static func coloured(_ values: [Float], height: Int, width: Int, map: ColourMap = .viridis) -> Image {
        let n = height * width
        var pixels = [Float](repeating: 0, count: 3 * n)
        for i in 0..<min(n, values.count) {
            let (r, g, b) = colour(values[i], map: map)
            (pixels[i], pixels[n + i], pixels[2 * n + i]) = (r, g, b)
        }
        return Image(channels: 3, height: height, width: width, pixels: pixels)
    }

    /// A heat map (values in [0, 1] at its own resolution) scaled up bilinearly to the image's size
    /// and blended over it: 45 % heat, 55 % image.
    static func blend(heat values: [Float], height: Int, width: Int, over image: Image) throws -> Image {
        let base = image.channels == 3 ? image : try image.converted(toChannels: 3)
        let heat = try Image(channels: 1, height: height, width: width, pixels: values).resized(height: base.height, width: base.width)
        let n = base.height * base.width
        var pixels = base.pixels
        for i in 0..<n {
            let (r, g, b) = colour(heat.pixels[i], map: .heat)
            pixels[i] = 0.55 * pixels[i] + 0.45 * r
            pixels[n + i] = 0.55 * pixels[n + i] + 0.45 * g
            pixels[2 * n + i] = 0.55 * pixels[2 * n + i] + 0.45 * b
        }
        return Image(channels: 3, height: base.height, width: base.width, pixels: pixels)
    }

    /// A confusion matrix as a heat map: rows the true class, columns the predicted one, each cell
    /// shaded by its share of its row (white 0 → dark blue 1) with its count written in it.
    static func confusion(_ matrix: [[Int]], names: [String], title: String) -> Canvas {
        let n = min(matrix.count, names.count, 60)
        let label = min(14, names.prefix(n).map(\.count).max() ?? 1)
        let shown = names.prefix(n).map { Terminal.fitted($0, width: label) }
        let countWidth = max(3, String(matrix.prefix(n).flatMap { $0.prefix(n) }.max() ?? 0).count)
        let countCell = max(28, Canvas.textWidth(String(repeating: "0", count: countWidth)) + 8)
        // Columns as wide as their names when the picture stays under 1600 pixels; else numbered,
        // the rows saying which number is which class.
        let named = max(countCell, Canvas.textWidth(String(repeating: "m", count: label)) + 8)
        let numbered = 24 + Canvas.textWidth(String(repeating: "m", count: label + 3)) + 8 + n * named > 1600
        let cell = numbered ? max(countCell, Canvas.textWidth(String(n)) + 8) : named
        let rowNames = numbered ? shown.enumerated().map { "\($1) \($0 + 1)" } : shown
        let columnNames = numbered ? (1...max(1, n)).map(String.init) : shown
        let left = 24 + Canvas.textWidth(String(repeating: "m", count: rowNames.map(\.count).max() ?? 1)) + 8, top = 64
        var canvas = Canvas(width: max(left + n * cell + 24, Canvas.textWidth(title, scale: 2) + 24), height: top + n * cell + 40)
        canvas.text(title, x: 12, y: 10, scale: 2)
        canvas.text("predicted class", x: left + n * cell / 2, y: 36, anchor: .middle)
        canvas.text("true", x: 12, y: top - 12)
        for column in 0..<n {
            canvas.text(columnNames[column], x: left + column * cell + cell / 2, y: top - 12, anchor: .middle)
        }
        for row in 0..<n {
            let total = max(1, matrix[row].prefix(n).reduce(0, +))
            canvas.text(rowNames[row], x: left - 6, y: top + row * cell + cell / 2 - 3, anchor: .end)
            for column in 0..<n {
                let share = Float(matrix[row][column]) / Float(total)
                let shade = Canvas.Colour(r: UInt8(255 - share * 225), g: UInt8(255 - share * 175), b: UInt8(255 - share * 75))
                canvas.fill(x: left + column * cell, y: top + row * cell, width: cell - 1, height: cell - 1, shade)
                canvas.text(String(matrix[row][column]), x: left + column * cell + cell / 2, y: top + row * cell + cell / 2 - 3,
                            share > 0.5 ? .white : .black, anchor: .middle)
            }
        }
        canvas.text("rows: true class; shade: share of the row", x: left, y: top + n * cell + 10, .grey)
        return canvas
    }
}
