import Foundation
import GraftData
import GraftNN
import GraftTensor

/// The session so far: the commands that succeeded and changed state (or produced figures), each
/// with the figures it produced, saved as a plain-text script that replays to the same numbers.
public struct SessionRecord: Sendable {
    public struct Entry: Sendable {
        public let line: String
        public let figures: [String]
        /// The folder the line's relative paths were resolved against when it ran.
        public var folder: String = FileManager.default.currentDirectoryPath
    }
    public private(set) var entries: [Entry] = []
    public let started: Date
    /// The numerics the session started in (later `set numerics=` lines are among its commands).
    public let numerics: Numerics
    /// The precision of its products when it started (later `set precision=` lines are among its commands).
    public let precision: Precision

    public init(started: Date = Date(), numerics: Numerics = Numerics.current, precision: Precision = Precision.current) {
        self.started = started
        self.numerics = numerics
        self.precision = precision
    }

    mutating func append(_ line: String, figures: [String], folder: String) { entries.append(Entry(line: line, figures: figures, folder: folder)) }

    /// Forgets the commands after the first `count` (those a failed command ran on its way).
    mutating func truncate(to count: Int) { if entries.count > count { entries.removeLast(entries.count - count) } }

    /// How a session header names numerics: `portable-avx2`, or `native (blas Zen)` with OpenBLAS's kernel set.
    static func label(_ numerics: Numerics) -> String {
        numerics == .portable ? Numerics.portableLabel : "native (blas \(MachineFingerprint.blasCore))"
    }

    /// The script: a header comment (version, date, seed, threads, numerics, machine fingerprint), then one
    /// command per line with `#=>` lines under the commands that produced figures.
    /// `line` gives each entry's line as the file holds it (paths relative to the file's folder).
    public func script(seed: UInt64, threads: Int, line: (Entry) -> String = { $0.line }) -> String {
        let date = ISO8601DateFormatter().string(from: started).prefix(10)
        var lines = [
            "# graft session, written by graft \(graftVersion) on \(date)",
            "# seed \(seed), threads \(threads)",
            "# numerics \(Self.label(numerics))",
            "# machine: \(MachineFingerprint.current)",
            "# replay: graft run FILE (add --verify to check the figures under #=>)",
        ]
        // A session replays from its own seed and thread count.
        let commands = entries.map(\.line)
        if !commands.contains(where: { $0.hasPrefix("seed ") }) { lines.append("seed \(seed)") }
        if !commands.contains(where: { $0.hasPrefix("set threads=") }) { lines.append("set threads=\(threads)") }
        if numerics != .portable { lines.append("set numerics=\(numerics.rawValue)") }
        if precision != .float32 { lines.append("set precision=\(precision.rawValue)") }
        for entry in entries {
            lines.append(line(entry))
            lines += entry.figures.map { "#=> " + $0 }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// What decides whether two runs in native numerics give identical digits: the CPU, the BLAS kernel
/// set, graft's version. (In portable numerics only graft's version does: see `Numerics`.)
public enum MachineFingerprint {
    public static var current: String {
        "\(cpuModel) | blas \(blasCore) | graft \(graftVersion)"
    }

    static var cpuModel: String { CPUFeatures.modelName }

    static var blasCore: String { EngineInfo.blasCoreName }
}
