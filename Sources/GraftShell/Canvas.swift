import Foundation
import GraftFormats

/// An RGB raster for the pictures graft writes as PNG (charts, image grids, filters, CAM): lines,
/// rectangles, text in a built-in 5×7 font, images scaled in.
struct Canvas {
    struct Colour: Equatable {
        var r: UInt8, g: UInt8, b: UInt8
        static let white = Colour(r: 255, g: 255, b: 255), black = Colour(r: 0, g: 0, b: 0)
        static let grey = Colour(r: 153, g: 153, b: 153), light = Colour(r: 235, g: 235, b: 235)
        /// `#d62728`; anything else is black.
        init(hex: String) {
            let digits = hex.hasPrefix("#") ? String(hex.dropFirst()) : hex
            let value = digits.count == 6 ? UInt32(digits, radix: 16) ?? 0 : 0
            (r, g, b) = (UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF))
        }
        init(r: UInt8, g: UInt8, b: UInt8) { (self.r, self.g, self.b) = (r, g, b) }
    }

    let width: Int, height: Int
    private(set) var pixels: [UInt8]
    /// Every text drawn and the box its glyphs take (for the check that no two overlap).
    private(set) var labels: [(text: String, x: Int, y: Int, width: Int, height: Int)] = []

    /// Pairs of texts whose glyph boxes overlap.
    var overlappingLabels: [(String, String)] {
        var pairs: [(String, String)] = []
        for (i, a) in labels.enumerated() {
            for b in labels[(i + 1)...] where a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height {
                pairs.append((a.text, b.text))
            }
        }
        return pairs
    }

    /// Texts that do not lie wholly inside the picture.
    var clippedLabels: [String] {
        labels.filter { $0.x < 0 || $0.y < 0 || $0.x + $0.width > width || $0.y + $0.height > height }.map(\.text)
    }

    init(width: Int, height: Int, background: Colour = .white) {
        self.width = max(1, width)
        self.height = max(1, height)
        pixels = [UInt8](repeating: 0, count: self.width * self.height * 3)
        for i in 0..<(self.width * self.height) { (pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]) = (background.r, background.g, background.b) }
    }

    mutating func set(_ x: Int, _ y: Int, _ c: Colour) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = 3 * (y * width + x)
        (pixels[i], pixels[i + 1], pixels[i + 2]) = (c.r, c.g, c.b)
    }

    mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ c: Colour) {
        for row in max(0, y)..<max(max(0, y), min(height, y + h)) {
            for column in max(0, x)..<max(max(0, x), min(width, x + w)) { set(column, row, c) }
        }
    }

    mutating func frame(x: Int, y: Int, width w: Int, height h: Int, _ c: Colour) {
        line(x, y, x + w, y, c); line(x, y + h, x + w, y + h, c); line(x, y, x, y + h, c); line(x + w, y, x + w, y + h, c)
    }

    /// A straight line, `thickness` pixels wide; `dash` pixels on, `dash` off when dashed.
    mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: Colour, thickness: Int = 1, dash: Int = 0) {
        let n = max(abs(x1 - x0), abs(y1 - y0), 1)
        guard n < 1 << 16 else { return }
        for i in 0...n where dash == 0 || (i / dash) % 2 == 0 {
            let x = x0 + (x1 - x0) * i / n, y = y0 + (y1 - y0) * i / n
            for dy in 0..<thickness { for dx in 0..<thickness { set(x + dx - thickness / 2, y + dy - thickness / 2, c) } }
        }
    }

    enum Anchor { case start, middle, end }

    /// Pixels `text` takes across at `scale`.
    static func textWidth(_ text: String, scale: Int = 1) -> Int { text.count * 6 * scale }

    /// Text in the 5×7 font, `y` the top of the glyphs; characters outside ASCII are shown as their
    /// nearest ASCII ("×" as "x", dashes as "-") or "?".
    mutating func text(_ text: String, x: Int, y: Int, _ c: Colour = .black, scale: Int = 1, anchor: Anchor = .start) {
        let w = Self.textWidth(text, scale: scale)
        var left = anchor == .start ? x : anchor == .middle ? x - w / 2 : x - w
        if !text.isEmpty { labels.append((text, left, y, w - scale, 7 * scale)) }
        for character in text {
            let glyph = Self.glyph(character)
            for row in 0..<7 {
                for column in 0..<5 where glyph[row] & (0x10 >> column) != 0 {
                    fill(x: left + column * scale, y: y + row * scale, width: scale, height: scale, c)
                }
            }
            left += 6 * scale
        }
    }

    static func glyph(_ character: Character) -> [UInt8] {
        let c = substitutes[character] ?? character
        guard let ascii = c.asciiValue, ascii >= 32, ascii < 127 else { return rows[Int(Character("?").asciiValue ?? 63) - 32] }
        return rows[Int(ascii) - 32]
    }

    static let substitutes: [Character: Character] = ["×": "x", "–": "-", "—": "-", "·": ".", "…": ".", "→": ">", "≤": "<", "≥": ">", "γ": "y", "β": "B"]

    /// ``glyphs`` decoded once: seven row bit masks per character.
    static let rows: [[UInt8]] = glyphs.map { hex in
        let digits = Array(hex)
        return (0..<7).map { UInt8(String(digits[2 * $0...2 * $0 + 1]), radix: 16) ?? 0 }
    }

    /// Copies an image (values in [0, 1], `channels` planes of `h × w`) in at (x, y), each pixel a
    /// `scale × scale` block.
    mutating func draw(planes: [Float], channels: Int, h: Int, w: Int, x: Int, y: Int, scale: Int = 1) {
        guard channels == 1 || channels == 3, planes.count == channels * h * w else { return }
        for row in 0..<h {
            for column in 0..<w {
                let value = { (plane: Int) in UInt8(max(0, min(1, planes[plane * h * w + row * w + column].isFinite ? planes[plane * h * w + row * w + column] : 0)) * 255 + 0.5) }
                let c = channels == 1 ? Colour(r: value(0), g: value(0), b: value(0)) : Colour(r: value(0), g: value(1), b: value(2))
                fill(x: x + column * scale, y: y + row * scale, width: scale, height: scale, c)
            }
        }
    }

    func png() throws -> Data { try PNGEncoder.encode(width: width, height: height, channels: 3, pixels: pixels) }

    /// The 5×7 font, printable ASCII from space to "~": seven rows of five bits each, as hex.
    static let glyphs: [String] = [
        "00000000000000", "04040404040004", "0a0a0a00000000", "0a0a1f0a1f0a0a", "040f140e051e04", "18190204081303",
        "0c12140815120d", "04040800000000", "02040808080402", "08040202020408", "0004150e150400", "0004041f040400",
        "000000000c0408", "0000001f000000", "00000000000c0c", "00010204081000", "0e11131519110e", "040c040404040e",
        "0e11010204081f", "1f02040201110e", "02060a121f0202", "1f101e0101110e", "0608101e11110e", "1f010204080808",
        "0e11110e11110e", "0e11110f01020c", "000c0c000c0c00", "000c0c000c0408", "02040810080402", "00001f001f0000",
        "08040201020408", "0e110102040004", "0e11010d15150e", "0e11111f111111", "1e11111e11111e", "0e11101010110e",
        "1c12111111121c", "1f10101e10101f", "1f10101e101010", "0e11101711110f", "1111111f111111", "0e04040404040e",
        "0702020202120c", "11121418141211", "1010101010101f", "111b1515111111", "11111915131111", "0e11111111110e",
        "1e11111e101010", "0e11111115120d", "1e11111e141211", "0f10100e01011e", "1f040404040404", "1111111111110e",
        "11111111110a04", "1111111515150a", "11110a040a1111", "11110a04040404", "1f01020408101f", "0e08080808080e",
        "00100804020100", "0e02020202020e", "040a1100000000", "0000000000001f", "08040200000000", "00000e010f110f",
        "1010161911111e", "00000e1010110e", "01010d1311110f", "00000e111f100e", "0609081c080808", "000f11110f010e",
        "10101619111111", "04000c0404040e", "0200060202120c", "10101214181412", "0c04040404040e", "00001a15151111",
        "00001619111111", "00000e1111110e", "00001e111e1010", "00000d130f0101", "00001619101010", "00000e100e011e",
        "08081c08080906", "0000111111130d", "00001111110a04", "0000111115150a", "0000110a040a11", "000011110f010e",
        "00001f0204081f", "02040408040402", "04040404040404", "08040402040408", "00000815020000",
    ]
}
