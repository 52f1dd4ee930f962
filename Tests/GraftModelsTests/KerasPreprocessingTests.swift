import Foundation
import Testing
@testable import GraftModels
@testable import GraftNN
import GraftTensor

/// The layers people put in their own Keras models, against Keras (fixtures from
/// make_preprocessing_fixtures.py): Random* augmentation (identity at inference, kept as the model's
/// training augmentation), CenterCrop and UnitNormalization; and PyTorch's F.normalize as
/// torch.onnx.export writes it.
@Suite("Keras preprocessing layers and unit normalization")
struct KerasPreprocessingTests {
    static func path(_ name: String) -> String { formatsFixtures.appendingPathComponent(name).path }

    @Test(arguments: ["preprocessing_keras.keras", "preprocessing_keras.h5"])
    func augmentationCropAndUnitNormalizationMatchKeras(_ file: String) throws {
        let model = try ModelFiles.load(Self.path(file))
        let expected = try npy("preprocessing_keras_output.npy")
        let actual = try model.predict(try npy("preprocessing_keras_input.npy"))
        #expect(actual.shape == expected.shape)
        #expect(maxDifference(actual, expected) < 1e-5, "\(file): max |Δ| \(maxDifference(actual, expected))")
        // The augmentation layers are no nodes; the crop and the normalization are.
        #expect(model.nodes.map(\.layer.kind) == ["Input", "Cropping2d", "Conv2d", "UnitNorm", "GlobalAvgPool2d", "Linear"])
        let unit = try #require(model.nodes.first { $0.layer.kind == "UnitNorm" }?.layer as? UnitNorm)
        #expect(unit.epsilon == 1e-12)
        let carried = try #require(model.sourceAugmentation)
        #expect(carried.spec == "flip,vflip,rotate=36.0,shift=0.125")
        #expect(carried.layers == ["RandomFlip 'flip'", "RandomRotation 'rotate'", "RandomTranslation 'shift'"])
        #expect(carried.unsupported.isEmpty)
    }

    @Test func anAugmentationGraftCannotReproduceIsNamedAndInferenceStillRuns() throws {
        let model = try ModelFiles.load(Self.path("preprocessing_zoom.keras"))
        #expect(model.nodes.map(\.layer.kind) == ["Input", "Permute", "Flatten", "Linear"])
        let carried = try #require(model.sourceAugmentation)
        #expect(carried.spec == "flip")
        #expect(carried.unsupported == ["RandomZoom 'zoom': graft has no augmentation with its meaning"])
    }

    /// The carried augmentation is part of the model: saved in graft's own files, and put back by undo.
    @Test func theAugmentationTravelsWithTheModel() throws {
        let model = try ModelFiles.load(Self.path("preprocessing_keras.keras"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("carried-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        _ = try ModelFiles.save(model, to: file)
        let reloaded = try ModelFiles.load(file)
        #expect(reloaded.sourceAugmentation == model.sourceAugmentation)
        #expect(maxDifference(try reloaded.predict(try npy("preprocessing_keras_input.npy")), try npy("preprocessing_keras_output.npy")) < 1e-5)
        let state = model.saveState()
        model.sourceAugmentation = nil
        model.restore(state)
        #expect(model.sourceAugmentation?.spec == "flip,vflip,rotate=36.0,shift=0.125")
    }

    @Test func torchNormalizeFromONNXMatches() throws {
        let model = try ModelFiles.load(Self.path("normalize_torch17.onnx"))
        let actual = try model.predict(try npy("normalize_input.npy")), expected = try npy("normalize_torch_output.npy")
        #expect(maxDifference(actual, expected) < 1e-6, "max |Δ| \(maxDifference(actual, expected))")
    }

    /// A zero vector stays zero with a finite gradient (the ε floor is taken before the square root).
    @Test func aZeroVectorHasAFiniteGradient() throws {
        let layer = try UnitNorm()
        let x = Parameter(try Tensor(shape: [2, 3], scalars: [0, 0, 0, 3, 4, 0]))
        let y = try layer.forward([x.value], ForwardContext(training: true))
        #expect(zip(y.scalars, [0, 0, 0, 0.6, 0.8, 0] as [Float]).allSatisfy { abs($0 - $1) < 1e-7 })
        try (y * y).sum().backward()
        let gradient = try #require(x.grad)
        #expect(gradient.scalars.allSatisfy { $0.isFinite })
        #expect(throws: ModelError.self) { try UnitNorm(epsilon: 0) }
        #expect(throws: ModelError.self) { try UnitNorm(epsilon: 1e-30) }
    }

    @Test func centerCropBoundsAreChecked() throws {
        // The crop sits at ⌊(size − crop) / 2⌋, as Keras places it: a 12×15 image cropped to 9×10 loses 1 row on top, 2 below, 2 left, 3 right.
        let model = try ModelFiles.load(Self.path("preprocessing_keras.keras"))
        let crop = try #require(model.nodes[1].layer as? Cropping2d)
        #expect(crop.cropping == Padding2D(top: 1, bottom: 2, left: 2, right: 3))
    }
}
