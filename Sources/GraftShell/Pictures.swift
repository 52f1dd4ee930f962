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
    static func terminalStrip(_ tiles: [Tile], width: Int = 16) throws -> String {
        let blocks = try tiles.map { try halfBlocks($0.image, width: width) }
        let rows = blocks.map(\.count).max() ?? 0
        var lines: [String] = []
        for row in 0..<rows {
            lines.append(blocks.map { row < $0.count ? $0[row] : String(repeating: " ", count: width) }.joined(separator: "  "))
        }
        for line in 0..<(tiles.map(\.caption.count).max() ?? 0) {
            lines.append(tiles.map { tile in
                let text = line < tile.caption.count ? String(tile.caption[line].prefix(width)) : ""
                return text.padding(toLength: width, withPad: " ", startingAt: 0)
            }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}
