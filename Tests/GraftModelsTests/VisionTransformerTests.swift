import Foundation
import Testing
@testable import GraftModels
import GraftNN
import GraftTensor

/// Vision transformers against timm and torchvision (fixtures from make_vit_fixtures.py: small
/// ViTs with random weights, each family's tokens, position table, norms and pooling), and the
/// named models' parameter totals against the frameworks'.
@Suite("Vision transformers against timm and torchvision")
struct VisionTransformerTests {
    func expectClose(_ actual: Tensor, _ expected: Tensor, _ what: String) {
        #expect(actual.shape == expected.shape, "\(what) shape \(actual.shape)")
        let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4 * (1 + (expected.scalars.map(abs).max() ?? 0)), "\(what): max |Δ| \(worst)")
    }

    /// (fixture, parameters as PyTorch counts them, what graft calls the architecture).
    static let fixtures: [(String, Int, String)] = [
        ("vit_timm", 424_453, "vit-timm-128x2-p8"),
        ("vit_deit_distilled", 425_354, "vit-timm-128x2-p8"),
        ("vit_dinov2_reg", 424_704, "vit-timm-128x2-p8"),
        ("vit_clip", 424_581, "vit-timm-128x2-p8"),
        ("vit_avg", 424_453, "vit-timm-128x2-p8"),
        ("vit_torchvision", 424_453, "vit-torchvision-128x2-p8"),
    ]

    @Test(arguments: fixtures)
    func aStateDictOpensAsItsFamilyAndMatchesTheFramework(_ row: (String, Int, String)) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("\(row.0).safetensors").path)
        #expect(model.architecture == row.2)
        #expect(model.parameterCount == row.1, "\(row.0): \(model.parameterCount) parameters, the framework \(row.1)")
        expectClose(try model.predict(try npy("vit_input.npy")), try npy("\(row.0)_output.npy"), row.0)
    }

    /// What torch.onnx.export (TorchScript, opset 17, a free batch) writes for timm's ViTs: the
    /// tokens' Expand behind a Where over the folded batch, attention's batch-moving permute and
    /// unbind, computed Reshapes. They import as graft's layers, attention as its operators.
    @Test(arguments: ["vit_timm", "vit_deit_distilled", "vit_dinov2_reg"])
    func torchOnnxExportsOfTimmViTsMatch(_ name: String) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("\(name)_torch17.onnx").path)
        #expect(model.nodes.contains { $0.layer.kind == "PrefixTokens" } && model.nodes.contains { $0.layer.kind == "MatMul" })
        expectClose(try model.predict(try npy("vit_input.npy")), try npy("\(name)_output.npy"), "\(name) from ONNX")
    }

    /// torchvision's ViT, whose nn.MultiheadAttention keeps the tokens first and the batch second
    /// ([T, N, C], [T, N·heads, d], [T·N, C]), as both exporters write it: the batch stays a view of
    /// graft's [N, …] nodes until it is alone at the front again.
    @Test(arguments: ["mha_vit_torch17", "mha_vit_dynamo18"])
    func nnMultiheadAttentionFromONNXMatches(_ name: String) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("\(name).onnx").path)
        #expect(model.parameterCount == 72_645, "\(name): \(model.parameterCount) parameters")
        #expect(model.nodes.filter { $0.layer.kind == "MatMul" }.count == 10, "q·kᵀ, weights·v and three weight products in each of two blocks")
        expectClose(try model.predict(try npy("mha_vit_input.npy")), try npy("mha_vit_output.npy"), name)
        // Any batch size, since nothing is fixed to the file's two samples.
        let one = try npy("mha_vit_input.npy").sliced(axis: 0, start: 1, end: 2)
        expectClose(try model.predict(one), try npy("mha_vit_output.npy").sliced(axis: 0, start: 1, end: 2), "\(name), one sample")
    }

    @Test func aPyTorchCheckpointOpensToo() throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("vit_timm.pth").path)
        expectClose(try model.predict(try npy("vit_input.npy")), try npy("vit_timm_output.npy"), "vit_timm.pth")
    }

    /// At 48×40 the grid is 6×5, not the table's 4×4: the table is resized as timm's
    /// `dynamic_img_size` resizes it (bicubic, antialiased), and the outputs agree.
    @Test func anotherInputSizeResizesThePositionTableAsTimmDoes() throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("vit_timm.safetensors").path)
        #expect(model.freeInputAxes == [1, 2])
        expectClose(try model.predict(try npy("vit_input_48x40.npy")), try npy("vit_timm_48x40_output.npy"), "48×40")
    }

    /// The interpolation weights: PyTorch's bicubic (a = −0.75) keeps a grid of the same size and
    /// sums to 1 per output; the antialiased one (PIL's a = −0.5) too; both shrink and grow.
    @Test func resizeWeightsSumToOneAndKeepTheSameSize() {
        for resize in [PositionEmbedding.Resize.bicubic, .antialiased] {
            let same = PositionEmbedding.weights(from: 5, to: 5, resize)
            for (o, taps) in same.enumerated() {
                let own: Double = taps.filter { $0.0 == o }.map(\.1).reduce(0, +)
                #expect(abs(own - 1) < 1e-12, "\(resize): position \(o) is not itself")
            }
            for (n, m) in [(4, 7), (7, 3), (1, 4)] {
                for taps in PositionEmbedding.weights(from: n, to: m, resize) {
                    let total: Double = taps.map(\.1).reduce(0, +)
                    #expect(abs(total - 1) < 1e-9)
                    #expect(taps.allSatisfy { (0..<n).contains($0.0) })
                }
            }
        }
    }

    /// Parameter totals as timm and torchvision count them (`sum(p.numel() for p in model.parameters())`).
    static let totals: [(String, Int)] = [
        ("vit_b_16", 86_567_656), ("vit_tiny_patch16_224", 5_717_416), ("vit_small_patch32_224", 22_878_952),
        ("deit_tiny_patch16_224", 5_717_416), ("deit_tiny_distilled_patch16_224", 5_910_800),
        ("vit_small_patch14_dinov2", 22_056_192), ("vit_small_patch14_reg4_dinov2", 22_057_344),
        ("vit_base_patch16_clip_224", 86_568_424),
    ]

    @Test(arguments: totals)
    func namedModelsHaveTheFrameworksParameterTotals(_ row: (String, Int)) throws {
        let model = try Architecture.named(row.0).build(generator: .structureOnly())
        #expect(model.parameterCount == row.1, "\(row.0): \(model.parameterCount) parameters, the framework \(row.1)")
    }

    /// Settings that make no transformer are refused before anything is built.
    @Test func impossibleSettingsAreRefused() {
        #expect(throws: ModelError.self) { try SelfAttention(width: 10, heads: 3, generator: .structureOnly()) }
        #expect(throws: ModelError.self) { try PositionEmbedding(prefix: 1, grid: (100_000, 2), width: 8, generator: .structureOnly()) }
        #expect(throws: ModelError.self) { try PrefixTokens(count: 0, width: 8, generator: .structureOnly()) }
        #expect(throws: ModelError.self) { try TokenPool(.token(-1)) }
    }
}
