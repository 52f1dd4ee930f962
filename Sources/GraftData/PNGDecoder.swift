import CPNG
import Foundation

/// PNG through libpng: 1–16-bit gray, gray+alpha, RGB, RGBA and palette (with transparency), interlaced or not.
enum PNGDecoder {
    static func decode(_ data: Data, path: String) throws(DataError) -> Image {
        var decoded = graft_png_image()
        let status = data.withUnsafeBytes { raw -> Int32 in
            guard let base = raw.baseAddress else { return 1 }
            return graft_png_decode(base.assumingMemoryBound(to: UInt8.self), raw.count, Image.pixelLimit, &decoded)
        }
        defer { free(decoded.pixels) }
        guard status == 0, let pixels = decoded.pixels else {
            let message = withUnsafeBytes(of: decoded.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw .unreadable(path: path, reason: message.isEmpty ? "not a PNG file" : message)
        }
        return Image.fromInterleaved(UnsafeRawPointer(pixels), width: Int(decoded.width), height: Int(decoded.height),
                                     channels: Int(decoded.channels), bytesPerSample: decoded.bitDepth == 16 ? 2 : 1)
    }
}
