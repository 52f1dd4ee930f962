import Foundation
@testable import GraftData

/// Paths and expected values under `Tests/Fixtures/data/` (made by `make_fixtures.py` there).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/data").standardized.path

    static func path(_ relative: String) -> String { root + "/" + relative }

    struct Expected: @unchecked Sendable {  // immutable JSON values
        let images: [String: [String: Any]]
        let resize: [String: [String: Any]]
    }

    static let expected: Expected = {
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path("expected.json"))),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return Expected(images: [:], resize: [:])
        }
        return Expected(images: root["images"] as? [String: [String: Any]] ?? [:],
                        resize: root["resize"] as? [String: [String: Any]] ?? [:])
    }()

    static func floats(_ value: Any?) -> [Float] { (value as? [Double] ?? []).map(Float.init) }

    /// The error message thrown by `body`, or nil when it succeeds.
    static func message<T>(_ body: () throws -> T) -> String? {
        do { _ = try body(); return nil } catch { return "\(error)" }
    }
}
