import CJPEG
import Foundation

/// JPEG through libjpeg-turbo: baseline and progressive, gray, YCbCr and CMYK, with EXIF orientation applied.
enum JPEGDecoder {
    static func decode(_ data: Data, path: String) throws(DataError) -> Image {
        var decoded = graft_jpeg_image()
        let status = data.withUnsafeBytes { raw -> Int32 in
            guard let base = raw.baseAddress else { return 1 }
            return graft_jpeg_decode(base.assumingMemoryBound(to: UInt8.self), raw.count, Image.pixelLimit, &decoded)
        }
        defer { free(decoded.pixels) }
        guard status == 0, let pixels = decoded.pixels else {
            let message = withUnsafeBytes(of: decoded.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw .unreadable(path: path, reason: message.isEmpty ? "not a JPEG file" : message)
        }
        var image = Image.fromInterleaved(UnsafeRawPointer(pixels), width: Int(decoded.width), height: Int(decoded.height),
                                          channels: Int(decoded.channels), bytesPerSample: 1)
        if decoded.channels == 4 { image = cmykToRGB(image, inverted: decoded.adobeInverted != 0) }
        return ExifOrientation.read(data).apply(to: image)
    }

    /// CMYK → RGB as R = (1 − C)(1 − K), with Adobe's inverted storage undone first.
    static func cmykToRGB(_ image: Image, inverted: Bool) -> Image {
        let plane = image.height * image.width
        var out = [Float](repeating: 0, count: 3 * plane)
        for p in 0..<plane {
            let ink = (0..<4).map { c in inverted ? 1 - image.pixels[c * plane + p] : image.pixels[c * plane + p] }
            for c in 0..<3 { out[c * plane + p] = (1 - ink[c]) * (1 - ink[3]) }
        }
        return Image(channels: 3, height: image.height, width: image.width, pixels: out)
    }
}

/// The EXIF orientation tag (0x0112) of a JPEG's APP1 segment: how to turn the stored pixels upright.
struct ExifOrientation: Equatable {
    let value: Int

    /// Reads the tag from the markers before the first scan; 1 (upright) when absent or unreadable.
    static func read(_ data: Data) -> ExifOrientation {
        let bytes = [UInt8](data.prefix(1 << 17))
        var offset = 2
        while offset + 4 <= bytes.count, bytes[offset] == 0xFF {
            let marker = bytes[offset + 1]
            if marker == 0xDA || marker == 0xD9 { break }  // start of scan or end of image
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard length >= 2, offset + 2 + length <= bytes.count else { break }
            if marker == 0xE1, length >= 16, Array(bytes[(offset + 4)..<(offset + 10)]) == Array("Exif\0\0".utf8) {
                return ExifOrientation(value: parseTIFF(Array(bytes[(offset + 10)..<(offset + 2 + length)])) ?? 1)
            }
            offset += 2 + length
        }
        return ExifOrientation(value: 1)
    }

    /// The orientation entry of IFD0 in a TIFF structure (either byte order).
    static func parseTIFF(_ tiff: [UInt8]) -> Int? {
        guard tiff.count >= 8 else { return nil }
        let little = tiff[0] == 0x49 && tiff[1] == 0x49
        guard little || (tiff[0] == 0x4D && tiff[1] == 0x4D) else { return nil }
        func u16(_ i: Int) -> Int? {
            guard i >= 0, i + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[i]) | Int(tiff[i + 1]) << 8 : Int(tiff[i]) << 8 | Int(tiff[i + 1])
        }
        func u32(_ i: Int) -> Int? {
            guard let a = u16(i), let b = u16(i + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard let ifd = u32(4), let entries = u16(ifd) else { return nil }
        for entry in 0..<min(entries, 512) {
            let at = ifd + 2 + entry * 12
            guard let tag = u16(at) else { return nil }
            if tag == 0x0112, let value = u16(at + 8), (1...8).contains(value) { return value }
        }
        return nil
    }

    /// The upright image: orientations 2–8 are mirrorings and quarter turns (EXIF 2.32, table 5).
    func apply(to image: Image) -> Image {
        guard value != 1 else { return image }
        let transposes = value >= 5
        let (outH, outW) = transposes ? (image.width, image.height) : (image.height, image.width)
        var out = Image(channels: image.channels, height: outH, width: outW)
        for c in 0..<image.channels {
            for r in 0..<outH {
                for col in 0..<outW {
                    // Source coordinates of output (r, col) for each orientation.
                    let (sr, sc): (Int, Int)
                    switch value {
                    case 2: (sr, sc) = (r, image.width - 1 - col)
                    case 3: (sr, sc) = (image.height - 1 - r, image.width - 1 - col)
                    case 4: (sr, sc) = (image.height - 1 - r, col)
                    case 5: (sr, sc) = (col, r)
                    case 6: (sr, sc) = (image.height - 1 - col, r)
                    case 7: (sr, sc) = (image.height - 1 - col, image.width - 1 - r)
                    default: (sr, sc) = (col, image.width - 1 - r)  // 8
                    }
                    out[c, r, col] = image[c, sr, sc]
                }
            }
        }
        return out
    }
}
