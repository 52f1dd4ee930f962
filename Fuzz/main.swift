import CFuzzer
import Foundation
import GraftData
import GraftFormats
import GraftModels
import GraftShell

// graft-fuzz: one libFuzzer target per reader of hostile input. Built by scripts/fuzz.sh with
// -sanitize=fuzzer,address -DFUZZING, it runs libFuzzer on the target named by GRAFT_FUZZ_TARGET;
// built plainly, `graft-fuzz TARGET FILE…` runs the target once on each file (to replay a crash).
// A target may refuse its input (an error); it must never trap, leak past ASan or hang.

/// The targets: a name, and what is done with one input.
let targets: [String: (Data) -> Void] = [
    "pth": { data in _ = try? PyTorchCheckpoint.read(data, name: "f.pth") },
    "safetensors": { data in _ = try? ModelFiles.load(data, path: "f.safetensors") },
    "onnx": { data in _ = try? ModelFiles.load(data, path: "f.onnx") },
    "hdf5": { data in _ = try? ModelFiles.load(data, path: "f.h5") },
    "keras": { data in _ = try? ModelFiles.load(data, path: "f.keras") },
    "npy": { data in _ = try? NumPyArray(data: data, name: "f.npy") },
    "image": { data in _ = try? Image.decode(data, path: "f.img") },
    "csv": { data in _ = try? Tabular.parseCSV(String(decoding: data, as: UTF8.self), path: "f.csv") },
    "command": { data in
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") { _ = try? fuzzShell.parser.parse(String(line)) }
    },
]

/// A shell for the command target: lines are parsed, never run.
nonisolated(unsafe) let fuzzShell = Shell(seed: 1, output: DiscardingOutput())

final class DiscardingOutput: OutputSink {
    var isTerminal: Bool { false }
    func write(_ text: String) {}
}

let arguments = CommandLine.arguments
#if FUZZING
guard let name = ProcessInfo.processInfo.environment["GRAFT_FUZZ_TARGET"], let target = targets[name] else {
    FileHandle.standardError.write(Data("graft-fuzz: set GRAFT_FUZZ_TARGET to one of \(targets.keys.sorted().joined(separator: ", "))\n".utf8))
    exit(2)
}
nonisolated(unsafe) var selected = target
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { bytes, count in
    selected(Data(bytes: bytes!, count: count))
    return 0
})
#else
guard arguments.count >= 2, let target = targets[arguments[1]] else {
    print("usage: graft-fuzz TARGET FILE… (targets: \(targets.keys.sorted().joined(separator: ", ")))")
    exit(2)
}
for path in arguments.dropFirst(2) {
    guard let data = FileManager.default.contents(atPath: path) else { print("graft-fuzz: cannot read \(path)"); exit(1) }
    target(data)
    print("graft-fuzz \(arguments[1]): \(path) ok")
}
#endif
