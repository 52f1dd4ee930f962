import CZlib
import Foundation

/// Writes 8-bit grey, RGB or RGBA images as PNG (one IDAT chunk, every row filtered with Sub, deflated).
public enum PNGEncoder {
    /// `pixels` holds `height` rows of `width × channels` bytes.
    public static func encode(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws(FormatError) -> Data {
        let colourType: UInt8
        switch channels {
        case 1: colourType = 0
        case 3: colourType = 2
        case 4: colourType = 6
        default: throw .unsupported(format: "PNG", what: "\(channels) channels (1, 3 or 4 can be written)")
        }
        guard width > 0, height > 0, width <= 1 << 16, height <= 1 << 16, pixels.count == width * height * channels else {
            throw .malformed(format: "PNG", where: "image", reason: "\(width)×\(height)×\(channels) does not match \(pixels.count) bytes")
        }
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        for y in 0..<height {
            raw[y * (stride + 1)] = 1  // Sub: each byte minus the one a pixel to its left
            for x in 0..<stride {
                let value = pixels[y * stride + x], left = x >= channels ? pixels[y * stride + x - channels] : 0
                raw[y * (stride + 1) + 1 + x] = value &- left
            }
        }
        var bound = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(bound))
        let status = compressed.withUnsafeMutableBufferPointer { out in
            raw.withUnsafeBufferPointer { input in compress2(out.baseAddress, &bound, input.baseAddress, uLong(input.count), 6) }
        }
        guard status == Z_OK else { throw .malformed(format: "PNG", where: "image", reason: "zlib could not compress it (status \(status))") }
        compressed.removeLast(compressed.count - Int(bound))

        var data = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        func chunk(_ type: String, _ body: [UInt8]) {
            var length = UInt32(body.count).bigEndian
            data.append(Data(bytes: &length, count: 4))
            let typed = Array(type.utf8) + body
            data.append(contentsOf: typed)
            var crc = UInt32(typed.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }).bigEndian
            data.append(Data(bytes: &crc, count: 4))
        }
        func be32(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        chunk("IHDR", be32(width) + be32(height) + [8, colourType, 0, 0, 0])
        chunk("IDAT", compressed)
        chunk("IEND", [])
        return data
    }
}
