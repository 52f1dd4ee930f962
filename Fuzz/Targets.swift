
import Foundation
import GraftData
import GraftFormats
import GraftModels
import GraftShell
import GraftTensor

/// The targets: a name, and what is done with one input.
nonisolated(unsafe) let targets: [String: (Data) -> Void] = [
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
    "script": ScriptTarget.run,
]

/// The budget every input runs under: 1 GB of tensors, fresh for each input.
var fuzzBudget: AllocationBudget { AllocationBudget(limit: 1 << 30) }

/// A shell for the command target: lines are parsed, never run.
let fuzzShell = Shell(seed: 1, output: DiscardingOutput())

final class DiscardingOutput: OutputSink {
    var isTerminal: Bool { false }
    func write(_ text: String) {}
}
