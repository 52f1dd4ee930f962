import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// Checkpoints that are a built-in architecture's network under another library's key names:
/// each row says how to recognise one (a key only it has), each key's name in the built-in
/// architecture (nil for a key it has not: the load names it), and, for a Hugging Face folder, the
/// `model_type` and what its config must say for the network to be that one. The model loads
/// under the built-in names (its summary and exports use them) with the file's tensors.
struct KeyRenaming: Sendable {
    let name: String
    /// A key only this layout has.
    let marker: String
    let key: @Sendable (String) -> String?
    /// For a Hugging Face folder: its `model_type`, and config settings the network depends on.
    var modelType: String? = nil
    var requires: [String: String] = [:]

    static let all: [KeyRenaming] = [timmRegNet, huggingFaceConvNext, huggingFaceResNet]

    /// The row whose marker `state` holds, if any.
    static func matching(_ state: StateDict) -> KeyRenaming? {
        let names = Set(state.tensors.map(\.name))
        return all.first { names.contains($0.marker) }
    }

    /// `state` under the built-in names, or why not (a key the layout has not).
    func renamed(_ state: StateDict) throws -> StateDict {
        var tensors: [(name: String, tensor: Tensor)] = []
        for entry in state.tensors {
            guard let renamed = key(entry.name) else {
                throw ModelError.invalidArgument(what: "the weights", reason: "they hold '\(TextTable.cell(entry.name))', which \(name) has not")
            }
            tensors.append((name: renamed, tensor: entry.tensor))
        }
        return StateDict(tensors: tensors, metadata: state.metadata)
    }

    static func parts(_ key: String) -> [String] { key.split(separator: ".", omittingEmptySubsequences: false).map(String.init) }

    /// timm's RegNet (`stem.conv`, `sS.bJ.convK.conv`/`.bn`, `se.fc1`/`fc2`, `downsample.conv`/`.bn`,
    /// `head.fc`) as torchvision's (`stem.0`, `trunk_output.blockS.blockS-(J−1).f.a`…, `proj`, `fc`):
    /// the same network (BatchNorm ε 1e-5, ReLU squeeze-excite), stages and blocks counted from 1.
    static let timmRegNet = KeyRenaming(name: "timm's RegNet", marker: "s1.b1.conv1.conv.weight") { key in
        let p = parts(key)
        guard let leaf = p.last else { return nil }
        switch p.count {
        case 3 where p[0] == "stem": return p[1] == "conv" ? "stem.0.\(leaf)" : p[1] == "bn" ? "stem.1.\(leaf)" : nil
        case 3 where p[0] == "head" && p[1] == "fc": return "fc.\(leaf)"
        case 5:
            guard p[0].hasPrefix("s"), p[1].hasPrefix("b"), let s = Int(p[0].dropFirst()), let b = Int(p[1].dropFirst()), (1..<4096).contains(s), (1..<1_000_000).contains(b) else { return nil }
            let head = "trunk_output.block\(s).block\(s)-\(b - 1)"
            if p[2] == "se" { return p[3] == "fc1" || p[3] == "fc2" ? "\(head).f.se.\(p[3]).\(leaf)" : nil }
            guard let part = ["conv1": "f.a", "conv2": "f.b", "conv3": "f.c", "downsample": "proj"][p[2]] else { return nil }
            return p[3] == "conv" ? "\(head).\(part).0.\(leaf)" : p[3] == "bn" ? "\(head).\(part).1.\(leaf)" : nil
        default: return nil
        }
    }

    /// Hugging Face's ConvNextForImageClassification's keys as timm's ConvNeXt's (the same network: LayerNorm ε
    /// 1e-6, exact GELU, Linear MLP, layer scale, LayerNorm before the classifier).
    static let huggingFaceConvNext = KeyRenaming(name: "a ConvNext model", marker: "convnext.embeddings.patch_embeddings.weight", key: { key in
        let p = parts(key)
        guard let leaf = p.last else { return nil }
        switch p.count {
        case 2 where p[0] == "classifier": return "head.fc.\(leaf)"
        case 3 where p[0] == "convnext" && p[1] == "layernorm": return "head.norm.\(leaf)"
        case 4 where p[0] == "convnext" && p[1] == "embeddings":
            return p[2] == "patch_embeddings" ? "stem.0.\(leaf)" : p[2] == "layernorm" ? "stem.1.\(leaf)" : nil
        case 7 where p.prefix(3) == ["convnext", "encoder", "stages"] && p[4] == "downsampling_layer":
            guard let stage = Int(p[3]), let part = Int(p[5]), part == 0 || part == 1 else { return nil }
            return "stages.\(stage).downsample.\(part).\(leaf)"
        case 7 where p.prefix(3) == ["convnext", "encoder", "stages"] && p[4] == "layers",
             8 where p.prefix(3) == ["convnext", "encoder", "stages"] && p[4] == "layers":
            guard let stage = Int(p[3]), let block = Int(p[5]) else { return nil }
            let local = ["dwconv": "conv_dw", "layernorm": "norm", "pwconv1": "mlp.fc1", "pwconv2": "mlp.fc2"]
            let head = "stages.\(stage).blocks.\(block)"
            if p.count == 7, p[6] == "layer_scale_parameter" { return "\(head).gamma" }
            guard p.count == 8, let name = local[p[6]] else { return nil }
            return "\(head).\(name).\(leaf)"
        default: return nil
        }
    }, modelType: "convnext", requires: ["hidden_act": "gelu"])

    /// ResNetForImageClassification's keys as torchvision's ResNet's (the same network with the
    /// stride in the 3×3 convolution, v1.5, as `downsample_in_bottleneck: false` says).
    static let huggingFaceResNet = KeyRenaming(name: "a ResNet model", marker: "resnet.embedder.embedder.convolution.weight", key: { key in
        let p = parts(key)
        guard let leaf = p.last else { return nil }
        if p.count == 3, p[0] == "classifier", p[1] == "1" { return "fc.\(leaf)" }
        if p.count == 5, p.prefix(3) == ["resnet", "embedder", "embedder"] {
            return p[3] == "convolution" ? "conv1.\(leaf)" : p[3] == "normalization" ? "bn1.\(leaf)" : nil
        }
        guard p.count >= 9, p.prefix(3) == ["resnet", "encoder", "stages"], p[4] == "layers", let stage = Int(p[3]), let block = Int(p[5]),
              (0..<4096).contains(stage), block >= 0 else { return nil }  // the file's numbers: stage + 1 never overflows
        let head = "layer\(stage + 1).\(block)"
        if p.count == 9, p[6] == "shortcut" {
            return p[7] == "convolution" ? "\(head).downsample.0.\(leaf)" : p[7] == "normalization" ? "\(head).downsample.1.\(leaf)" : nil
        }
        guard p.count == 10, p[6] == "layer", let k = Int(p[7]), (0..<4096).contains(k) else { return nil }
        return p[8] == "convolution" ? "\(head).conv\(k + 1).\(leaf)" : p[8] == "normalization" ? "\(head).bn\(k + 1).\(leaf)" : nil
    }, modelType: "resnet", requires: ["hidden_act": "relu", "downsample_in_bottleneck": "false", "downsample_in_first_stage": "false"])
}
