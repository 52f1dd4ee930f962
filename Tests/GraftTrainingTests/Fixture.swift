import Foundation

enum Fixture {
    /// The message of the error `body` throws (nil when it succeeds).
    static func message<T>(_ body: () throws -> T) -> String? {
        do { _ = try body(); return nil } catch { return "\(error)" }
    }

    /// A JSON fixture under Tests/Fixtures/ (empty when missing, so the tests that read it fail).
    static func json(_ relative: String) -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/\(relative)").standardized
        guard let data = try? Data(contentsOf: url), let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return root
    }

    /// A JSON array of numbers as Floats.
    static func floats(_ value: Any?) -> [Float] { (value as? [Double] ?? []).map(Float.init) }
}
