import Foundation
import Testing
@testable import GraftFormats
@testable import GraftModels
import GraftNN
import GraftTensor

func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? .infinity
}

/// A gzipped fixture (`NAME.gz`) inflated into a temporary file `NAME` that the caller removes.
func inflatedFixture(_ name: String) throws -> String {
    let packed = try Data(contentsOf: formatsFixtures.appendingPathComponent(name + ".gz"))
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("graft-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let path = directory.appendingPathComponent(name)
    try Inflate.decompress(packed, wrapping: .gzip, limit: 1 << 30, what: name).write(to: path)
    return path.path
}

@Suite("ONNX graphs and the ResNet-18 exports")
struct ONNXTests {
    @Test func ppocrClassifierMatchesOnnxruntime() throws {
        let path = examples.appendingPathComponent("models/ppocr-cls.onnx").path
        // Free height and width: it loads without input= (built for 224×224) and runs at the data's size.
        let free = try ModelFiles.load(path)
        #expect(free.describedInputShape == "3×?×?" && free.inputShape == [3, 224, 224])
        #expect(try free.predict(try npy("ppocr_input.npy")).shape == [2, 2])
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
        let path = try inflatedFixture("resnet18.pth")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let model = try ModelFiles.load(path)
        #expect(model.architecture == "resnet18" && model.parameterCount == 11_181_642)
        try model.setInputShape([3, 64, 64])
        let logits = try model.predict(try npy("resnet18_input.npy"))
        let expected = try npy("resnet18_logits.npy")
        // The fixture's logits differ between its two images (the features are not all zero).
        #expect(zip(expected.scalars.prefix(10), expected.scalars.dropFirst(10)).contains { abs($0 - $1) > 0.05 })
        #expect(maxDifference(logits, expected) <= 1e-4 * max(1, expected.scalars.map(abs).max() ?? 1), "max |Δ| \(maxDifference(logits, expected))")
    }

    @Test func resnet18FromTorchOnnxExportMatchesOnnxruntime() throws {
        let path = try inflatedFixture("resnet18.onnx")
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let model = try ModelFiles.load(path, inputShape: [3, 64, 64])
        #expect(model.parameterCount == 11_181_642)
        let logits = try model.predict(try npy("resnet18_input.npy"))
        let expected = try npy("resnet18_onnx_logits.npy")
        #expect(maxDifference(logits, expected) <= 1e-4 * max(1, expected.scalars.map(abs).max() ?? 1), "max |Δ| \(maxDifference(logits, expected))")
    }
}

@Suite("ONNX export")
struct ONNXExportTests {
    /// Export, import back, same outputs: every layer kind graft has goes through ONNX operators and back.
    func roundTrip(_ model: Model, input: Tensor) throws -> Float {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("graft-\(UUID().uuidString).onnx").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ModelFiles.save(model, to: path)
        let back = try ModelFiles.load(path)
        #expect(back.classNames == model.classNames)
        return maxDifference(try back.predict(input), try model.predict(input))
    }

    @Test func builtInsAndImportsRoundTrip() throws {
        let generator = Generator(seed: 3)
        let mnist = try Architecture.mnistCNN.build(classes: 5, generator: generator)
        try mnist.replaceHead(classes: 3, classNames: ["a", "b", "c"], hidden: [16], dropout: 0.1, generator: generator)
        #expect(try roundTrip(mnist, input: try Tensor.randomUniform([2, 1, 28, 28], generator: generator)) <= 1e-5)
        let resnet = try Architecture.resnet18.build(classes: 4, inputShape: [3, 32, 32], generator: generator)
        #expect(try roundTrip(resnet, input: try Tensor.randomUniform([2, 3, 32, 32], generator: generator)) <= 1e-4)
        let lite = try ModelFiles.load(examples.appendingPathComponent("models/efficientnet-lite0.pth").path)
        try lite.setInputShape([3, 96, 80])
        #expect(try roundTrip(lite, input: try Tensor.randomUniform([1, 3, 96, 80], low: -1, high: 1, generator: generator)) <= 1e-4)
        let fer = try ModelFiles.load(formatsFixtures.appendingPathComponent("keras_layers.h5").path)
        #expect(try roundTrip(fer, input: try npy("keras_layers_input.npy")) <= 1e-4)
        let ocr = try ModelFiles.load(examples.appendingPathComponent("models/ppocr-cls.onnx").path, inputShape: [3, 48, 192])
        #expect(try roundTrip(ocr, input: try npy("ppocr_input.npy")) <= 1e-5)
        let mobile = try Architecture.mobilenetV2.build(classes: 3, inputShape: [3, 32, 32], widthMultiplier: 0.5, generator: generator)
        #expect(try roundTrip(mobile, input: try Tensor.randomUniform([1, 3, 32, 32], generator: generator)) <= 1e-4)
    }

    @Test func everyLayerKindExports() throws {
        // gelu, silu, hardsigmoid, leaky relu, concat, multiply, zero padding, permute: a small graph of them.
        let generator = Generator(seed: 4)
        var b = try GraphBuilder(inputShape: [3, 8, 8])
        let a = try b.add("conv", Conv2d(3, 4, kernel: (3, 3), padding: .same, generator: generator))
        let g = try b.add("gelu", Activation(.gelu), a)
        let s = try b.add("silu", Activation(.silu), a)
        let h = try b.add("hsig", Activation(.hardsigmoid), a)
        let l = try b.add("leaky", Activation(.leakyRelu(0.1)), a)
        let m = try b.add("mul", Merge(.multiply), g, h)
        let c = try b.add("cat", Merge(.concatenate), m, s, l)
        let p = try b.add("pad", ZeroPadding2d(Padding2D(top: 1, bottom: 0, left: 0, right: 2)), c)
        let t = try b.add("perm", Permute([1, 2, 0]), p)
        let f = try b.add("flat", Flatten(), t)
        try b.add("fc", Dense(9 * 10 * 12, 2, generator: generator), f)
        let model = b.build(name: "kinds", architecture: "test", classNames: ["x", "y"])
        #expect(try roundTrip(model, input: try Tensor.randomUniform([2, 3, 8, 8], low: -3, high: 3, generator: generator)) <= 1e-4)
    }
}

/// torch.onnx.export's external data (`model.onnx` + `model.onnx.data`), made here from graft's own
/// export by moving each initializer's bytes into a side file, as the dynamo exporter lays them out.
@Suite("ONNX external data")
struct ONNXExternalDataTests {
    /// Writes `model` as FOLDER/m.onnx with its initializers' bytes in FOLDER/`location`; `edit`
    /// changes each external reference (to make hostile ones).
    func write(_ model: Model, in folder: URL, location: String = "m.onnx.data",
               edit: (inout [String: String], Int) -> Void = { _, _ in }) throws -> String {
        var proto = try Onnx_ModelProto(serializedBytes: try ONNXExporter.encode(model))
        var side = Data()
        for index in proto.graph.initializer.indices {
            var tensor = proto.graph.initializer[index]
            var entries = ["location": location, "offset": String(side.count), "length": String(tensor.rawData.count)]
            edit(&entries, index)
            side.append(tensor.rawData)
            side.append(Data(count: (64 - side.count % 64) % 64))  // aligned, as torch writes them
            tensor.rawData = Data()
            tensor.dataLocation = .external
            tensor.externalData = entries.sorted { $0.key < $1.key }.map { key, value in
                var entry = Onnx_StringStringEntryProto()
                (entry.key, entry.value) = (key, value)
                return entry
            }
            proto.graph.initializer[index] = tensor
        }
        try side.write(to: folder.appendingPathComponent("m.onnx.data"))
        let path = folder.appendingPathComponent("m.onnx")
        try proto.serializedData().write(to: path)
        return path.path
    }

    @Test func initializersInASideFileLoadAndMatch() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-external-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let generator = Generator(seed: 5)
        // ResNet-18 loads from a side file and matches; the refusals edit a small model's (each
        // write encodes the whole model again, which for ResNet-18 takes seconds in a debug build).
        let resnet = try Architecture.resnet18.build(classes: 4, inputShape: [3, 32, 32], generator: generator)
        let input = try Tensor.randomUniform([2, 3, 32, 32], generator: generator)
        let back = try ModelFiles.load(try write(resnet, in: folder))
        #expect(maxDifference(try back.predict(input), try resnet.predict(input)) <= 1e-4)
        #expect(back.parameterCount == resnet.parameterCount)
        let model = try Architecture.mnistCNN.build(classes: 4, inputShape: [1, 28, 28], generator: generator)

        func refusal(_ location: String = "m.onnx.data", edit: @escaping (inout [String: String], Int) -> Void = { _, _ in }) throws -> String {
            let path = try write(model, in: folder, location: location, edit: edit)
            do { _ = try ModelFiles.load(path); return "loaded" } catch { return "\(error)" }
        }
        #expect(try refusal("../m.onnx.data").contains("must be a file in the model's folder (no absolute path, no '..')"))
        #expect(try refusal("/etc/passwd").contains("must be a file in the model's folder"))
        #expect(try refusal("missing.data").contains("'missing.data': no such file beside the model"))
        #expect(try refusal("bad\nname").contains("must be a file in the model's folder"))
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("graft-outside-\(UUID().uuidString)")
        try Data(count: 1 << 20).write(to: outside)
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("link.data"), withDestinationURL: outside)
        #expect(try refusal("link.data").contains("'link.data' leads out of the model's folder (a symlink)"))
        #expect(try refusal { entries, index in if index == 3 { entries["offset"] = "9223372036854775800" } }.contains("lie past the end of 'm.onnx.data'"))
        #expect(try refusal { entries, index in if index == 3 { entries["length"] = "-4" } }.contains("length '-4' is not a size"))
        #expect(try refusal { entries, index in if index == 3 { entries["length"] = "4" } }.contains("raw data holds 4 bytes"))
        #expect(try refusal { entries, index in if index == 0 { entries["location"] = nil } }.contains("names no location"))
    }
}

/// Operators the dynamo exporter writes that the TorchScript one did not (opset 18+).
@Suite("ONNX opset 20")
struct ONNXOpset20Tests {
    /// A graph of one `Gelu` node on [N, 5] (with `approximate` when given).
    func geluGraph(approximate: String?) throws -> String {
        func info(_ name: String) -> Onnx_ValueInfoProto {
            var value = Onnx_ValueInfoProto()
            value.name = name
            var type = Onnx_TypeProto.Tensor()
            type.elemType = 1
            var shape = Onnx_TensorShapeProto()
            var batch = Onnx_TensorShapeProto.Dimension(); batch.dimParam = "N"
            var features = Onnx_TensorShapeProto.Dimension(); features.dimValue = 5
            shape.dim = [batch, features]
            type.shape = shape
            value.type.tensorType = type
            return value
        }
        var node = Onnx_NodeProto()
        (node.opType, node.name, node.input, node.output) = ("Gelu", "node_gelu", ["x"], ["y"])
        if let approximate {
            var attribute = Onnx_AttributeProto()
            (attribute.name, attribute.type, attribute.s) = ("approximate", .string, Data(approximate.utf8))
            node.attribute = [attribute]
        }
        var proto = Onnx_ModelProto()
        proto.irVersion = 9
        var opset = Onnx_OperatorSetIdProto(); opset.version = 20
        proto.opsetImport = [opset]
        (proto.graph.node, proto.graph.input, proto.graph.output) = ([node], [info("x")], [info("y")])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("graft-gelu-\(UUID().uuidString).onnx")
        try proto.serializedData().write(to: path)
        return path.path
    }

    /// Gelu (exact: x·Φ(x)) against the formula in Double; the tanh approximation refused by name.
    @Test func geluLoadsAndMatchesTheExactForm() throws {
        let path = try geluGraph(approximate: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let model = try ModelFiles.load(path)
        let x: [Float] = [-3, -1.5, -0.25, 0, 0.5, 1, 2, 4, -0.01, 7]
        let y = try model.predict(try Tensor(shape: [2, 5], scalars: x)).scalars
        for (a, b) in zip(x, y) {
            let want = 0.5 * Double(a) * (1 + Foundation.erf(Double(a) / 2.0.squareRoot()))
            #expect(abs(Double(b) - want) <= 1e-6 * max(1, abs(want)), "gelu(\(a)) = \(b), want \(want)")
        }
        let named = try geluGraph(approximate: "none")
        defer { try? FileManager.default.removeItem(atPath: named) }
        #expect(try ModelFiles.load(named).predict(try Tensor(shape: [2, 5], scalars: x)).scalars == y)
        let tanh = try geluGraph(approximate: "tanh")
        defer { try? FileManager.default.removeItem(atPath: tanh) }
        #expect(throws: (any Error).self) { try ModelFiles.load(tanh) }
        do { _ = try ModelFiles.load(tanh) } catch {
            #expect("\(error)".contains("Gelu 'node_gelu' with approximate='tanh' is not supported"), "\(error)")
        }
    }
}
