import Foundation
import Testing
@testable import GraftModels
@testable import GraftNN
import GraftTensor

/// Swin Transformers against torchvision, timm and Hugging Face (fixtures from make_swin_fixtures.py:
/// small Swin V1 models and a torchvision V2 with random weights and 3×3 windows), the window bookkeeping, and the named
/// models' parameter totals against the frameworks'.
@Suite("Swin transformers against torchvision, timm and Hugging Face")
struct SwinTransformerTests {
    func expectClose(_ actual: Tensor, _ expected: Tensor, _ what: String) {
        #expect(actual.shape == expected.shape, "\(what) shape \(actual.shape)")
        let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4 * (1 + (expected.scalars.map(abs).max() ?? 0)), "\(what): max |Δ| \(worst)")
    }

    /// (fixture, parameters as the framework counts them, what graft calls the architecture).
    static let fixtures: [(String, Int, String)] = [
        ("swin_torchvision.safetensors", 574_551, "swin-torchvision-16-2-2-2-2-w3"),
        ("swin_timm.safetensors", 574_551, "swin-timm-16-2-2-2-2-w3"),
        ("hf_swin", 574_293, "swin-hf-16-2-2-2-2-w3"),
        ("swin_v2_torchvision.safetensors", 595_175, "swinv2-torchvision-16-2-2-2-2-w3"),
    ]

    @Test(arguments: fixtures)
    func aCheckpointOpensAsItsFamilyAndMatchesTheFramework(_ row: (String, Int, String)) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent(row.0).path)
        #expect(model.architecture == row.2)
        #expect(model.parameterCount == row.1, "\(row.0): \(model.parameterCount) parameters, the framework \(row.1)")
        let name = row.0.replacingOccurrences(of: ".safetensors", with: "")
        expectClose(try model.predict(try npy("swin_input.npy")), try npy("\(name)_output.npy"), row.0)
    }

    /// At 56×52 the first map is 14×13: padded to 15×15 for 3×3 windows, shifted with the mask over
    /// the padding, an odd width merged; torchvision runs any size, and graft agrees with it.
    @Test(arguments: ["swin_torchvision", "swin_v2_torchvision"])
    func anotherSizePadsToWholeWindowsAsTorchvisionDoes(_ name: String) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("\(name).safetensors").path)
        #expect(model.freeInputAxes == [1, 2])
        expectClose(try model.predict(try npy("swin_input_56x52.npy")), try npy("\(name)_56x52_output.npy"), "\(name) at 56×52")
    }

    /// What torch.onnx.export writes for torchvision's and timm's Swin V1 and torchvision's V2, with
    /// both exporters (make_swin_onnx_fixtures.py): the windows merged with the batch stay a view of
    /// graft's nodes; the masks, tables and V2's position-bias MLP fold to constants.
    @Test(arguments: ["swin_torchvision", "swin_timm", "swin_v2_torchvision"].flatMap { ["\($0)_torch17", "\($0)_dynamo18"] })
    func torchOnnxExportsMatch(_ name: String) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("\(name).onnx").path)
        let expected = try npy("\(name.components(separatedBy: "_").dropLast().joined(separator: "_"))_onnx_output.npy")
        let x = try npy("swin_onnx_input.npy")
        expectClose(try model.predict(x), expected, name)
        expectClose(try model.predict(try x.sliced(axis: 0, start: 1, end: 2)), try expected.sliced(axis: 0, start: 1, end: 2), "\(name), one sample")
    }

    @Test func huggingFaceLabelsAndAConfigThatDisagreesIsRefused() throws {
        let folder = formatsFixtures.appendingPathComponent("hf_swin")
        let model = try ModelFiles.load(folder.path)
        #expect(model.classNames == ["cat", "dog", "bird"])
        let weights = try HuggingFaceFolder.weights(folder)
        var config = try #require(try HuggingFaceFolder.json(folder, "config.json"))
        config["window_size"] = 4
        #expect(throws: (any Error).self) { try HuggingFaceFolder.model(config: config, weights: weights, preprocessor: nil, name: "bad") }
        config["window_size"] = 3
        config["use_absolute_embeddings"] = true
        #expect(throws: (any Error).self) { try HuggingFaceFolder.model(config: config, weights: weights, preprocessor: nil, name: "bad") }
    }

    /// The windows' order is a permutation and `restore` undoes it; the shifted mask separates
    /// exactly the regions torchvision's slices make (a 4×4 map, 2×2 windows, shift 1: the last
    /// window holds one token of each of four regions).
    @Test func windowsArePermutationsAndTheMaskSeparatesTheRegions() throws {
        for rollFirst in [false, true] {
            let plan = WindowPlan(height: 5, width: 4, window: 2, shift: 1, rollFirst: rollFirst)
            #expect((plan.paddedHeight, plan.paddedWidth, plan.windows) == (6, 4, 6))
            #expect(plan.partition.sorted() == Array(0..<24))
            #expect(plan.partition.indices.allSatisfy { plan.restore[plan.partition[$0]] == $0 })
        }
        let plan = WindowPlan(height: 4, width: 4, window: 2, shift: 1, rollFirst: false)
        let mask = try #require(plan.mask())
        let last = Array(mask[(3 * 16)..<(4 * 16)])
        #expect(last == [0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0, -100, -100, -100, -100, 0])
        #expect(mask[0..<16].allSatisfy { $0 == 0 })
        // One window on an axis: no shift on it (and none at all on a map of one window).
        #expect(WindowPlan(height: 3, width: 9, window: 3, shift: 1, rollFirst: false).shiftY == 0)
        #expect(WindowPlan(height: 3, width: 3, window: 3, shift: 1, rollFirst: false).mask() == nil)
    }

    /// Parameter totals as torchvision and timm count them (`sum(p.numel() for p in model.parameters())`).
    @Test(arguments: [("swin_t", 28_288_354), ("swin_s", 49_606_258), ("swin_b", 87_768_224),
                      ("swin_v2_t", 28_351_570), ("swin_v2_s", 49_737_442), ("swin_v2_b", 87_930_848),
                      ("swin_tiny_patch4_window7_224", 28_288_354), ("swin_base_patch4_window7_224", 87_768_224)])
    func parameterTotalsEqualTheFrameworks(_ row: (String, Int)) throws {
        let architecture = try #require(Architecture(rawValue: row.0))
        let model = try architecture.build(classes: 1000, generator: .structureOnly())
        #expect(model.parameterCount == row.1)
    }

    /// `head` replaces the classifier at the pooled features.
    @Test func theHeadIsReplacedAtThePooledFeatures() throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("swin_timm.safetensors").path)
        _ = try model.replaceHead(classes: 4, generator: Generator(seed: 3))
        #expect(model.outputShape == [4])
        let x = try npy("swin_input.npy")
        let y = try model.predict(x)
        #expect(y.shape == [2, 4])
    }
}
