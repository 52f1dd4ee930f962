import Foundation

/// A decoded image: planar (channel, row, column) Float samples in [0, 1].
public struct Image: Sendable, Equatable {
    public let channels: Int
    public let height: Int
    public let width: Int
    /// `channels × height × width` samples, plane after plane.
    public var pixels: [Float]

    public init(channels: Int, height: Int, width: Int, pixels: [Float]) {
        precondition(pixels.count == channels * height * width, "pixel count must match the image size")
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
    }

    public init(channels: Int, height: Int, width: Int, repeating value: Float = 0) {
        self.init(channels: channels, height: height, width: width,
                  pixels: [Float](repeating: value, count: channels * height * width))
    }

    /// The sample at (channel, row, column).
    public subscript(channel: Int, row: Int, column: Int) -> Float {
        get { pixels[(channel * height + row) * width + column] }
        set { pixels[(channel * height + row) * width + column] = newValue }
    }

    /// The most pixels a decoder accepts, checked from the header before decoding (64 megapixels).
    public static let pixelLimit = 64 << 20

    /// Decodes PNG or JPEG bytes, chosen by their magic bytes, applying EXIF orientation.
    public static func decode(_ data: Data, path: String) throws(DataError) -> Image {
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try PNGDecoder.decode(data, path: path) }
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return try JPEGDecoder.decode(data, path: path) }
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "jpg", "jpeg": throw .unreadable(path: path, reason: "not a JPEG file")
        case "png": throw .unreadable(path: path, reason: "not a PNG file")
        default: throw .unreadable(path: path, reason: "not a PNG or JPEG file")
        }
    }

    /// Reads and decodes an image file.
    public static func load(_ path: String) throws(DataError) -> Image {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw .unreadable(path: path, reason: "no such file or unreadable")
        }
        return try decode(data, path: path)
    }

    /// Interleaved 8- or 16-bit samples (`bytesPerSample` 1 or 2, host order) to planar [0, 1] floats.
    static func fromInterleaved(_ samples: UnsafeRawPointer, width: Int, height: Int, channels: Int, bytesPerSample: Int) -> Image {
        var pixels = [Float](repeating: 0, count: channels * height * width)
        let plane = height * width
        let scale: Float = bytesPerSample == 2 ? 1 / 65535 : 1 / 255
        pixels.withUnsafeMutableBufferPointer { out in
            for p in 0..<plane {
                for c in 0..<channels {
                    let i = p * channels + c
                    let v = bytesPerSample == 2 ? Float(samples.load(fromByteOffset: 2 * i, as: UInt16.self))
                                                : Float(samples.load(fromByteOffset: i, as: UInt8.self))
                    out[c * plane + p] = v * scale
                }
            }
        }
        return Image(channels: channels, height: height, width: width, pixels: pixels)
    }

    /// The same picture with `count` channels: gray ↔ RGB (ITU-R 601 luma, as Pillow's "L"), alpha dropped.
    public func converted(toChannels count: Int) throws(DataError) -> Image {
        guard [1, 3].contains(count) else { throw .invalidArgument(what: "channels", reason: "must be 1 or 3, got \(count)") }
        let plane = height * width
        let colour = channels >= 3 ? 3 : 1
        if colour == count && channels == count { return self }
        var out = [Float](repeating: 0, count: count * plane)
        for p in 0..<plane {
            if count == 3 {
                for c in 0..<3 { out[c * plane + p] = pixels[(colour == 3 ? c : 0) * plane + p] }
            } else if colour == 3 {
                out[p] = 0.299 * pixels[p] + 0.587 * pixels[plane + p] + 0.114 * pixels[2 * plane + p]
            } else {
                out[p] = pixels[p]
            }
        }
        return Image(channels: count, height: height, width: width, pixels: out)
    }
}
