import Foundation
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
    @Test(arguments: [("convnext_nano", 15_593_560), ("convnext_atto", 3_695_520), ("timm-convnext_tiny", 28_589_128)])
    func namedConvNeXtsHaveTimmsTotals(_ row: (String, Int)) throws {
        let model = try Architecture.named(row.0).build(generator: .structureOnly())
        #expect(model.parameterCount == row.1, "\(row.0): \(model.parameterCount), timm \(row.1)")
    }
}
