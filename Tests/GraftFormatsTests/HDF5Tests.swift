import Foundation
import Testing
@testable import GraftFormats

@Suite("HDF5 reader")
struct HDF5Tests {
    static let emotion = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Examples/models/fer-emotion.h5").standardized

    @Test func kerasFileStructure() throws {
        let file = try HDF5File(data: Data(contentsOf: Self.emotion), source: "fer-emotion.h5")
        let root = try file.attributes(of: file.rootAddress)
        #expect(root["keras_version"]?.string == "2.0.5")
        #expect(root["backend"]?.string == "tensorflow")
        #expect(root["model_config"]?.string?.hasPrefix("{\"class_name\": \"Model\"") == true)
        let weights = try file.address(of: "model_weights")
        let layerNames = try file.attributes(of: weights)["layer_names"]?.strings ?? []
        #expect(layerNames.count == 46 && layerNames.first == "input_1" && layerNames.last == "predictions")
        let conv = try file.address(of: "model_weights/conv2d_1")
        #expect(try file.attributes(of: conv)["weight_names"]?.strings == ["conv2d_1_1/kernel:0"])
        let activation = try file.address(of: "model_weights/activation_1")
        #expect(try file.attributes(of: activation)["weight_names"]?.strings == [])
        let kernel = try file.dataset(at: try file.address(of: "model_weights/conv2d_1/conv2d_1_1/kernel:0"), name: "kernel")
        #expect(kernel.shape == [3, 3, 1, 8] && kernel.values.count == 72)
        #expect(try file.children(of: weights).count == 46)
    }
}
