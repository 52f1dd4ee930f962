import Foundation

/// W7: wall time from launching `graft run` on a two-line script (`new mnist-cnn`, `summary`) to its
/// exit, median of 20 launches. The release binary sits beside graft-bench.
func startup(_ options: Options) throws {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("graft").path
    guard FileManager.default.isExecutableFile(atPath: binary) else {
        print("W7: \(binary) not built (swift build -c release --product graft)")
        return
    }
    let script = FileManager.default.temporaryDirectory.appendingPathComponent("graft-startup-\(getpid()).graft")
    try "new mnist-cnn\nsummary\n".write(to: script, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: script) }
    func launch() throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", script.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let start = DispatchTime.now().uptimeNanoseconds
        try process.run()
        process.waitUntilExit()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    _ = try launch()
    let times = try (0..<20).map { _ in try launch() }
    reportTime("W7", "startup-summary", seconds: times)
}
