import Foundation
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

    @Test func readersNeverReadOutsideTheirBytes() throws {
        #expect(Checked.fits(0, 0, in: 0) && Checked.fits(4, 4, in: 8) && !Checked.fits(5, 4, in: 8))
        #expect(!Checked.fits(Int.max, 1, in: 8) && !Checked.fits(-1, 1, in: 8) && !Checked.fits(1, Int.max, in: 8))
        var cursor = ByteCursor(ByteView(data: Data([1, 2, 3])), at: Int.max, format: "hdf5", source: "x")
        #expect(formatMessage { try cursor.skip(1) }?.contains("0 remain (file is truncated)") == true)
        #expect(formatMessage { try Checked.add(Int.max, 1, or: .malformed(format: "f", where: "w", reason: "sum overflows")) } == "f: w: sum overflows")
    }
}
