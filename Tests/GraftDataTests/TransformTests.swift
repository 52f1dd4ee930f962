import Foundation
import GraftFormats
import GraftTensor
import Testing
@testable import GraftData

@Suite("Resize, crop and augmentation")
struct TransformTests {
    func source() throws -> Image {
        let array = try NumPyArray(data: Data(contentsOf: URL(fileURLWithPath: Fixtures.path("resize_source.npy"))))
        return Image(channels: array.shape[0], height: array.shape[1], width: array.shape[2], pixels: array.values)
    }

    @Test(arguments: ["7x5", "30x20", "17x6", "9x13"])
    func bilinearResizeMatchesPillow(_ size: String) throws {
        let expected = try #require(Fixtures.expected.resize[size])
        let (width, height) = (expected["width"] as? Int ?? 0, expected["height"] as? Int ?? 0)
        let resized = try source().resized(height: height, width: width)
        let worst = zip(resized.pixels, Fixtures.floats(expected["pixels"])).map { Swift.abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-5, "\(size): largest difference from Pillow \(worst)")
    }

    @Test func evaluationRecipeMatchesPillowAndTorchvision() throws {
        let expected = try #require(Fixtures.expected.resize["shorter10_crop8"])
        let result = try source().resizedAndCenterCropped(resize: 10, crop: 8)
        let worst = zip(result.pixels, Fixtures.floats(expected["pixels"])).map { Swift.abs($0 - $1) }.max() ?? 1
        #expect(result.height == 8 && result.width == 8 && worst < 1e-5)
    }

    @Test func shorterSideAndCenterCrop() throws {
        let image = Image(channels: 1, height: 300, width: 400, repeating: 0.5)
        let resized = try image.resized(shorterSide: 256)
        #expect(resized.height == 256 && resized.width == 341)
        let crop = try image.resizedAndCenterCropped(resize: 256, crop: 224)
        #expect(crop.height == 224 && crop.width == 224)
        #expect(crop.pixels.allSatisfy { Swift.abs($0 - 0.5) < 1e-6 })
        let ramp = Image(channels: 1, height: 4, width: 6, pixels: (0..<24).map(Float.init))
        #expect(ramp.centerCropped(2).pixels == [8, 9, 14, 15])
        #expect(throws: DataError.self) { try image.resized(height: 0, width: 3) }
    }

    @Test func flipsAndRotations() {
        let ramp = Image(channels: 1, height: 2, width: 3, pixels: [0, 1, 2, 3, 4, 5])
        #expect(ramp.flippedHorizontally().pixels == [2, 1, 0, 5, 4, 3])
        #expect(ramp.affineTransformed(degrees: 0, dx: 0, dy: 0).pixels == ramp.pixels)
        #expect(ramp.affineTransformed(degrees: 0, dx: 1, dy: 0).pixels == [0, 0, 1, 0, 3, 4])
        let turned = ramp.affineTransformed(degrees: 180, dx: 0, dy: 0).pixels
        #expect(zip(turned, [5, 4, 3, 2, 1, 0] as [Float]).allSatisfy { Swift.abs($0 - $1) < 1e-4 })
    }

    /// Each flip happens with probability ½, independently: over seeds, all four outcomes occur.
    @Test func flipsMirrorEachAxis() throws {
        let image = try source()
        #expect(image.flippedVertically().flippedVertically() == image)
        #expect(image.flippedVertically()[0, 0, 0] == image[0, image.height - 1, 0])
        let both = try Augmentation(horizontalFlip: true).validated()
        var flips = both
        flips.verticalFlip = true
        var seen = Set<Int>()
        for seed in 0..<40 {
            let out = flips.apply(to: image, generator: Generator(seed: UInt64(seed)))
            let outcomes = [image, image.flippedHorizontally(), image.flippedVertically(), image.flippedHorizontally().flippedVertically()]
            let found = try #require(outcomes.firstIndex(of: out))
            seen.insert(found)
        }
        #expect(seen == [0, 1, 2, 3])
    }

    @Test func augmentationIsDrawnFromTheGenerator() throws {
        let image = try source()
        let augmentation = try Augmentation(horizontalFlip: true, resizedCropScale: 0.5...1, maxRotation: 10, maxTranslation: 0.1).validated()
        let a = augmentation.apply(to: image, generator: Generator(seed: 3))
        let b = augmentation.apply(to: image, generator: Generator(seed: 3))
        let c = augmentation.apply(to: image, generator: Generator(seed: 4))
        #expect(a == b)
        #expect(a != c)
        #expect(a.height == image.height && a.width == image.width)
        #expect(throws: DataError.self) { try Augmentation(maxTranslation: 1.5).validated() }
        // The crop box obeys torchvision's rules.
        let generator = Generator(seed: 1)
        for _ in 0..<200 {
            let (top, left, h, w) = Augmentation.resizedCropBox(height: 50, width: 80, scale: 0.08...1, generator: generator)
            #expect(top >= 0 && left >= 0 && top + h <= 50 && left + w <= 80 && h > 0 && w > 0)
        }
    }

    @Test func normalizationPresets() throws {
        var sample: [Float] = [0, 0.5, 1, 0.5, 0.5, 0.5]
        sample.withUnsafeMutableBufferPointer { Normalization.symmetric.apply($0.baseAddress!, channels: 2, plane: 3) }
        #expect(sample == [-1, 0, 1, 0, 0, 0])
        var rgb: [Float] = [0.485, 0.456, 0.406]
        rgb.withUnsafeMutableBufferPointer { Normalization.imagenet.apply($0.baseAddress!, channels: 3, plane: 1) }
        #expect(rgb.allSatisfy { Swift.abs($0) < 1e-6 })
        #expect(throws: DataError.self) { try Normalization.custom(mean: [0.5, 0.5], std: [1, 1]).validated(channels: 3) }
        #expect(throws: DataError.self) { try Normalization.custom(mean: [0.5], std: [0]).validated(channels: 1) }
        #expect(throws: DataError.self) { try Normalization(name: "zscore") }
    }
}

/// Colour jitter in torchvision's meaning (issue 9): brightness scales, contrast blends with the
/// grayscale mean, saturation with the grayscale image; every result clamped to [0, 1].
@Suite("Colour jitter")
struct ColourJitterTests {
    @Test func eachAdjustmentDoesWhatTorchvisionDoes() throws {
        let pixels: [Float] = [0.2, 0.4, 0.6, 0.8, 0.1, 0.3, 0.5, 0.7, 0.9, 0.2, 0.4, 0.6]
        let image = Image(channels: 3, height: 2, width: 2, pixels: pixels)
        var brightness = Augmentation()
        brightness.brightness = 0.5
        let bright = brightness.jittered(image, generator: Generator(seed: 1))
        let factor = bright.pixels[0] / pixels[0]
        #expect(factor >= 0.5 && factor <= 1.5)
        #expect(zip(bright.pixels, pixels).allSatisfy { abs($0 - min(1, $1 * factor)) < 1e-6 })
        // Saturation 0 … 2 on a gray image changes nothing; contrast on a flat image changes nothing.
        var saturation = Augmentation()
        saturation.saturation = 1
        let gray = Image(channels: 3, height: 1, width: 2, pixels: [0.3, 0.6, 0.3, 0.6, 0.3, 0.6])
        #expect(zip(saturation.jittered(gray, generator: Generator(seed: 2)).pixels, gray.pixels).allSatisfy { abs($0 - $1) < 1e-4 })  // the weights sum to 0.9999
        var contrast = Augmentation()
        contrast.contrast = 0.9
        let flat = Image(channels: 1, height: 2, width: 2, pixels: [0.4, 0.4, 0.4, 0.4])
        #expect(contrast.jittered(flat, generator: Generator(seed: 3)).pixels.allSatisfy { abs($0 - 0.4) < 1e-6 })
        var bad = Augmentation()
        bad.brightness = -1
        #expect(throws: DataError.self) { try bad.validated() }
    }
}
