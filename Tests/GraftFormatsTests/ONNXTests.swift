import Foundation
import Testing
@testable import GraftFormats
@testable import GraftModels
import GraftNN
import GraftTensor

func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? .infinity
}

@Suite("ONNX graphs and the ResNet-18 exports")
struct ONNXTests {
    @Test func ppocrClassifierMatchesOnnxruntime() throws {
        let path = examples.appendingPathComponent("models/ppocr-cls.onnx").path
        #expect(formatMessage { try ModelFiles.load(path) } == "cannot load \(path): the input 'x' has free dimensions [?, 3, ?, ?]; give its size with input=CxHxW")
        let model = try ModelFiles.load(path, inputShape: [3, 48, 192])
        // 133,628 weight values in the file's Constant nodes: parameters plus BatchNorm statistics.
        #expect(model.parameterCount + model.buffers.reduce(0) { $0 + $1.tensor.count } == 133_628)
        let kinds = Set(model.nodes.map(\.layer.kind))
        for kind in ["Conv", "BatchNormalization", "ReLU", "ReLU6", "Add", "Multiply", "Div", "Clip", "Rescaling", "MaxPool2d", "GlobalAvgPool2d", "Reshape", "MatMul", "Softmax"] {
            #expect(kinds.contains(kind), "missing \(kind)")
        }
        let output = try model.predict(try npy("ppocr_input.npy"))
        let expected = try npy("ppocr_output.npy")
        #expect(output.shape == expected.shape)
        #expect(maxDifference(output, expected) <= 1e-4, "max |Δ| \(maxDifference(output, expected)) against onnxruntime")
    }

    @Test func resnet18FromPyTorchZipMatchesPyTorch() throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("resnet18.pth").path)
        #expect(model.architecture == "resnet18" && model.parameterCount == 11_181_642)
        try model.setInputShape([3, 64, 64])
        let logits = try model.predict(try npy("resnet18_input.npy"))
        let expected = try npy("resnet18_logits.npy")
        #expect(maxDifference(logits, expected) <= 1e-4 * max(1, expected.scalars.map(abs).max() ?? 1), "max |Δ| \(maxDifference(logits, expected))")
    }

    @Test func resnet18FromTorchOnnxExportMatchesOnnxruntime() throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("resnet18.onnx").path, inputShape: [3, 64, 64])
        #expect(model.parameterCount == 11_181_642)
        let logits = try model.predict(try npy("resnet18_input.npy"))
        let expected = try npy("resnet18_onnx_logits.npy")
        #expect(maxDifference(logits, expected) <= 1e-4 * max(1, expected.scalars.map(abs).max() ?? 1), "max |Δ| \(maxDifference(logits, expected))")
    }
}
