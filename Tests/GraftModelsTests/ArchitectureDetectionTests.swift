import Foundation
import Testing
@testable import GraftFormats
@testable import GraftModels
import GraftNN
import GraftTensor

/// A state dict names its architecture only through its keys and shapes: graft compares every key
/// and shape with each built-in candidate, reads the class count from the classifier, and names the
/// closest when none fits exactly (never a guess followed by "0 tensors loaded").
@Suite("Architecture detection from state dicts")
struct ArchitectureDetectionTests {
    static func stateDict(_ name: String, classes: Int = 1000, dropping: Set<String> = []) throws -> StateDict {
        let model = try Architecture.named(name).build(classes: classes, generator: .structureOnly())
        let tensors = model.parameters.map { ($0.key, $0.parameter.value) } + model.buffers.map { ($0.key, $0.tensor) }
        return StateDict(tensors: tensors.filter { !dropping.contains($0.0) })
    }

    static func save(_ state: StateDict, _ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("graft-detect-\(UUID().uuidString)-\(name).safetensors").path
        try SafeTensors.encode(state).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: ["resnet34", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "efficientnet_b0", "mobilenetv2", "mobilenet_v3_small",
                      "mnasnet0_5", "shufflenet_v2_x0_5", "squeezenet1_1", "densenet121", "regnet_y_400mf", "convnext_tiny", "googlenet", "inception_v3", "vgg11_bn"])
    func eachArchitectureIsRecognizedWithItsClassCount(_ name: String) throws {
        let fits = Architecture.fits(try Self.stateDict(name, classes: 7))
        let best = try #require(fits.first)
        #expect(best.architecture.rawValue == name && best.isExact && best.classes == 7,
                "\(name) taken for \(best.architecture.rawValue) (\(best.matching) of \(best.expected), \(best.classes) classes)")
    }

    @Test func aNearMissNamesTheClosestArchitecture() throws {
        let state = try Self.stateDict("resnet50", dropping: ["layer4.2.conv3.weight"])
        let path = try Self.save(state, "resnet50-cut")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let message = formatMessage { try ModelFiles.load(path) }
        #expect(message == "cannot load \(path): unknown architecture; the closest is resnet50 (266 of 267 tensors match); say which with arch=NAME")
        // A wrong arch= says what does not fit.
        let full = try Self.save(try Self.stateDict("resnet50"), "resnet50")
        defer { try? FileManager.default.removeItem(atPath: full) }
        #expect(formatMessage { try ModelFiles.load(full, architecture: "resnet34") }?.hasPrefix("cannot load \(full) as resnet34: 0 tensors loaded") == true)
        let model = try ModelFiles.load(full)
        #expect(model.architecture == "resnet50" && model.parameterCount == 25_557_032)
    }
}
