import Foundation
import GraftData
import GraftFormats
import GraftModels
import GraftNN
import GraftTensor
@testable import GraftTraining
import Testing

/// Layer-wise learning-rate decay against timm's `param_groups_layer_decay` (fixtures from
/// Tests/Fixtures/formats/make_vit_fixtures.py): the same share of the rate for every parameter,
/// and one SGD step of a small ViT that ends on the same weights.
@Suite("Layer-wise learning-rate decay against timm")
struct LayerDecayTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/formats").standardized

    static func model() throws -> Model { try ModelFiles.load(folder.appendingPathComponent("vit_timm.safetensors").path) }

    @Test func everyParameterGetsTimmsShareOfTheRate() throws {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent("vit_timm_layer_decay.json"))
        let timm = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Double])
        let scales = try #require(try Self.model().layerDecayScales(0.5))
        #expect(scales.count == timm.count)
        for (key, _, scale) in scales {
            #expect(timm[key].map { abs(Double(scale) - $0) < 1e-9 } == true, "\(key): graft \(scale), timm \(timm[key] ?? .nan)")
        }
    }

    @Test func oneStepEndsOnTimmsWeights() throws {
        let model = try Self.model()
        let input = try NumPyArray(data: Data(contentsOf: Self.folder.appendingPathComponent("vit_step_input.npy")))
        let samples = Samples(sampleShape: [3, 32, 32], labels: [0, 3, 1, 4], floats: input.values)
        let data = Dataset(name: "four", classNames: (0..<5).map(String.init), train: samples)
        var options = TrainingOptions()
        (options.epochs, options.batchSize, options.learningRate, options.layerDecay) = (1, 4, 0.1, 0.5)
        options.optimizer = .sgd(momentum: 0, nesterov: false)
        options.cache = .off
        let trainer = Trainer(model: model)
        _ = try trainer.fit(data, options: options, generator: Generator(seed: 1), log: RecordingTrainingLog())
        let after = try SafeTensors.read(Data(contentsOf: Self.folder.appendingPathComponent("vit_timm_layer_decay_step.safetensors")))
        let parameters = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.key, $0.parameter) })
        #expect(after.tensors.count == 8)
        for (key, want) in after.tensors {
            let got = try #require(parameters[key]).value
            let worst = zip(got.scalars, want.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 2e-5 * (1 + (want.scalars.map(abs).max() ?? 0)), "\(key): max |Δ| \(worst)")
        }
    }

    @Test func aModelWithoutBlocksOrWithABackboneRateIsRefused() throws {
        var b = try GraphBuilder(inputShape: [4])
        try b.add(try Dense(4, 3, generator: Generator(seed: 1)), name: "fc")
        let flat = Trainer(model: b.build(name: "flat", architecture: "test"))
        #expect(throws: ModelError.self) { try flat.layerDecayScales(0.7) }
        var options = TrainingOptions()
        (options.layerDecay, options.backboneLearningRate) = (0.7, 0.001)
        #expect(throws: ModelError.self) { try options.validated() }
        options.backboneLearningRate = nil
        options.layerDecay = 1.5
        #expect(throws: ModelError.self) { try options.validated() }
    }
}
