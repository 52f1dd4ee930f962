import Foundation
import Testing
@testable import GraftData

/// Portable numerics start at the pixels: the PNG and JPEG decoders (libpng, libjpeg-turbo's exact
/// integer IDCT, whose SSE2/AVX2/plain-C paths agree bit for bit) and graft's resize filters must
/// give the same floats on every x86-64 CPU. The digests below were taken on one machine; another
/// CPU — or libjpeg-turbo forced to its other paths (`JSIMD_FORCENONE=1`, `JSIMD_FORCESSE2=1`) —
/// must reproduce them exactly.
@Suite("Decoded and resized pixels are the same bits on every CPU")
struct PortableDecodingTests {
    static func digest(_ values: [Float]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in values {
            var bits = value.bitPattern
            for _ in 0..<4 { hash = (hash ^ UInt64(bits & 0xFF)) &* 0x0000_0100_0000_01B3; bits >>= 8 }
        }
        return String(hash, radix: 16)
    }

    /// Taken on an Intel Xeon (Emerald Rapids, AVX-512), Debian 12's libpng 1.6.39 and libjpeg-turbo 2.1.5.
    static let pinned: [String: (decoded: String, resized: String)] = [
        "astronaut.png": ("6e2cee7588be54ed", "7ccad0467d7d17bd"), "chelsea.png": ("801510ed3cdc2248", "ec5cc350520594a3"),
        "coffee.png": ("7e82878ce53ccdd7", "70eab4a7a23a59cf"), "rocket.jpg": ("a3df5393ada3d25d", "203e953a4ccba1d6"),
    ]

    @Test(arguments: ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg"])
    func photosDecodeAndResizeToPinnedBits(_ name: String) throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Examples/images/\(name)").standardized.path
        let image = try Image.load(path)
        let resized = try image.resizedAndCenterCropped(resize: 73, crop: 64)
        let got = (Self.digest(image.pixels), Self.digest(resized.pixels))
        #expect(got.0 == Self.pinned[name]?.decoded, "\(name): decoded pixels' digest")
        #expect(got.1 == Self.pinned[name]?.resized, "\(name): resized pixels' digest")
    }
}
