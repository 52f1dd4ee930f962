import Foundation
import Testing
@testable import GraftFormats
@testable import GraftModels
import GraftNN
import GraftTensor

@Suite("Keras HDF5 models")
struct KerasTests {
    func expectClose(_ actual: Tensor, _ expected: Tensor, _ what: String) {
        #expect(actual.shape == expected.shape, "\(what) shape")
        let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 1
        #expect(worst <= 1e-4, "\(what): max |Δ| \(worst) against Keras")
    }

    @Test func ferEmotionMatchesKeras() throws {
        let model = try ModelFiles.load(examples.appendingPathComponent("models/fer-emotion.h5").path)
        #expect(model.inputShape == [1, 64, 64] && model.outputShape == [7])
        // Keras counts 58,423 parameters, 1,472 of them the BatchNorm moving statistics (graft's buffers).
        #expect(model.parameterCount == 56_951)
        #expect(model.buffers.reduce(0) { $0 + $1.tensor.count } == 1_472)
        #expect(model.nodes.map(\.name).contains("separable_conv2d_1") && model.nodes.map(\.name).contains("conv2d_7"))
        expectClose(try model.predict(try npy("fer_input.npy")), try npy("fer_output.npy"), "fer-emotion probabilities")
    }

    @Test func everyImportedLayerTypeMatchesKeras() throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("keras_layers.h5").path)
        let kinds = Set(model.nodes.map(\.layer.kind))
        for kind in ["Rescaling", "ZeroPad2d", "Conv2d", "BatchNorm2d", "ReLU6", "SeparableConv2d", "LeakyReLU", "Concat", "GlobalAvgPool2d",
                     "Sigmoid", "Reshape", "Multiply", "AvgPool2d", "MaxPool2d", "GlobalMaxPool2d", "Permute", "Flatten", "Tanh", "Dropout",
                     "Linear", "BatchNorm1d", "SiLU", "Add", "Softmax"] {
            #expect(kinds.contains(kind), "missing \(kind)")
        }
        expectClose(try model.predict(try npy("keras_layers_input.npy")), try npy("keras_layers_output.npy"), "keras_layers output")
    }

    /// A Keras 3 model (make_keras3_fixtures.py) saved both ways: a `.keras` archive, whose variables
    /// are found by Keras's snake-case keys, and a Keras 3 `.h5`, which names a depthwise kernel
    /// `kernel`; a nested Sequential, `scale=False`, `keepdims`, `x + 3.0`, hard-silu and hard-sigmoid.
    @Test(arguments: ["keras3_layers.keras", "keras3_layers.h5"])
    func keras3FilesMatchKeras(_ file: String) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent(file).path)
        // Keras counts 1,061: 1,013 parameters and 48 moving statistics (no γ for scale=False).
        #expect(model.parameterCount == 1_013 && model.buffers.reduce(0) { $0 + $1.tensor.count } == 48)
        #expect(model.nodes.contains { $0.name == "nested.layer_normalization" || $0.layer is LayerNorm })
        expectClose(try model.predict(try npy("keras3_layers_input.npy")), try npy("keras3_layers_output.npy"), file)
    }

    @Test func hdf5StorageVariants() throws {
        let file = try HDF5File(data: Data(contentsOf: formatsFixtures.appendingPathComponent("h5_chunked.h5")), source: "h5_chunked.h5")
        let chunked = try file.dataset(at: try file.address(of: "chunked"), name: "chunked")
        #expect(chunked.shape == [10, 15] && chunked.values == (0..<150).map { Float($0) / 7 })
        #expect(try file.dataset(at: try file.address(of: "compact"), name: "compact").values == [1.5, -2.5, 3.25])
        #expect(try file.dataset(at: try file.address(of: "integers"), name: "integers").values == [1, -2, 300, 4])
        #expect(try file.dataset(at: try file.address(of: "doubles"), name: "doubles").values == [0.1, 0.2])
        let nested = try file.attributes(of: try file.address(of: "group/nested"))
        #expect(nested["note"]?.string == "variable-length string" && nested["names"]?.strings == ["alpha", "beta"])
        #expect(formatMessage { try file.address(of: "group/missing") } == "hdf5: h5_chunked.h5 path 'group/missing': no member 'missing'")
    }

    @Test func codeAndExternalStorageAreRefusedByName() {
        let folder = MalformedTests.folder
        let lambda = folder.appendingPathComponent("keras_lambda.h5").path
        #expect(formatMessage { try ModelFiles.load(lambda) }
                == "cannot load \(lambda): layer 'double' of class Lambda is not supported (it would run code; graft never runs code from a model file)")
        let external = folder.appendingPathComponent("h5_external.h5")
        let file = try? HDF5File(data: Data(contentsOf: external), source: "h5_external.h5")
        #expect(formatMessage { try file?.dataset(at: try file!.address(of: "outside"), name: "outside") }
                == "hdf5: unsupported external storage of dataset 'outside' in h5_external.h5")
        #expect(formatMessage { try HDF5File(data: Data("not hdf5".utf8), source: "x.h5") } == "hdf5: x.h5 superblock: no HDF5 signature (not an HDF5 file)")
    }

    @Test func truncatedHDF5NeverCrashes() throws {
        let data = try Data(contentsOf: examples.appendingPathComponent("models/fer-emotion.h5"))
        for length in stride(from: 0, to: data.count, by: data.count / 47) {
            _ = try? KerasImporter.load(data.prefix(length), name: "cut.h5", modelName: "cut")
        }
        for position in stride(from: 0, to: 6000, by: 71) {
            var corrupted = data
            corrupted[position] ^= 0xA5
            _ = try? KerasImporter.load(corrupted, name: "flipped.h5", modelName: "flipped")
        }
    }
}
