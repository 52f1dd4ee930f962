import Foundation
import Testing
@testable import GraftShell

/// Every session in Sessions/ replays with its figures verified, and its output equals the committed
/// golden transcript in Sessions/golden/ (elapsed times normalized, nothing else). To accept new
/// output after a deliberate change: GRAFT_RECORD_GOLDEN=1 swift test --filter SessionGoldenTests,
/// review the diff of Sessions/golden/, and run the tests again.
@Suite("Sessions replay to their golden transcripts", .serialized)
struct SessionGoldenTests {
    static let sessions: [String] = {
        let root = repositoryRoot().appendingPathComponent("Sessions")
        let files = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
        return files.filter { $0.hasSuffix(".graft") && !$0.hasPrefix("golden/") && !releaseOnly.contains($0) }.sorted()
    }()

    /// Sessions too slow for the test suite: scripts/check-notebook.sh replays them, verified (in CI,
    /// after the tests).
    static let releaseOnly: Set<String> = ["teaching.graft"]

    /// Elapsed times are the only thing that varies between runs on one machine.
    static func normalize(_ text: String) -> String {
        text.replacingOccurrences(of: #"in [0-9.]+ s \(caching [0-9.]+ s \+ training [0-9.]+ s\) \([0-9]+ images/s\)"#,
                                  with: "in <time> (caching <time> + training <time>)", options: .regularExpression)
            .replacingOccurrences(of: #"in [0-9.]+ s \([0-9]+ images/s\)"#, with: "in <time>", options: .regularExpression)
            .replacingOccurrences(of: #", [0-9.]+ s$"#, with: ", <time>", options: [.regularExpression])
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.replacingOccurrences(of: #", [0-9.]+ s$"#, with: ", <time>", options: .regularExpression) }
            .joined(separator: "\n")
    }

    /// On another machine the digits may differ (they are checked within tolerance by --verify): compare the
    /// rest, without the verifier's notes on them (`FILE:LINE: loss … within 5 %`, the closing tally of figures).
    static func maskNumbers(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0.range(of: #"^Sessions/[^ ]+\.graft:[0-9]+: "#, options: .regularExpression) == nil }
            .map { $0.replacingOccurrences(of: #"^(ran [0-9]+ commands); figures: .*$"#, with: "$1", options: .regularExpression) }
            .joined(separator: "\n")
            .replacingOccurrences(of: #"-?[0-9]+\.[0-9]+(e-?[0-9]+)?|\b[0-9a-f]{16}\b"#, with: "#", options: .regularExpression)
            .replacingOccurrences(of: "▇+", with: "▇", options: .regularExpression)
            .replacingOccurrences(of: "█+", with: "█", options: .regularExpression)
            .replacingOccurrences(of: " +", with: " ", options: .regularExpression)  // a bar's padding follows its length
    }

    @Test func thereAreSessions() { #expect(Self.sessions.count >= 3) }

    @Test(arguments: sessions)
    func replaysToItsGolden(_ relative: String) throws {
        let (shell, output) = makeShell()
        let path = "Sessions/" + relative
        let report = try ScriptRunner(shell: shell, verify: true, echo: true).run(path: path)
        shell.print(report.summary)
        #expect(report.succeeded, "\(report.failure ?? "")")
        let actual = Self.normalize(output.take())
        let golden = repositoryRoot().appendingPathComponent("Sessions/golden/\(relative).txt")
        if ProcessInfo.processInfo.environment["GRAFT_RECORD_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: golden, atomically: true, encoding: .utf8)
            Issue.record("recorded \(golden.path); review it and run the tests again without GRAFT_RECORD_GOLDEN")
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        if report.sameMachine {
            if actual != expected {
                let (a, e) = (actual.split(separator: "\n", omittingEmptySubsequences: false), expected.split(separator: "\n", omittingEmptySubsequences: false))
                let line = zip(a, e).enumerated().first { $0.element.0 != $0.element.1 }
                Issue.record("\(relative) differs from its golden at line \((line?.offset ?? min(a.count, e.count)) + 1):\n  got      \(line.map { String($0.element.0) } ?? "(end)")\n  expected \(line.map { String($0.element.1) } ?? "(end)")")
            }
        } else {
            #expect(Self.maskNumbers(actual) == Self.maskNumbers(expected), "\(relative): output differs beyond its figures")
        }
    }
}
