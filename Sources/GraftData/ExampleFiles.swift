import Foundation

/// Finds the files that ship in the repository's `Examples/` folder.
public enum ExampleFiles {
    /// `Examples/<relative>` from, in order: `$GRAFT_EXAMPLES`, the folders above the running executable
    /// (`.build/release/graft` → the checkout), and the folders above the working directory.
    public static func locate(_ relative: String) throws(DataError) -> String {
        let fileManager = FileManager.default
        var roots: [URL] = []
        if let override = ProcessInfo.processInfo.environment["GRAFT_EXAMPLES"] {
            roots.append(URL(fileURLWithPath: override))
        }
        for start in [URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent(),
                      URL(fileURLWithPath: fileManager.currentDirectoryPath)] {
            var folder = start.standardized
            for _ in 0..<6 {
                roots.append(folder.appendingPathComponent("Examples"))
                folder = folder.deletingLastPathComponent()
            }
        }
        for root in roots {
            let candidate = root.appendingPathComponent(relative).path
            if fileManager.isReadableFile(atPath: candidate) { return candidate }
        }
        throw .unreadable(path: "Examples/\(relative)", reason: "not found (set GRAFT_EXAMPLES to the Examples folder)")
    }
}
