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
}
