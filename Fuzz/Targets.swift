
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
    // A Hugging Face config.json (the input) over a small ViT's weights; a second JSON object after a
    // line of "---" is its preprocessor_config.json.
    "hfconfig": { data in
        let text = String(decoding: data, as: UTF8.self)
        let parts = text.components(separatedBy: "\n---\n")
        _ = try? HuggingFaceFolder.model(configData: Data(parts[0].utf8), weights: hfWeights,
                                         preprocessorData: parts.count > 1 ? Data(parts[1].utf8) : nil, name: "f")
    },
]

/// A Hugging Face ViT's state dict as `save_pretrained` names it: width 8, one layer, patch 4, a
/// 2×2 grid, 3 classes (zeros: the target exercises the config, not the numbers).
let hfWeights: StateDict = {
    let (d, p) = (8, "vit.")
    var shapes: [(String, [Int])] = [("\(p)embeddings.cls_token", [1, 1, d]), ("\(p)embeddings.position_embeddings", [1, 5, d]),
                                     ("\(p)embeddings.patch_embeddings.projection.weight", [d, 3, 4, 4]), ("\(p)embeddings.patch_embeddings.projection.bias", [d])]
    let l = "\(p)encoder.layer.0"
    for part in ["query", "key", "value"] { shapes += [("\(l).attention.attention.\(part).weight", [d, d]), ("\(l).attention.attention.\(part).bias", [d])] }
    shapes += [("\(l).attention.output.dense.weight", [d, d]), ("\(l).attention.output.dense.bias", [d]),
               ("\(l).layernorm_before.weight", [d]), ("\(l).layernorm_before.bias", [d]), ("\(l).layernorm_after.weight", [d]), ("\(l).layernorm_after.bias", [d]),
               ("\(l).intermediate.dense.weight", [2 * d, d]), ("\(l).intermediate.dense.bias", [2 * d]),
               ("\(l).output.dense.weight", [d, 2 * d]), ("\(l).output.dense.bias", [d]),
               ("\(p)layernorm.weight", [d]), ("\(p)layernorm.bias", [d]), ("classifier.weight", [3, d]), ("classifier.bias", [3])]
    return StateDict(tensors: shapes.map { ($0.0, (try? Tensor.zeros($0.1)) ?? Tensor(0)) })
}()

/// The budget every input runs under: 1 GB of tensors, fresh for each input.
var fuzzBudget: AllocationBudget { AllocationBudget(limit: 1 << 30) }

/// A shell for the command target: lines are parsed, never run.
let fuzzShell = Shell(seed: 1, output: DiscardingOutput())

final class DiscardingOutput: OutputSink {
    var isTerminal: Bool { false }
    func write(_ text: String) {}
}
