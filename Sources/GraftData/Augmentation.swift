import Foundation
import GraftTensor

/// Random changes applied to training images only, each draw taken from the session's generator.
public struct Augmentation: Sendable, Equatable {
    /// Mirror left–right with probability ½.
    public var horizontalFlip = false
    /// torchvision's RandomResizedCrop: a crop of this area fraction range and aspect 3/4–4/3, resized back.
    public var resizedCropScale: ClosedRange<Double>? = nil
    /// Rotation by up to ± this many degrees.
    public var maxRotation: Double = 0
    /// Translation by up to ± this fraction of the width and height.
    public var maxTranslation: Double = 0

    public init(horizontalFlip: Bool = false, resizedCropScale: ClosedRange<Double>? = nil,
                maxRotation: Double = 0, maxTranslation: Double = 0) {
        self.horizontalFlip = horizontalFlip
        self.resizedCropScale = resizedCropScale
        self.maxRotation = maxRotation
        self.maxTranslation = maxTranslation
    }

    public static let none = Augmentation()
    public var isNone: Bool { self == .none }

    /// Checks the ranges (crop scale within (0, 1], rotation ≤ 180°, translation < 1).
    public func validated() throws(DataError) -> Augmentation {
        if let scale = resizedCropScale, scale.lowerBound <= 0 || scale.upperBound > 1 {
            throw .invalidArgument(what: "augmentation", reason: "crop scale must lie in (0, 1]")
        }
        guard (0...180).contains(maxRotation) else { throw .invalidArgument(what: "augmentation", reason: "rotation must be 0–180 degrees") }
        guard (0..<1).contains(maxTranslation) else { throw .invalidArgument(what: "augmentation", reason: "translation must be below 1") }
        return self
    }

    /// The augmented image (same size). Draws happen in a fixed order: crop, flip, rotation, translation.
    public func apply(to image: Image, generator: Generator) -> Image {
        var out = image
        if let scale = resizedCropScale {
            let (top, left, h, w) = Self.resizedCropBox(height: image.height, width: image.width, scale: scale, generator: generator)
            let crop = image.cropped(top: top, left: left, height: h, width: w)
            out = (try? crop.resized(height: image.height, width: image.width)) ?? image
        }
        if horizontalFlip && generator.nextFloat() < 0.5 { out = out.flippedHorizontally() }
        if maxRotation > 0 || maxTranslation > 0 {
            let degrees = maxRotation > 0 ? (generator.nextDouble() * 2 - 1) * maxRotation : 0
            let dx = maxTranslation > 0 ? (generator.nextDouble() * 2 - 1) * maxTranslation * Double(image.width) : 0
            let dy = maxTranslation > 0 ? (generator.nextDouble() * 2 - 1) * maxTranslation * Double(image.height) : 0
            out = out.affineTransformed(degrees: degrees, dx: dx.rounded(), dy: dy.rounded())
        }
        return out
    }

    /// torchvision's RandomResizedCrop box: up to 10 tries of a random area and log-uniform aspect
    /// ratio in [3/4, 4/3], then the central crop with the ratio clamped.
    static func resizedCropBox(height: Int, width: Int, scale: ClosedRange<Double>, generator: Generator) -> (Int, Int, Int, Int) {
        let area = Double(height * width)
        let logRatio = (log(3.0 / 4.0), log(4.0 / 3.0))
        for _ in 0..<10 {
            let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * generator.nextDouble())
            let ratio = exp(logRatio.0 + (logRatio.1 - logRatio.0) * generator.nextDouble())
            let w = Int((target * ratio).squareRoot().rounded()), h = Int((target / ratio).squareRoot().rounded())
            if w > 0 && h > 0 && w <= width && h <= height {
                let top = generator.nextInt(below: height - h + 1), left = generator.nextInt(below: width - w + 1)
                return (top, left, h, w)
            }
        }
        let ratio = Double(width) / Double(height)
        var (w, h) = (width, height)
        if ratio < 3.0 / 4.0 { h = Int((Double(w) / (3.0 / 4.0)).rounded()) } else if ratio > 4.0 / 3.0 { w = Int((Double(h) * 4.0 / 3.0).rounded()) }
        return ((height - h) / 2, (width - w) / 2, h, w)
    }
}
