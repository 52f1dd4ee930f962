import Foundation
import GraftFormats
import Testing
@testable import GraftModels
import GraftNN
import GraftTensor

/// timm's CNNs under timm's key names against timm (fixtures from make_timm_cnn_fixtures.py), and
/// the named models' parameter totals.
@Suite("timm CNNs against timm")
struct TimmCNNTests {
    /// ConvNeXt with its MLP as 1×1 convolutions (atto…nano) and as Linear layers (tiny and up):
    /// widths, depths and the MLP's form read off the tensors.
    @Test(arguments: ["timm_convnext_convmlp", "timm_convnext_linear"])
    func convNeXtStateDictsMatchTimm(_ name: String) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("\(name).safetensors").path, inputShape: [3, 64, 64])
        #expect(model.architecture == "convnext-timm-16x1-1-2-1")
        #expect(model.parameterCount == 114_021)
        let (got, want) = (try model.predict(try npy("timm_cnn_input.npy")), try npy("\(name)_output.npy"))
        let worst = zip(got.scalars, want.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(got.shape == want.shape && worst <= 1e-4 * (1 + (want.scalars.map(abs).max() ?? 0)), "\(name): max |Δ| \(worst)")
    }

    /// `sum(p.numel() for p in timm.create_model(name).parameters())`.
    /// (ResNet-D's outputs were checked against timm on full-size resnet18d and resnet50d with random
    /// weights and statistics: 5.4e-7 and 9.9e-7 relative at 96×96; too large to commit.)
    @Test(arguments: [("convnext_nano", 15_593_560), ("convnext_atto", 3_695_520), ("timm-convnext_tiny", 28_589_128),
                      ("resnet18d", 11_708_744), ("resnet50d", 25_576_264)])
    func namedModelsHaveTimmsTotals(_ row: (String, Int)) throws {
        let model = try Architecture.named(row.0).build(generator: .structureOnly())
        #expect(model.parameterCount == row.1, "\(row.0): \(model.parameterCount), timm \(row.1)")
    }

    /// A ResNet-D's state dict (timm's keys) is found from its keys, its blocks counted.
    @Test func aResNetDStateDictIsDetectedFromItsKeys() throws {
        let model = try Architecture.named("resnet18d").build(classes: 6, generator: .structureOnly())
        let state = StateDict(tensors: model.parameters.map { ($0.key, $0.parameter.value) } + model.buffers.map { ($0.key, $0.tensor) })
        let fit = try #require(Architecture.fits(state).first)
        #expect(fit.architecture.rawValue == "resnet18d" && fit.isExact && fit.classes == 6)
    }
}
