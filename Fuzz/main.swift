import Foundation
import GraftData
import GraftFormats
import GraftModels
import GraftShell
import GraftTensor

// graft-fuzz: one libFuzzer target per reader of hostile input. Built by scripts/fuzz.sh with
// -sanitize=fuzzer,address -DFUZZING, it runs libFuzzer on the target named by GRAFT_FUZZ_TARGET;
// built plainly, `graft-fuzz TARGET FILE…` runs the target once on each file (to replay a crash).
// A target may refuse its input (an error); it must never trap, leak past ASan or hang.

let arguments = CommandLine.arguments
#if FUZZING
import CFuzzer
// libFuzzer runs the loop, calling fuzzOne for each input (LLVMFuzzerTestOneInput is also what
// libFuzzer's own main, linked in by -sanitize=fuzzer, looks for).
nonisolated(unsafe) let selectedTarget: (Data) -> Void = {
    guard let name = ProcessInfo.processInfo.environment["GRAFT_FUZZ_TARGET"], let target = targets[name] else {
        FileHandle.standardError.write(Data("graft-fuzz: set GRAFT_FUZZ_TARGET to one of \(targets.keys.sorted().joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    // Under the allocation budget the shell gives a command (its memory limit): a description that
    // declares giants is refused, not built (libFuzzer's malloc and RSS limits catch the rest).
    fuzzBudget.run { selectedTarget(bytes.map { Data(bytes: $0, count: count) } ?? Data()) }
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
#else
guard arguments.count >= 2, let target = targets[arguments[1]] else {
    print("usage: graft-fuzz TARGET FILE… (targets: \(targets.keys.sorted().joined(separator: ", ")))")
    exit(2)
}
for path in arguments.dropFirst(2) {
    guard let data = FileManager.default.contents(atPath: path) else { print("graft-fuzz: cannot read \(path)"); exit(1) }
    fuzzBudget.run { target(data) }
    print("graft-fuzz \(arguments[1]): \(path) ok")
}
#endif
