import Foundation
import Testing
@testable import GraftFormats
@testable import GraftModels
import GraftNN
import GraftTensor

@Suite("safetensors from other tools")
struct SafeTensorsTests {
    @Test func halfAndBFloat16WeightsMapOntoABuiltInByName() throws {
        let path = formatsFixtures.appendingPathComponent("mnist_cnn_half.safetensors").path
        // Every key and shape fits mnist-cnn with 5 classes: it is recognized without arch=.
        let detected = try ModelFiles.load(path)
        #expect(detected.architecture == "mnist-cnn" && detected.outputShape == [5])
        let model = try ModelFiles.load(path, architecture: "mnist-cnn")
        #expect(model.outputShape == [5] && model.architecture == "mnist-cnn")
        let fc2 = try #require(model.nodes.first { $0.name == "fc2" }?.layer)
        #expect(fc2.parameters[0].parameter.value.scalars == (try npy("mnist_cnn_half.fc2.weight.npy")).scalars)
        #expect(fc2.parameters[1].parameter.value.scalars == (try npy("mnist_cnn_half.fc2.bias.npy")).scalars)
        let wrong = formatMessage { try ModelFiles.load(path, architecture: "resnet18") } ?? ""
        #expect(wrong.hasPrefix("cannot load \(path) as resnet18: 0 tensors loaded; missing from the file: bn1.weight, bn1.bias,"))
        #expect(wrong.contains("shape mismatch for conv1.weight: model expects [64,3,7,7], file has [32,1,3,3]"))
    }
}
