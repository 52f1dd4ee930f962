import Foundation
import Testing
@testable import GraftData
import GraftFormats

@Suite("PNG and JPEG decoding")
struct DecodingTests {
    /// graft's own PNG writer, read back by libpng (through graft's decoder): grey, RGB and RGBA, every byte value.
    @Test(arguments: [1, 3, 4])
    func pngsWrittenByGraftReadBackExactly(channels: Int) throws {
        let (width, height) = (37, 11)
        let pixels = (0..<(width * height * channels)).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 13) }
        let data = try PNGEncoder.encode(width: width, height: height, channels: channels, pixels: pixels)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("graft-png-\(UUID().uuidString).png").path
        try data.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let image = try Image.load(path)
        let kept = channels
        #expect(image.width == width && image.height == height && image.channels == kept)
        for c in 0..<kept {
            for y in 0..<height {
                for x in 0..<width {
                    let want = Float(pixels[(y * width + x) * channels + c]) / 255
                    guard abs(image.pixels[(c * height + y) * width + x] - want) < 1e-6 else {
                        Issue.record("pixel (\(x), \(y)) channel \(c): \(image.pixels[(c * height + y) * width + x]) vs \(want)"); return
                    }
                }
            }
        }
        #expect(throws: FormatError.self) { try PNGEncoder.encode(width: 2, height: 2, channels: 3, pixels: [0, 1]) }
        #expect(throws: FormatError.self) { try PNGEncoder.encode(width: 1, height: 1, channels: 2, pixels: [0, 1]) }
    }

    static let names = ["gray8.png", "gray16.png", "gray1.png", "gray_alpha.png", "rgb8.png", "rgb8_interlaced.png", "rgb16.png",
                        "rgba8.png", "palette_trns.png", "baseline_rgb.jpg", "baseline_gray.jpg", "progressive_rgb.jpg",
                        "exif_orientation6.jpg", "cmyk.jpg"]

    @Test(arguments: names)
    func decodesLikePillow(_ name: String) throws {
        let expected = try #require(Fixtures.expected.images[name], "fixture \(name) missing: rerun make_fixtures.py")
        let image = try Image.load(Fixtures.path("images/\(name)"))
        #expect(image.channels == expected["channels"] as? Int)
        #expect(image.height == expected["height"] as? Int)
        #expect(image.width == expected["width"] as? Int)
        let pixels = Fixtures.floats(expected["pixels"])
        let tolerance = Float(expected["tolerance"] as? Double ?? 0) + 1e-6
        #expect(pixels.count == image.pixels.count)
        let worst = zip(image.pixels, pixels).map { Swift.abs($0 - $1) }.max() ?? 0
        #expect(worst <= tolerance, "\(name): largest difference \(worst * 255) levels")
    }

    @Test func brokenFilesAreRefusedWithAReason() {
        #expect(Fixtures.message { try Image.load(Fixtures.path("broken/text.jpg")) }
                == "cannot read \(Fixtures.path("broken/text.jpg")): not a JPEG file")
        #expect(Fixtures.message { try Image.decode(Data("GIF89a".utf8), path: "x.gif") } == "cannot read x.gif: not a PNG or JPEG file")
        #expect(Fixtures.message { try Image.load(Fixtures.path("broken/truncated.jpg")) }?.hasSuffix("file is truncated") == true)
        #expect(Fixtures.message { try Image.load(Fixtures.path("broken/truncated.png")) }?.contains("truncated") == true)
        #expect(Fixtures.message { try Image.load(Fixtures.path("broken/bad_crc.png")) }?.contains("CRC") == true)
        let huge = Fixtures.message { try Image.load(Fixtures.path("broken/huge.png")) }
        #expect(huge?.hasSuffix("image is 20000x20000, more than the 67108864-pixel limit") == true, "\(huge ?? "nil")")
        #expect(Fixtures.message { try Image.load(Fixtures.path("broken/missing.png")) }?.hasSuffix("no such file or unreadable") == true)
        #expect(Fixtures.message { try Image.decode(Data([0xFF, 0xD8, 0xFF, 0xE0]), path: "stub.jpg") } != nil)
    }

    @Test func headersClaimingMorePixelsThanTheirBytesCanHoldAreRefused() throws {
        // A JPEG whose frame header says 8000x8000 over a few hundred bytes of data (it was accepted,
        // and the whole image allocated before the data ran out).
        var jpeg = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("images/baseline_rgb.jpg"))))
        let frame = try #require((0..<(jpeg.count - 9)).first { jpeg[$0] == 0xFF && (jpeg[$0 + 1] == 0xC0 || jpeg[$0 + 1] == 0xC2) })
        jpeg.replaceSubrange((frame + 5)..<(frame + 9), with: [0x1F, 0x40, 0x1F, 0x40])
        #expect(Fixtures.message { try Image.decode(Data(jpeg), path: "x.jpg") }
                == "cannot read x.jpg: image claims 8000x8000 pixels, more than its \(jpeg.count) bytes can encode")
        // A PNG whose IHDR (CRC fixed up) says 4000x4000 over 81 bytes: beyond deflate's 1,032-fold.
        var png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("images/gray8.png"))))
        png.replaceSubrange(16..<24, with: [0, 0, 0x0F, 0xA0, 0, 0, 0x0F, 0xA0])
        let crc = Self.crc32(png[12..<29])
        png.replaceSubrange(29..<33, with: [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
        #expect(Fixtures.message { try Image.decode(Data(png), path: "x.png") }
                == "cannot read x.png: image claims 4000x4000 pixels, more than its \(png.count) bytes can encode")
    }

    /// The CRC-32 of PNG chunks (and zip, and zlib's crc32).
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    @Test func channelConversion() throws {
        let rgba = try Image.load(Fixtures.path("images/rgba8.png"))
        let rgb = try rgba.converted(toChannels: 3)
        #expect(rgb.channels == 3 && Array(rgb.pixels) == Array(rgba.pixels.prefix(3 * rgba.height * rgba.width)))
        let gray = try rgb.converted(toChannels: 1)
        #expect(Swift.abs(gray[0, 0, 0] - (0.299 * rgb[0, 0, 0] + 0.587 * rgb[1, 0, 0] + 0.114 * rgb[2, 0, 0])) < 1e-6)
        let back = try Image.load(Fixtures.path("images/gray8.png")).converted(toChannels: 3)
        #expect(back.channels == 3 && back[2, 1, 1] == back[0, 1, 1])
        #expect(throws: DataError.self) { try rgb.converted(toChannels: 2) }
    }

    @Test func exifOrientationTable() {
        // A 2×3 image 0…5; each orientation's upright result, as Pillow's exif_transpose gives it.
        let image = Image(channels: 1, height: 2, width: 3, pixels: [0, 1, 2, 3, 4, 5])
        let upright: [Int: [Float]] = [
            2: [2, 1, 0, 5, 4, 3], 3: [5, 4, 3, 2, 1, 0], 4: [3, 4, 5, 0, 1, 2],
            5: [0, 3, 1, 4, 2, 5], 6: [3, 0, 4, 1, 5, 2], 7: [5, 2, 4, 1, 3, 0], 8: [2, 5, 1, 4, 0, 3],
        ]
        for (value, pixels) in upright {
            #expect(ExifOrientation(value: value).apply(to: image).pixels == pixels, "orientation \(value)")
        }
    }

    /// The process's mapped memory (VmSize): leaked buffers of a megabyte or more stay mapped.
    static func mappedBytes() -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("VmSize:") } ?? ""
        return (Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0) * 1024
    }

    /// A 1000×1000 RGB PNG whose image data breaks after libpng's header was read, so that the
    /// decoder has allocated its 3 MB of pixels when libpng longjmps out.
    static func brokenMidImagePNG() -> Data {
        func crc32(_ bytes: [UInt8]) -> UInt32 {
            var crc: UInt32 = 0xFFFF_FFFF
            for byte in bytes {
                crc ^= UInt32(byte)
                for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
            }
            return ~crc
        }
        func bigEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            return bigEndian(UInt32(body.count)) + typed + bigEndian(crc32(typed))
        }
        let header = bigEndian(1000) + bigEndian(1000) + [8, 2, 0, 0, 0]
        // A zlib header, then bytes that are no deflate stream: inflating fails in the first row.
        let data = [0x78, 0x9C] + [UInt8](repeating: 0xFF, count: 4000)
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", data) + chunk("IEND", []))
    }

    /// libpng and libjpeg report errors by longjmp: the pixel buffer allocated before one must be
    /// freed after it. It was not — the variable holding it was a pointer to volatile, not a
    /// volatile pointer — and every such file leaked its pixels (3 MB here; AddressSanitizer's leak
    /// check found it).
    @Test func aPNGThatBreaksMidImageLeaksNothing() throws {
        let png = Self.brokenMidImagePNG()
        #expect(Fixtures.message { try Image.decode(png, path: "broken.png") }?.contains("broken.png") == true)
        let before = Self.mappedBytes()
        for _ in 0..<200 { _ = try? Image.decode(png, path: "broken.png") }
        let grown = Self.mappedBytes() - before
        #expect(grown < 100_000_000, "200 broken decodes kept \(grown / 1_000_000) MB (600 MB if each leaked its pixels)")
    }
}
