import Foundation
import Testing
@testable import GraftFormats
@testable import GraftModels
import GraftNN
import GraftTensor

/// GroupNorm against the frameworks (fixtures from make_groupnorm_fixtures.py): PyTorch's
/// nn.GroupNorm as torch.onnx.export writes it at opset 17 (Reshape, InstanceNormalization,
/// Reshape, Mul, Add), ONNX's GroupNormalization at opset 18 (scale per group) and 21 (per channel),
/// and Keras 3's GroupNormalization in `.keras` and `.h5`.
@Suite("GroupNorm against PyTorch, ONNX and Keras")
struct GroupNormTests {
    func expectClose(_ actual: Tensor, _ expected: Tensor, _ what: String) {
        #expect(actual.shape == expected.shape, "\(what) shape \(actual.shape)")
        let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 2e-5 * (1 + (expected.scalars.map(abs).max() ?? 0)), "\(what): max |Δ| \(worst)")
    }

    @Test func pytorchsOpset17ExportMatchesPyTorch() throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("groupnorm_torch17.onnx").path)
        // InstanceNormalization imports as a GroupNorm of one group per channel (here: per group of the reshaped value).
        #expect(model.nodes.filter { $0.layer.kind == "GroupNorm" }.count == 3)
        expectClose(try model.predict(try npy("groupnorm_input.npy")), try npy("groupnorm_torch_output.npy"), "torch opset 17")
    }

    @Test(arguments: [18, 21]) func onnxGroupNormalizationMatchesTheDefinition(_ opset: Int) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("groupnorm_opset\(opset).onnx").path)
        let norm = try #require(model.nodes.first { $0.layer.kind == "GroupNorm" }?.layer)
        #expect(norm.details == "3 groups, eps 1e-05" && norm.parameterCount == 12)
        expectClose(try model.predict(try npy("groupnorm_onnx_input.npy")), try npy("groupnorm_opset\(opset)_output.npy"), "opset \(opset)")
    }

    @Test(arguments: ["groupnorm_keras.keras", "groupnorm_keras.h5"]) func kerasGroupNormalizationMatchesKeras(_ file: String) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent(file).path)
        let norms = model.nodes.compactMap { $0.layer.kind == "GroupNorm" ? $0.layer : nil }
        #expect(norms.map(\.details) == ["4 groups, eps 0.001", "6 groups, eps 0.001"], "\(norms.map(\.details))")
        // Conv 3·3·3·8 + 8, γ and β of 8, conv 8·6 + 6, γ of 6 (center=False).
        #expect(model.parameterCount == 224 + 16 + 54 + 6)
        expectClose(try model.predict(try npy("groupnorm_keras_input.npy")), try npy("groupnorm_keras_output.npy"), file)
    }

    /// Refusals: groups that do not divide the channels, a scale of the wrong size for the opset.
    @Test func badGroupsAreRefusedByName() throws {
        #expect(throws: ModelError.self) { try GroupNorm(6, groups: 4) }
        #expect(throws: ModelError.self) { try GroupNorm(6, groups: 0) }
        var proto = try Onnx_ModelProto(serializedBytes: Data(contentsOf: formatsFixtures.appendingPathComponent("groupnorm_opset21.onnx")))
        proto.opsetImport[0].version = 18   // per-channel values where opset 18 wants one per group
        let message = formatMessage { try ONNXImporter.load(try proto.serializedData(), name: "t.onnx", modelName: "t", inputShape: nil) }
        #expect(message == "GroupNormalization 'gn': scale of 6 values, opset 18 needs 3", "\(message ?? "loaded")")
    }
}
