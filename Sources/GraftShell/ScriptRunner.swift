import Foundation
import GraftFormats
import GraftTensor

/// Runs a script (a saved session or any file of commands) through a shell, line by line: the
/// same interpreter as the prompt. Stops at the first error (`FILE:LINE: error: …`) unless told to
/// keep going. With `verify`, compares each command's figures with the `#=>` lines under it: digit
/// for digit when the script was recorded in portable numerics and replays in them (on any x86-64
/// machine with AVX2 and FMA) or when the machine fingerprint matches the script's; within
/// tolerances derived from each figure otherwise (``compare(_:_:exact:scales:)``).
public struct ScriptRunner {
    public let shell: Shell
    public let verify: Bool
    public let keepGoing: Bool
    /// Print each command before its output (`> train epochs=5`).
    public let echo: Bool
    /// Called before each command runs and after it finished (for transcripts).
    public var willRun: ((Int, String) -> Void)? = nil
    public var didRun: ((Int, String, Shell.Outcome) -> Void)? = nil

    public init(shell: Shell, verify: Bool = false, keepGoing: Bool = false, echo: Bool = true) {
        self.shell = shell
        self.verify = verify
        self.keepGoing = keepGoing
        self.echo = echo
    }

    public struct Report: Sendable {
        public var commands = 0
        public var errors = 0
        public var identical = 0
        public var withinTolerance = 0
        public var mismatched = 0
        public var notes: [String] = []
        public var failure: String?
        public var verified: Bool
        public var sameMachine: Bool
        public var succeeded: Bool { errors == 0 && mismatched == 0 }

        public var summary: String {
            var text = "ran \(commands) command\(commands == 1 ? "" : "s")"
            if errors > 0 { text += ", \(errors) failed" }
            if verified {
                text += "; figures: \(identical) identical"
                if withinTolerance > 0 { text += ", \(withinTolerance) within tolerance (recorded on another machine or in other numerics: accuracies within ⌈√n/4⌉ of n samples, losses within 3 standard errors, weight digests not compared)" }
                if mismatched > 0 { text += ", \(mismatched) DIFFERENT" }
            }
            return text
        }
    }

    /// How deeply replays may nest (a script that replays a script that replays …).
    static let maxReplayDepth = 8

    /// A script's lines: "\n", "\r\n" (one Character in Swift: splitting on "\n" alone kept a CRLF
    /// script as one line) and a lone "\r" all end one.
    static func lines(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
    }

    public func run(path: String) throws -> Report {
        // A replay inside a replay: a script replaying itself, or a cycle, would recurse until the
        // stack overflows (taking the shell and its history with it).
        let identity = path == "-" ? "-" : URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let chain = (shell.replaying + [identity]).map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: " → ")
        if shell.replaying.contains(identity) { throw ShellError("replay: \(path) is already being replayed (\(chain))") }
        guard shell.replaying.count < Self.maxReplayDepth else { throw ShellError("replay: replays nest deeper than \(Self.maxReplayDepth) (\(chain))") }
        shell.replaying.append(identity)
        defer { shell.replaying.removeLast() }
        // The script's relative paths are its folder's.
        if path != "-" { shell.files.folders.append(URL(fileURLWithPath: shell.resolve(path)).deletingLastPathComponent().path) }
        defer { if path != "-" { shell.files.folders.removeLast() } }
        let text: String
        if path == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ShellError("cannot read \(path): no such file, or not UTF-8 text")
            }
        }
        return run(text: text, name: path == "-" ? "<stdin>" : path)
    }

    public func run(text: String, name: String) -> Report {
        let lines = Self.lines(text).map(String.init)
        let recordedMachine = lines.first { $0.hasPrefix("# machine: ") }.map { String($0.dropFirst("# machine: ".count)) }
        let sameMachine = recordedMachine == nil || recordedMachine == MachineFingerprint.current
        let recordedNumerics = lines.first { $0.hasPrefix("# numerics ") }.map { String($0.dropFirst("# numerics ".count)) }
        // Portable bits hold across machines for one version of graft's kernels.
        let sameVersion = recordedMachine.map { $0.hasSuffix("| graft \(graftVersion)") } ?? true
        let portableRecording = recordedNumerics?.hasPrefix("portable") == true && sameVersion
        var report = Report(verified: verify, sameMachine: sameMachine)
        var index = 0
        while index < lines.count {
            let line = lines[index]
            let number = index + 1
            index += 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            var expected: [String] = []
            while index < lines.count, lines[index].trimmingCharacters(in: .whitespaces).hasPrefix("#=>") {
                expected.append(String(lines[index].trimmingCharacters(in: .whitespaces).dropFirst(3)).trimmingCharacters(in: .whitespaces))
                index += 1
            }
            if echo { shell.print("> " + Terminal.visible(trimmed)) }
            willRun?(number, trimmed)
            let outcome = shell.execute(trimmed)
            didRun?(number, trimmed, outcome)
            report.commands += 1
            // Ctrl-C stops the script, not only the command it came during (the shell's flag stays
            // set until the prompt, so every later command would otherwise stop at once).
            let interrupted = shell.interruptRequested()
            func stopForInterrupt() -> Report {
                shell.print("\(name):\(number): interrupted (Ctrl-C); the script stops here, the lines after it were not run")
                report.failure = report.failure ?? "\(name):\(number): interrupted; the lines after it were not run"
                return report
            }
            if let error = outcome.error {
                report.errors += 1
                let message = shell.describe(error, line: trimmed, prefix: "\(name):\(number): ", promptWidth: 0)
                shell.print(message)
                report.failure = "\(name):\(number): \(error.message)"
                if interrupted { return stopForInterrupt() }
                if !keepGoing { return report }
                continue
            }
            if interrupted {
                report.errors += 1
                return stopForInterrupt()
            }
            if shell.quitRequested { break }
            guard verify, !expected.isEmpty else { continue }
            // Portable numerics give the same bits everywhere: a difference there is a bug, never noise.
            // (bfloat16 products are the same bits only on one kind of CPU.)
            let portable = portableRecording && Numerics.current == .portable && Precision.current == .float32
            for (position, want) in expected.enumerated() {
                let got = position < outcome.figures.count ? outcome.figures[position] : "(nothing)"
                let scales = position < outcome.scales.count ? outcome.scales[position] : [:]
                switch compare(got, want, exact: sameMachine || portable, scales: scales) {
                case .identical: report.identical += 1
                case let .within(note):
                    report.withinTolerance += 1
                    report.notes.append("\(name):\(number): \(note)")
                    shell.print("\(name):\(number): \(note)")
                case let .different(note):
                    report.mismatched += 1
                    let why = portable && !sameMachine
                        ? " (recorded and replayed in portable numerics, which give the same bits on every x86-64 CPU with AVX2 and FMA: this is a bug in graft, please report it)"
                        : ""
                    shell.print("\(name):\(number): figure differs: \(note)\(why)")
                    report.failure = report.failure ?? "\(name):\(number): figure differs: \(note)\(why)"
                    if !keepGoing { return report }
                }
            }
        }
        return report
    }

    /// Rewrites a script with new `#=>` lines (`figures` by 1-based line number of their command) and
    /// the current machine in its header; comments and commands stay as they are. Atomic.
    public static func rewrite(path: String, figures: [Int: [String]], numerics: Numerics = .portable) throws {
        let numericsLine = "# numerics " + SessionRecord.label(numerics)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var out: [String] = []
        var sawMachine = false
        for (offset, line) in lines(text).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("#=>") { continue }
            if trimmed.hasPrefix("# numerics ") { continue }
            if trimmed.hasPrefix("# machine: ") {
                out.append(numericsLine)
                out.append("# machine: \(MachineFingerprint.current)")
                sawMachine = true
                continue
            }
            out.append(String(line))
            for figure in figures[offset + 1] ?? [] { out.append("#=> " + figure) }
        }
        if !sawMachine {
            let insertAt = out.firstIndex { !$0.hasPrefix("#") } ?? 0
            out.insert(contentsOf: [numericsLine, "# machine: \(MachineFingerprint.current)"], at: insertAt)
        }
        try writeAtomically(Data(out.joined(separator: "\n").utf8), to: URL(fileURLWithPath: path))
    }

    enum Comparison: Equatable { case identical, within(String), different(String) }

    /// Exact when the bits must match (`exact`: the same machine, or portable numerics); otherwise
    /// each differing number is compared by what it is:
    /// - an accuracy over n samples (``FigureScale/samples(_:)``): as a count of samples, at most
    ///   ⌈√n / 4⌉ apart (1 of 16, 3 of 100, 6 of 500, 13 of 2,000, 25 of 10,000): the bound grows
    ///   with √n as the spread between two runs whose rounding differs does;
    /// - a loss with a standard error s (``FigureScale/standardError(_:)``: the spread of its batch
    ///   or sample losses / √count): within 3 s (and never tighter than 1e-4, the printed digits);
    /// - without a scale: accuracies within 0.5 pt, learning rates (`steep_lr`) within a factor of 2
    ///   (a step or two of the range test's grid), any other decimal (losses, probabilities, means)
    ///   within 5 % (or 0.01);
    /// - weight digests, sample lists and positions (`weights`, `digest`, `sample(s)`, `pairs`,
    ///   `peak`, `misclassified`) are not compared; everything else exactly.
    /// Each note says which rule it applied.
    func compare(_ got: String, _ want: String, exact: Bool, scales: [String: FigureScale] = [:]) -> Comparison {
        if got == want { return .identical }
        let a = got.split(separator: " ").map(String.init), b = want.split(separator: " ").map(String.init)
        guard !exact, a.count == b.count else { return .different("got '\(got)', recorded '\(want)'") }
        var notes: [String] = []
        var i = 0
        while i < a.count {
            if a[i] == b[i] { i += 1; continue }
            let name = i > 0 ? a[i - 1] : ""
            if ["weights", "digest", "sample", "samples", "pairs", "peak", "misclassified"].contains(name) {
                notes.append("\(name == "weights" ? "weights digest" : name) differs (not compared across machines)"); i += 1; continue
            }
            guard let x = Double(a[i]), let y = Double(b[i]) else { return .different("got '\(got)', recorded '\(want)'") }
            let pair = "\(name) \(a[i]) vs recorded \(b[i])"
            switch scales[name] {
            case let .samples(n)? where n > 0:
                let apart = Int((abs(x - y) * Double(n)).rounded())
                let bound = Self.sampleBound(n)
                let rule = "\(apart) of \(n) samples apart, bound ⌈√\(n)/4⌉ = \(bound)"
                guard apart <= bound else { return .different("\(pair): \(rule)") }
                notes.append("\(pair): \(rule)")
            case let .standardError(se)?:
                let bound = Swift.max(3 * se, 1e-4)
                let rule = String(format: "%.2g apart, bound 3 × its standard error %.2g = %.2g", abs(x - y), se, bound)
                guard abs(x - y) <= bound + 1e-9 else { return .different("\(pair): \(rule)") }
                notes.append("\(pair): \(rule)")
            default:
                if name.contains("accuracy") || name.hasPrefix("top") {
                    guard abs(x - y) <= 0.005 + 1e-9 else { return .different("\(pair): more than 0.5 pt apart (no sample count recorded)") }
                    notes.append("\(pair): within 0.5 pt (no sample count recorded)")
                } else if name.hasSuffix("_lr") {
                    guard x > 0, y > 0, max(x / y, y / x) <= 2 else { return .different("\(pair): more than a factor of 2 apart") }
                    notes.append("\(pair): within a factor of 2")
                } else if a[i].contains(".") || b[i].contains(".") || a[i].contains("e") {
                    guard abs(x - y) <= max(0.01, 0.05 * abs(y)) else { return .different("\(pair): more than 5 % apart") }
                    notes.append("\(pair): within 5 %")
                } else {
                    return .different(pair)
                }
            }
            i += 1
        }
        return .within(notes.joined(separator: "; "))
    }

    /// How many samples of n two runs whose rounding differs may disagree on: ⌈√n / 4⌉, at least 1.
    static func sampleBound(_ n: Int) -> Int { Swift.max(1, Int((Double(n).squareRoot() / 4).rounded(.up))) }
}

/// What a figure's number is over, for comparing it with a run whose rounding differs (native
/// numerics, another machine): how far such a run may honestly land.
public enum FigureScale: Sendable, Equatable {
    /// A fraction of this many samples (an accuracy): compared as a count of samples.
    case samples(Int)
    /// A mean with this standard error (a loss over batches or samples).
    case standardError(Double)
}
