import Foundation
import Testing
@testable import GraftFormats
@testable import GraftModels
import GraftNN
import GraftTensor

let formatsFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/formats").standardized
let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Examples").standardized

func npy(_ name: String) throws -> Tensor {
    let array = try NumPyArray(data: Data(contentsOf: formatsFixtures.appendingPathComponent(name)))
    return try Tensor(shape: array.shape, scalars: array.values)
}

func formatMessage<T>(_ body: () throws -> T) -> String? {
    do { _ = try body(); return nil } catch { return "\(error)" }
}

@Suite("PyTorch checkpoints")
struct PyTorchTests {
    @Test func efficientNetLite0MatchesPyTorch() throws {
        let model = try ModelFiles.load(examples.appendingPathComponent("models/efficientnet-lite0.pth").path)
        #expect(model.architecture == "efficientnet-lite0" && model.parameterCount == 4_652_008)
        #expect(model.classNames.first == "tench" && model.classNames.count == 1000)
        let logits = try model.predict(try npy("lite0_input.npy"))
        let expected = try npy("lite0_logits.npy")
        let worst = zip(logits.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 1
        #expect(worst <= 1e-4 * max(1, expected.scalars.map(abs).max() ?? 1), "max |Δ| \(worst) against PyTorch")
        #expect(try logits.argmax(axis: 1).scalars == expected.argmax(axis: 1).scalars)
    }

    @Test func zipFormatWithViewsOffsetsHalfAndScalars() throws {
        let state = try PyTorchCheckpoint.read(Data(contentsOf: formatsFixtures.appendingPathComponent("tiny_zip.pth")), name: "tiny_zip.pth")
        #expect(state.tensors.map(\.name) == ["permuted.weight", "offset.weight", "half.weight", "counter"])
        for (name, tensor) in state.tensors {
            let expected = try npy("tiny_zip.\(name).npy")
            #expect(tensor.shape == expected.shape && tensor.scalars == expected.scalars, "\(name)")
        }
    }

    @Test func legacyCheckpointKeysShapesAndStrides() throws {
        let data = try Data(contentsOf: examples.appendingPathComponent("models/efficientnet-lite0.pth"), options: .alwaysMapped)
        #expect(PyTorchCheckpoint.isLegacy(data))
        let state = try PyTorchCheckpoint.read(data, name: "lite0")
        #expect(state.tensors.count == 296)
        #expect(state["_conv_stem.weight"]?.shape == [32, 3, 3, 3])
        #expect(state["_blocks.0._bn1.num_batches_tracked"]?.shape == [])
        // _fc.weight is stored as TF's [in][out]: element [o, i] sits at storage index i·1000 + o.
        let fc = try #require(state["_fc.weight"])
        #expect(fc.shape == [1000, 1280])
    }
}
