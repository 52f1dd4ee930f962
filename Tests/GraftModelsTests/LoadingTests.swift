import Foundation
import Testing
@testable import GraftFormats
@testable import GraftModels
import GraftNN
import GraftTensor

/// Loading in one pass: the file's tensors become the model's own (no second copy), the file's
/// pages go back to the kernel once decoded, and neither may change a single value.
@Suite("Loading in one pass")
struct LoadingTests {
    @Test func handingPagesBackNeverChangesBytesThatAreNotAFileMapping() {
        // Heap memory (Data read into memory, as tests and small files are): MADV_PAGEOUT keeps it.
        var bytes = [UInt8](repeating: 0, count: 3 << 20)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
        let data = Data(bytes)
        MappedPages.release(data, 0..<data.count)
        MappedPages.release(data, 4097..<(2 << 20))
        #expect([UInt8](data) == bytes)
    }

    @Test func aMappedFileReadsTheSameAfterItsPagesGoBack() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("graft-pages-\(getpid()).bin")
        defer { try? FileManager.default.removeItem(at: path) }
        let bytes = (0..<(2 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: path)
        let data = try Data(contentsOf: path, options: .alwaysMapped)
        #expect([UInt8](data) == bytes)
        MappedPages.release(data, 0..<data.count)
        #expect([UInt8](data) == bytes)
    }

    @Test func adoptedTensorsAreNeverSharedByTwoParameters() throws {
        let shared = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        let own = try Tensor(shape: [2, 2], scalars: [5, 6, 7, 8])
        let (a, b, c) = (Parameter(try .zeros([2, 2])), Parameter(try .zeros([2, 2])), Parameter(try .zeros([2, 2]), trainable: false))
        try Parameter.adoptAll([(a, shared, "a"), (b, shared, "b"), (c, own, "c")])
        #expect(a.value.storageIdentity == shared.storageIdentity)   // taken as it is
        #expect(b.value.storageIdentity != shared.storageIdentity)   // the second user gets a copy
        #expect(b.value.scalars == [1, 2, 3, 4] && c.value.scalars == [5, 6, 7, 8])
        #expect(a.value.requiresGrad && !c.value.requiresGrad)       // flags kept
        #expect(throws: ModelError.self) { try Parameter.adoptAll([(a, try .zeros([3]), "a")]) }
    }

    @Test func aTiedStateDictLoadsIntoSeparateParameters() throws {
        // Two keys on one storage (tied weights): loading must not tie the model's parameters.
        let model = try Architecture.named("mnist-cnn").build(classes: 10, generator: Generator(seed: 1))
        var tensors = model.parameters.map { ($0.key, $0.parameter.value.copied()) } + model.buffers.map { ($0.key, $0.tensor.copied()) }
        let first = try #require(tensors.indices.first { i in tensors.indices.contains { $0 > i && tensors[$0].1.shape == tensors[i].1.shape } })
        let second = try #require(tensors.indices.first { $0 > first && tensors[$0].1.shape == tensors[first].1.shape })
        tensors[second].1 = tensors[first].1
        try StateDictLoader.apply(StateDict(tensors: tensors), to: model, adopting: true)
        let identities = model.parameters.map { $0.parameter.value.storageIdentity }
        #expect(Set(identities).count == identities.count)
    }

    @Test func onnxWireErrorsAreRefusedWithTheirPlace() {
        func message(_ bytes: [UInt8]) -> String? { formatMessage { try ONNXFile(Data(bytes), source: "x.onnx") } }
        // A graph (field 7) claiming 2^40 bytes; a group wire type; field number 0; a varint of 11 bytes.
        #expect(message([0x3A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20])?.contains("a length-delimited field runs past its message") == true)
        #expect(message([0x0B])?.contains("wire type 3 is not used by ONNX") == true)
        #expect(message([0x02, 0x00])?.contains("field number 0 is out of range") == true)
        #expect(message([0x08] + [UInt8](repeating: 0xFF, count: 11))?.contains("a varint runs past its message") == true)
        // An initializer inside the graph that is cut short.
        #expect(message([0x3A, 0x03, 0x2A, 0x05, 0x00])?.contains("runs past its message") == true)
    }
}
