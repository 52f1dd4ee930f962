import Foundation
import GraftTensor

/// Random changes applied to training images only, each draw taken from the session's generator.
public struct Augmentation: Sendable, Equatable {
    /// Mirror left–right with probability ½.
    public var horizontalFlip = false
    /// Mirror top–bottom with probability ½ (drawn after the left–right flip).
    public var verticalFlip = false
    /// torchvision's RandomResizedCrop: a crop of this area fraction range and aspect 3/4–4/3, resized back.
    public var resizedCropScale: ClosedRange<Double>? = nil
    /// Rotation by up to ± this many degrees.
    public var maxRotation: Double = 0
    /// Translation by up to ± this fraction of the width and height.
    public var maxTranslation: Double = 0
    /// torchvision's ColorJitter: brightness, contrast and saturation factors drawn uniformly from
    /// [max(0, 1 − m), 1 + m] for each magnitude m > 0, applied in a random order.
    public var brightness: Double = 0
    public var contrast: Double = 0
    public var saturation: Double = 0

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
        for (name, value) in [("brightness", brightness), ("contrast", contrast), ("saturation", saturation)] where !(0...10).contains(value) {
            throw .invalidArgument(what: "augmentation", reason: "\(name) must be 0–10, got \(value)")
        }
        return self
    }

    /// The augmented image (same size). Draws happen in a fixed order: crop, flips, rotation, translation.
    public func apply(to image: Image, generator: Generator) -> Image {
        var out = image
        if let scale = resizedCropScale {
            let (top, left, h, w) = Self.resizedCropBox(height: image.height, width: image.width, scale: scale, generator: generator)
            let crop = image.cropped(top: top, left: left, height: h, width: w)
            out = (try? crop.resized(height: image.height, width: image.width)) ?? image
        }
        if horizontalFlip && generator.nextFloat() < 0.5 { out = out.flippedHorizontally() }
        if verticalFlip && generator.nextFloat() < 0.5 { out = out.flippedVertically() }
        if maxRotation > 0 || maxTranslation > 0 {
            let degrees = maxRotation > 0 ? (generator.nextDouble() * 2 - 1) * maxRotation : 0
            let dx = maxTranslation > 0 ? (generator.nextDouble() * 2 - 1) * maxTranslation * Double(image.width) : 0
            let dy = maxTranslation > 0 ? (generator.nextDouble() * 2 - 1) * maxTranslation * Double(image.height) : 0
            out = out.affineTransformed(degrees: degrees, dx: dx.rounded(), dy: dy.rounded())
        }
        if brightness > 0 || contrast > 0 || saturation > 0 { out = jittered(out, generator: generator) }
        return out
    }

    /// ColorJitter as torchvision does it: a random order of the three adjustments (a permutation
    /// drawn first), then one factor per enabled adjustment, then the adjustments in that order, each
    /// clamped to [0, 1]. Brightness scales; contrast blends with the mean of the grayscale image;
    /// saturation blends with the grayscale image (0.2989 R + 0.587 G + 0.114 B).
    func jittered(_ image: Image, generator: Generator) -> Image {
        var order = [0, 1, 2]
        generator.shuffle(&order)
        let magnitudes = [brightness, contrast, saturation]
        let factors = magnitudes.map { m -> Double in m > 0 ? Swift.max(0, 1 - m) + (1 + m - Swift.max(0, 1 - m)) * generator.nextDouble() : 1 }
        var pixels = image.pixels
        let plane = image.height * image.width
        func gray(_ i: Int) -> Float {
            image.channels >= 3 ? 0.2989 * pixels[i] + 0.587 * pixels[plane + i] + 0.114 * pixels[2 * plane + i] : pixels[i]
        }
        func blend(_ factor: Float, _ other: (Int) -> Float) {
            let others = (0..<plane).map(other)
            for c in 0..<image.channels {
                for i in 0..<plane { pixels[c * plane + i] = Swift.min(1, Swift.max(0, factor * pixels[c * plane + i] + (1 - factor) * others[i])) }
            }
        }
        for adjustment in order where magnitudes[adjustment] > 0 {
            let factor = Float(factors[adjustment])
            switch adjustment {
            case 0: blend(factor) { _ in 0 }
            case 1:
                let mean = (0..<plane).reduce(Float(0)) { $0 + gray($1) } / Float(Swift.max(plane, 1))
                blend(factor) { _ in mean }
            default:
                if image.channels >= 3 { blend(factor, gray) }
            }
        }
        return Image(channels: image.channels, height: image.height, width: image.width, pixels: pixels)
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
