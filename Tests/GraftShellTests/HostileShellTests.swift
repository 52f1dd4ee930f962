import Foundation
@testable import GraftTraining
import Testing
@testable import GraftShell
@testable import GraftNN

/// What a user can type or replay that used to kill the shell: replays that loop, CRLF scripts,
/// NaN in the numbers a bar is drawn from.
@Suite("Hostile commands and scripts", .serialized)
struct HostileShellTests {
    static func script(_ name: String, _ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("graft-hostile-\(getpid())-\(name)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aReplayThatLoopsIsAnErrorNamingTheChain() throws {
        let (shell, _) = makeShell()
        let selfish = try Self.script("self.graft", "")
        try "seed 3\nreplay \(selfish)\n".write(toFile: selfish, atomically: true, encoding: .utf8)
        let a = try Self.script("a.graft", ""), b = try Self.script("b.graft", "")
        try "replay \(b)\n".write(toFile: a, atomically: true, encoding: .utf8)
        try "replay \(a)\n".write(toFile: b, atomically: true, encoding: .utf8)
        defer { for path in [selfish, a, b] { try? FileManager.default.removeItem(atPath: path) } }
        let first = shell.execute("replay \(selfish)")
        #expect(first.error?.message.contains("is already being replayed (graft-hostile-\(getpid())-self.graft → graft-hostile-\(getpid())-self.graft)") == true)
        let second = shell.execute("replay \(a)")
        #expect(second.error?.message.contains("-a.graft → graft-hostile-\(getpid())-b.graft → graft-hostile-\(getpid())-a.graft)") == true)
        #expect(shell.replaying.isEmpty)                       // unwound
        #expect(shell.execute("seed 5").succeeded)             // and the shell goes on
    }

    @Test func crlfScriptsAreReadLineByLine() throws {
        let (shell, _) = makeShell()
        let path = try Self.script("crlf.graft", "seed 7\r\nnew mnist-cnn classes=3\r\n# a comment\r\nsummary\r\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try ScriptRunner(shell: shell).run(path: path)
        #expect(report.succeeded && report.commands == 3, "\(report.summary)")
        #expect(ScriptRunner.lines("a\r\nb\nc\rd").map(String.init) == ["a", "b", "c", "d"])
    }

    @Test func barsOfNaNAndInfinityAreDrawnNotTrapped() {
        #expect(Charts.cells(.nan, width: 30) == 0 && Charts.cells(.infinity, width: 30) == 30 && Charts.cells(-.infinity, width: 30) == 0)
        #expect(Charts.cells(0.5, width: 30) == 15 && Charts.cells(7, width: 30) == 30 && Charts.cells(-1, width: 30) == 0)
        func record(_ epoch: Int, _ loss: Float) -> EpochRecord {
            EpochRecord(epoch: epoch, loss: loss, accuracy: loss.isNaN ? .nan : 0.1, validationLoss: nil, validationAccuracy: nil,
                        learningRate: 0.1, seconds: 1, imagesPerSecond: 1)
        }
        let diverged = [record(1, 2.3), record(2, .nan)]
        #expect(Charts.text(diverged).contains("nan"))
    }

    @Test func commandsThatWouldTakeTooMuchMemorySaySoFirst() throws {
        let (shell, output) = makeShell()
        // 5,000 digits at 1024×1024: 5.2 GB, refused under a 4 GB limit before anything is resized.
        #expect(shell.execute("set memory=4").succeeded)
        let huge = shell.execute("data mnist size=1024")
        #expect(huge.error?.message == "data mnist at 1024×1024×1 would take 5.2 GB, more than the memory limit of 4.0 GB (set memory=GB changes it)")
        #expect(shell.datasets.isEmpty)
        // Above a gigabyte a command goes ahead with a note.
        #expect(shell.execute("set memory=3").succeeded)
        _ = output.take()
        try shell.reserve(2_000_000_000, for: "a big job")
        #expect(output.take().contains("note: a big job takes about 2.0 GB"))
        #expect(throws: ShellError.self) { try shell.reserve(3_000_000_001, for: "a bigger job") }
        shell.datasets.removeAll()
    }

    @Test func modelsAndHeadsThatWouldTakeTooMuchMemoryAreRefusedBeforeTheyAreBuilt() {
        let (shell, _) = makeShell()
        #expect(shell.execute("set memory=1").succeeded)
        // mnist-cnn's dense layer grows with the input: 3×1400×1400 is 2.0 G parameters (8.0 GB).
        let model = shell.execute("new mnist-cnn input=3x1400x1400")
        // Refused by the allocation budget at the layer that would take it, before it is mapped.
        #expect(model.error?.message == "new mnist-cnn: Linear: zeros: would take 8.0 GB, more than the memory limit of 1.0 GB (set memory=GB changes it)")
        #expect(shell.models.isEmpty)
        #expect(shell.execute("new mnist-cnn").succeeded)
        // Two hidden layers of 60,000 after the 4,608 flattened features: 3.9 G parameters, refused before either is built.
        let head = shell.execute("head classes=10 hidden=60000,60000")
        #expect(head.error?.message == "head: the new head would take 15.5 GB, more than the memory limit of 1.0 GB (set memory=GB changes it)")
        #expect(shell.models["mnist-cnn"]?.classNames.count == 10 && shell.models["mnist-cnn"]?.nodes.last?.name == "fc2")
        #expect(shell.execute("head classes=10 hidden=64").succeeded)
    }

    @Test func anImageFolderSaysWhatItWillTakeBeforeDecodingAnything() throws {
        let (shell, _) = makeShell()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("graft-images-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["ant", "bee"] {
            let classFolder = folder.appendingPathComponent("train/\(name)")
            try FileManager.default.createDirectory(at: classFolder, withIntermediateDirectories: true)
            for copy in 0..<3 {
                try FileManager.default.copyItem(atPath: repositoryRoot().appendingPathComponent("Tests/Fixtures/data/images/gray8.png").path,
                                                 toPath: classFolder.appendingPathComponent("\(copy).png").path)
            }
        }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("test/ant"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: repositoryRoot().appendingPathComponent("Tests/Fixtures/data/images/gray8.png").path,
                                         toPath: folder.appendingPathComponent("test/ant/0.png").path)
        // 7 images (train and test) at 3×1024×1024, twice over: 44 MB, over a limit of 40 MB.
        shell.memoryLimit = 40_000_000
        let refused = shell.execute("data images \(folder.path) size=1024")
        #expect(refused.error?.message == "data images: its 7 images at 3×1024×1024 would take 44 MB, more than the memory limit of 40 MB (set memory=GB changes it)")
        #expect(shell.datasets.isEmpty)
        shell.memoryLimit = 50_000_000
        #expect(shell.execute("data images \(folder.path) size=1024").succeeded)
    }

    @Test func aHugeHeadEvaluatesWithoutAHugeConfusionMatrix() throws {
        let (shell, _) = makeShell()
        #expect(shell.execute("new mnist-cnn classes=3").succeeded)
        #expect(shell.execute("data mnist digits=0-2 per-class=5").succeeded)
        #expect(shell.execute("head classes=100000").succeeded)
        let eval = shell.execute("eval confusion classes=index")
        #expect(eval.succeeded, "\(eval.error?.message ?? "")")
    }
}
