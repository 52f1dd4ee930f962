/// How an image file becomes a model's input before normalization: its channels, a resize (the
/// shorter side to `resize`, then the central `height × width` window; or, without `resize`,
/// straight to `height × width`), and whether pixels are rounded to 8 bits as a dataset stores them.
/// A dataset's images were made so; a model trained on them keeps the same transform, so that
/// `predict FILE` sees what training saw. (GraftData applies it to an image.)
public struct ImageTransform: Codable, Sendable, Equatable {
    public var channels: Int
    public var height: Int
    public var width: Int
    /// The shorter side's size before the centre crop (nil: resized to exactly height × width).
    public var resize: Int?
    /// Pixels rounded to multiples of 1/255 (as `data images` stores them).
    public var eightBit: Bool

    public init(channels: Int, height: Int, width: Int, resize: Int?, eightBit: Bool) {
        (self.channels, self.height, self.width, self.resize, self.eightBit) = (channels, height, width, resize, eightBit)
    }

    /// `data images DIR size=N` (shorter side to N, central N×N) or `size=HxW` (exactly H×W).
    public static func folder(channels: Int, height: Int, width: Int?) -> ImageTransform {
        ImageTransform(channels: channels, height: height, width: width ?? height, resize: width == nil ? height : nil, eightBit: true)
    }

    /// ImageNet's evaluation recipe at a model's size: shorter side to size / 0.875, centre crop (256 → 224).
    public static func evaluation(channels: Int, height: Int, width: Int) -> ImageTransform {
        ImageTransform(channels: channels, height: height, width: width,
                       resize: height == width ? Int((Double(height) / 0.875).rounded()) : nil, eightBit: false)
    }

    public var sampleShape: [Int] { [channels, height, width] }

    /// True when this transform (as read from a file) is one graft can apply and makes inputs of
    /// `inputShape`: grey or RGB, sides within 8192 (a shorter side within 16384).
    public func fits(_ inputShape: [Int]) -> Bool {
        [1, 3].contains(channels) && (1...8192).contains(height) && (1...8192).contains(width)
            && (resize.map { (1...16384).contains($0) } ?? true) && sampleShape == inputShape
    }

    /// A value in [0, 1] as a dataset stores it, and back.
    public static func byte(_ value: Float) -> UInt8 { UInt8((Swift.min(Swift.max(value, 0), 1) * 255).rounded()) }
    public static func eightBit(_ value: Float) -> Float { Float(byte(value)) / 255 }

    /// `shorter side to 64, central 64×64, 8-bit` / `resized to 48×192`.
    public var description: String {
        let size = resize.map { "shorter side to \($0), central \(height)×\(width)" } ?? "resized to \(height)×\(width)"
        return "\(channels == 1 ? "gray" : "RGB"), \(size)" + (eightBit ? ", 8-bit" : "")
    }
}
