import Foundation
import Synchronization
import Testing
@testable import GraftFormats
@testable import GraftModels
import GraftNN
import GraftTensor

/// Inputs built to break the readers (the fault-injection findings): each is refused with its own
/// error, never a trap, a stack overflow or an allocation the file does not back.
@Suite("Hostile inputs")
struct HostileInputTests {
    static func pickle(_ body: [UInt8]) -> String? {
        formatMessage { () throws -> PickleValue in
            var machine = PickleMachine(bytes: [0x80, 0x02] + body + [0x2E], source: "p.pkl")
            return try machine.load { _ throws(FormatError) in .none }
        }
    }

    @Test func deeplyNestedPickleValuesAreRefusedNotOverflowingTheStack() {
        // 10^5 tuples in tuples (TUPLE1), and 10^5 lists in lists (EMPTY_LIST … APPEND).
        #expect(Self.pickle([0x4E] + [UInt8](repeating: 0x85, count: 100_000))?.contains("values nest deeper than 256 levels") == true)
        #expect(Self.pickle([UInt8](repeating: 0x5D, count: 100_000) + [UInt8](repeating: 0x61, count: 99_999))?
            .contains("values nest deeper than 256 levels") == true)
        // 256 levels are fine.
        #expect(Self.pickle([0x4E] + [UInt8](repeating: 0x85, count: 255)) == nil)
    }

    @Test func aContainerCannotChangeOnceNested() {
        // L0 is memoized, put into L1, then appended to: its depth could no longer be trusted.
        let bytes: [UInt8] = [0x5D, 0x71, 0x00, 0x5D, 0x68, 0x00, 0x61, 0x68, 0x00, 0x4E, 0x61]
        #expect(Self.pickle(bytes)?.contains("APPEND to a list already nested in another value") == true)
    }

    @Test func aSizeOneAxisWithAHugeStrideIsAnOrdinaryView() throws {
        // Its stride is never taken (one element along it), so it must neither trap nor be refused.
        let path = MalformedTests.folder.appendingPathComponent("pth_size1_huge_stride.pth")
        let state = try PyTorchCheckpoint.read(try Data(contentsOf: path), name: "p.pth")
        #expect(state["w"]?.shape == [1, 2] && state["w"]?.scalars == [0, 0])
    }

    @Test func hdf5DatasetsMustBeBackedByTheirFile() throws {
        // A contiguous dataset at address 2^63 - 1 (trapped), and 2 GiB of chunks never written in a
        // 1.4 KB file (took 4.1 GB before it was refused).
        let far = MalformedTests.folder.appendingPathComponent("h5_far_address.h5")
        let farFile = try HDF5File(data: Data(contentsOf: far), source: "far.h5")
        #expect(formatMessage { try farFile.dataset(at: try farFile.address(of: "far"), name: "far") }
                == "hdf5: far.h5 dataset 'far': contiguous data of 16 bytes at 9223372036854775807 runs past the end of the file")
        let sparse = MalformedTests.folder.appendingPathComponent("h5_sparse_chunks.h5")
        let sparseFile = try HDF5File(data: Data(contentsOf: sparse), source: "sparse.h5")
        #expect(formatMessage { try sparseFile.tensor(at: try sparseFile.address(of: "sparse"), name: "sparse") }
                == "hdf5: sparse.h5 dataset 'sparse': declares 2147483648 bytes, its 0 chunks hold at most 0")
    }

    @Test func hdf5NumbersOfUnusualWidthsAreRefusedNotTrapped() throws {
        // Found by the hdf5 fuzz target (its crash input, committed as is): an attribute of 16-byte
        // integers trapped in the decoder's sign extension (64 − 8 × 16 is negative).
        let path = MalformedTests.folder.appendingPathComponent("fuzz_hdf5_wide_integer.h5")
        #expect(formatMessage { try ModelFiles.load(path.path) }
                == "cannot load \(path.path): hdf5: \(path.path) datatype: integers of 16 bytes are not supported (1, 2, 4 or 8)")
    }

    @Test func readersNeverReadOutsideTheirBytes() throws {
        #expect(Checked.fits(0, 0, in: 0) && Checked.fits(4, 4, in: 8) && !Checked.fits(5, 4, in: 8))
        #expect(!Checked.fits(Int.max, 1, in: 8) && !Checked.fits(-1, 1, in: 8) && !Checked.fits(1, Int.max, in: 8))
        var cursor = ByteCursor(ByteView(data: Data([1, 2, 3])), at: Int.max, format: "hdf5", source: "x")
        #expect(formatMessage { try cursor.skip(1) }?.contains("0 remain (file is truncated)") == true)
        #expect(formatMessage { try Checked.add(Int.max, 1, or: .malformed(format: "f", where: "w", reason: "sum overflows")) } == "f: w: sum overflows")
    }

    /// An ONNX export of the MNIST CNN with one thing changed by `edit`, as the importer sees it.
    static func editedONNX(_ edit: (inout Onnx_ModelProto) -> Void) throws -> String? {
        let model = try Architecture.named("mnist-cnn").build(classes: 3, generator: Generator(seed: 1))
        var proto = try Onnx_ModelProto(serializedBytes: try ONNXExporter.encode(model))
        edit(&proto)
        let data: Data = try proto.serializedBytes()
        return formatMessage { try ONNXImporter.load(data, name: "m.onnx", modelName: "m", inputShape: nil) }
    }

    @Test func onnxAttributesOfTheWrongLengthAreRefused() throws {
        let conv = try #require(try Self.editedONNX { proto in
            let index = proto.graph.node.firstIndex { $0.opType == "Conv" }!
            proto.graph.node[index].attribute.removeAll { $0.name == "strides" }
            proto.graph.node[index].attribute.append(ONNXWriter.attribute("strides", ints: [2]).proto)
        })
        #expect(conv.contains("Conv '") && conv.hasSuffix("strides [2] must have 2 values (graft imports 2-D Conv)"))
        let pool = try #require(try Self.editedONNX { proto in
            let index = proto.graph.node.firstIndex { $0.opType == "MaxPool" }!
            proto.graph.node[index].attribute.removeAll { $0.name == "kernel_shape" }
            proto.graph.node[index].attribute.append(ONNXWriter.attribute("kernel_shape", ints: [2, 2, 2]).proto)
        })
        #expect(pool.hasSuffix("kernel_shape [2, 2, 2] must have 2 values (graft imports 2-D MaxPool)"))
    }

    @Test func onnxAttributeAndConstantMutationsNeverTrap() throws {
        // Every integer attribute and every initializer of an export, set in turn to hostile values:
        // each file loads or is refused, and the process survives.
        let hostile: [Int64] = [Int64.min, -(1 << 62), -100, -1, 0, 1, 3, 1 << 31, Int64.max]
        let floats: [Float] = [.nan, .infinity, -.infinity, -1e30, 0, 1e30]
        let model = try Architecture.named("mnist-cnn").build(classes: 3, generator: Generator(seed: 1))
        let original = try Onnx_ModelProto(serializedBytes: try ONNXExporter.encode(model))
        var tried = 0
        for (n, node) in original.graph.node.enumerated() {
            for (a, attribute) in node.attribute.enumerated() {
                for value in hostile {
                    var proto = original
                    if attribute.ints.isEmpty { proto.graph.node[n].attribute[a].i = value } else {
                        proto.graph.node[n].attribute[a].ints = [value]
                        var copy = proto
                        copy.graph.node[n].attribute[a].ints = Array(repeating: value, count: attribute.ints.count)
                        _ = try? ONNXImporter.load(try copy.serializedBytes(), name: "m.onnx", modelName: "m", inputShape: nil)
                    }
                    _ = try? ONNXImporter.load(try proto.serializedBytes(), name: "m.onnx", modelName: "m", inputShape: nil)
                    tried += 1
                }
            }
        }
        for (i, initializer) in original.graph.initializer.enumerated() {
            for value in floats {
                var proto = original
                proto.graph.initializer[i].rawData = Data(repeating: 0, count: 0)
                proto.graph.initializer[i].floatData = Array(repeating: value, count: max(1, initializer.rawData.count / 4))
                _ = try? ONNXImporter.load(try proto.serializedBytes(), name: "m.onnx", modelName: "m", inputShape: nil)
                proto.graph.initializer[i].dims = [Int64.max]
                _ = try? ONNXImporter.load(try proto.serializedBytes(), name: "m.onnx", modelName: "m", inputShape: nil)
                tried += 2
            }
        }
        #expect(tried > 50)
    }

    /// A graft safetensors file of `model` whose graph description `edit` changed, as graft loads it.
    static func editedDescription(_ model: Model, _ edit: (String) -> String) throws -> String? {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("graft-description-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ModelFiles.save(model, to: path)
        var state = try SafeTensors.read(try Data(contentsOf: URL(fileURLWithPath: path)))
        state.metadata[ModelFiles.graphKey] = edit(try #require(state.metadata[ModelFiles.graphKey]))
        try SafeTensors.encode(state).write(to: URL(fileURLWithPath: path))
        return formatMessage { try ModelFiles.load(path) }
    }

    @Test func graphDescriptionsCannotOverflowOrAllocateWhatTheFileLacks() throws {
        // An input of [2^63 - 1, 28, 28] trapped in Flatten's shape product.
        let cnn = try Architecture.named("mnist-cnn").build(classes: 3, generator: Generator(seed: 1))
        let huge = try Self.editedDescription(cnn) { $0.replacingOccurrences(of: "\"shape\":[1,28,28]", with: "\"shape\":[9223372036854775807,28,28]") }
        #expect(huge?.contains("shape [9223372036854775807,28,28] has more than 2^32 elements") == true, "\(huge ?? "nil")")
        // A description of Input [2^31] → Dense(2^31, 2): 16 GiB of weights the file does not hold.
        // Refused without taking the memory (layers from a description start as lazily mapped zeros).
        var builder = try GraphBuilder(inputShape: [8])
        _ = try builder.add(try Dense(8, 2, generator: Generator(seed: 1)), name: "fc")
        let small = builder.build(name: "m", architecture: "custom")
        let before = Self.residentBytes()
        let dense = try Self.editedDescription(small) { text in
            text.replacingOccurrences(of: "\"shape\":[8]", with: "\"shape\":[2147483648]")
                .replacingOccurrences(of: "\"inFeatures\":8", with: "\"inFeatures\":2147483648")
        }
        #expect(dense?.contains("shape mismatch for fc.weight: model expects [2,2147483648], file has [2,8]") == true, "\(dense ?? "nil")")
        #expect(Self.residentBytes() - before < 1 << 30)
    }

    static func residentBytes() -> Int {
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return (Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0) * 1024
    }

    @Test func ctrlCStopsALoadBetweenTensors() throws {
        let state = StateDict(tensors: [("w", try Tensor(shape: [2], scalars: [1, 2])), ("b", try Tensor(shape: [1], scalars: [3]))])
        let data = try SafeTensors.encode(state)
        // Pressed for this test's task alone: the tests running beside it read on.
        Cancellation.$pressedHere.withValue(true) {
            #expect(formatMessage { try SafeTensors.read(data, name: "w.safetensors") } == "interrupted while reading w.safetensors (nothing was loaded)")
        }
        #expect(try SafeTensors.read(data, name: "w.safetensors")["w"]?.scalars == [1, 2])
    }

    /// Every reader asks between tensors: a Ctrl-C during `load` of any format stops it, and the
    /// model the shell had stays (the load never got as far as replacing it).
    @Test(arguments: ["efficientnet-lite0.pth", "fer-emotion.h5", "ppocr-cls.onnx"])
    func ctrlCStopsALoadOfEveryFormat(file: String) throws {
        let path = examples.appendingPathComponent("models/\(file)").path
        Cancellation.$pressedHere.withValue(true) {
            #expect(formatMessage { try ModelFiles.load(path) }?.contains("interrupted while reading") == true)
        }
        #expect(try ModelFiles.load(path).parameterCount > 0)
    }
}
