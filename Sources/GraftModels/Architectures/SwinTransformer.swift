import GraftNN
import GraftTensor

/// Swin Transformers (Liu et al.) under the parameter names of the framework a checkpoint comes
/// from: torchvision's `swin_t/s/b` and `swin_v2_t/s/b`, timm's `swin_*_patch4_window7_224` and
/// Hugging Face's `SwinModel` / `SwinForImageClassification`. A patch embedding (a convolution whose kernel and stride are the
/// patch) and a LayerNorm on the channels-last map, four stages of blocks — LayerNorm, (shifted)
/// window attention, LayerNorm, a GELU MLP, each with its residual; every second block shifted by
/// half a window — joined by patch merging (2×2 neighbours' channels side by side, a LayerNorm, a
/// linear reduction to twice the channels), a final LayerNorm, the mean over the map, a linear head.
///
/// Every setting is read off a state dict's tensors (`detect`): the width from the patch embedding,
/// the blocks per stage from the keys, the heads and the window from each stage's relative position
/// table ((2·window − 1)² rows, one column per head), the MLP width and the class count from their
/// weights. The layout is channels last from the patch embedding on, as in the sources.
///
/// V2 (torchvision's): cosine attention with a continuous position bias (``WindowAttention``'s
/// `cosine`), each block's norms after its attention and its MLP (res-post-norm), and patch merging
/// that reduces before it normalizes.
enum SwinTransformer {
    enum Source: String, Sendable { case timm, torchvision, huggingface }

    struct Config: Sendable, Equatable {
        var source: Source
        var width: Int
        var depths: [Int]
        var heads: [Int]
        var window = 7
        var patch = 4
        var mlpRatio = 4
        var classes: Int
        var qkvBias = true
        var epsilon: Float = 1e-5
        var size = 224
        /// Hugging Face: `swin.` (`SwinForImageClassification`) or none (`SwinModel`).
        var keyPrefix = ""
        /// Swin V2 (torchvision).
        var v2 = false

        var input: [Int] { [3, size, size] }
    }

    /// timm's and torchvision's named models.
    static let named: [(String, Config)] = {
        var list: [(String, Config)] = []
        let sizes = [("t", 96, [2, 2, 6, 2], [3, 6, 12, 24]), ("s", 96, [2, 2, 18, 2], [3, 6, 12, 24]), ("b", 128, [2, 2, 18, 2], [4, 8, 16, 32])]
        for (suffix, width, depths, heads) in sizes {
            list.append(("swin_\(suffix)", Config(source: .torchvision, width: width, depths: depths, heads: heads, classes: 1000)))
        }
        for (suffix, width, depths, heads) in sizes {
            var v2 = Config(source: .torchvision, width: width, depths: depths, heads: heads, window: 8, classes: 1000, size: 256)
            v2.v2 = true
            list.append(("swin_v2_\(suffix)", v2))
        }
        for (size, width, depths, heads) in [("tiny", 96, [2, 2, 6, 2], [3, 6, 12, 24]), ("small", 96, [2, 2, 18, 2], [3, 6, 12, 24]), ("base", 128, [2, 2, 18, 2], [4, 8, 16, 32])] {
            list.append(("swin_\(size)_patch4_window7_224", Config(source: .timm, width: width, depths: depths, heads: heads, classes: 1000)))
        }
        return list
    }()

    static let architectures: [Architecture] = named.map { architecture($0.0, $0.1) }

    /// An architecture of these settings (other input sizes run: the maps are padded to whole
    /// windows, as torchvision does); a backbone without a head (`classes` 0) keeps none.
    static func architecture(_ name: String, _ config: Config) -> Architecture {
        let source = ["timm": "timm's", "torchvision": "torchvision's", "huggingface": "Hugging Face's"][config.source.rawValue] ?? ""
        let anchor = switch config.source {
        case .timm: "layers.0.blocks.0.attn.relative_position_bias_table"
        case .torchvision: "features.1.0.attn.relative_position_bias_table"
        case .huggingface: "\(config.keyPrefix)encoder.layers.0.blocks.0.attention.self.relative_position_bias_table"
        }
        let blocks = config.depths.map(String.init).joined(separator: "-")
        return Architecture(name, "Swin\(config.v2 ? "V2" : "")-\(config.width) (blocks \(blocks), window \(config.window)\(config.classes == 0 ? ", no head" : "")), \(source) layout and parameter names",
                            anchor: anchor, input: config.input, classes: Swift.max(config.classes, 2), parametric: true) { classes, input, _, generator throws(ModelError) in
            var c = config
            c.classes = config.classes == 0 ? 0 : classes
            if input != config.input {
                guard input[0] == 3, input.count == 3, input[1] == input[2], input[1] >= config.patch else {
                    throw .invalidArgument(what: "input", reason: "\(name) takes square RGB images of at least \(config.patch)×\(config.patch)")
                }
                c.size = input[1]
            }
            return try build(c, name: name, generator: generator)
        }
    }

    /// The Swin a state dict holds, as a fit (`derived`: with the buffers graft derives).
    static func fit(_ shapes: [String: [Int]], derived: [String: [Int]]) -> Architecture.Fit? {
        guard let config = detect(shapes, derived: derived) else { return nil }
        let name = name(config)
        guard let model = try? build(config, name: name, generator: .structureOnly()) else { return nil }
        return Architecture.Fit(architecture(name, config), model, classes: Swift.max(config.classes, 2), shapes: shapes)
    }

    /// The names a source gives a block's parts and a stage's, by stage and block.
    struct Names {
        let source: Source
        let prefix: String

        func block(_ stage: Int, _ index: Int) -> String {
            switch source {
            case .timm: "layers.\(stage).blocks.\(index)"
            case .torchvision: "features.\(2 * stage + 1).\(index)"
            case .huggingface: "\(prefix)encoder.layers.\(stage).blocks.\(index)"
            }
        }
        /// The patch merging before `stage` (1…3).
        func merging(before stage: Int) -> String {
            switch source {
            case .timm: "layers.\(stage).downsample"
            case .torchvision: "features.\(2 * stage)"
            case .huggingface: "\(prefix)encoder.layers.\(stage - 1).downsample"
            }
        }
        var attention: String { source == .huggingface ? "attention" : "attn" }
        var norms: (String, String) { source == .huggingface ? ("layernorm_before", "layernorm_after") : ("norm1", "norm2") }
        var mlp: (String, String, String) {
            switch source {
            case .timm: ("mlp.fc1", "mlp.act", "mlp.fc2")
            case .torchvision: ("mlp.0", "mlp.1", "mlp.3")
            case .huggingface: ("intermediate.dense", "intermediate.act", "output.dense")
            }
        }
    }

    /// A Swin's settings read off a state dict's shapes (nil when the keys are not a Swin's);
    /// `derived` also has the buffers graft computes itself (V2's window is the size of its
    /// coordinate table).
    static func detect(_ shapes: [String: [Int]], derived: [String: [Int]] = [:]) -> Config? {
        let source: Source, prefix: String, patchKey: String
        if shapes["layers.0.blocks.0.attn.relative_position_bias_table"] != nil {
            (source, prefix, patchKey) = (.timm, "", "patch_embed.proj.weight")
        } else if shapes["features.1.0.attn.relative_position_bias_table"] != nil || shapes["features.1.0.attn.logit_scale"] != nil {
            (source, prefix, patchKey) = (.torchvision, "", "features.0.0.weight")
        } else if let found = ["swin.", ""].first(where: { shapes["\($0)encoder.layers.0.blocks.0.attention.self.relative_position_bias_table"] != nil }) {
            (source, prefix, patchKey) = (.huggingface, found, "\(found)embeddings.patch_embeddings.projection.weight")
        } else {
            return nil
        }
        guard let patch = shapes[patchKey], patch.count == 4, patch[1] == 3, patch[2] == patch[3], (1...64).contains(patch[2]) else { return nil }
        let names = Names(source: source, prefix: prefix)
        let attention = "\(names.attention).\(source == .huggingface ? "self." : "")"
        let v2 = source == .torchvision && shapes["features.1.0.attn.logit_scale"] != nil
        // V1: each stage's table [(2w − 1)², heads]; V2: its scales [heads, 1, 1], and the window
        // from the coordinate table [1, 2w − 1, 2w − 1, 2].
        let probe = v2 ? "attn.logit_scale" : "\(attention)relative_position_bias_table"
        var (depths, heads, window) = ([Int](), [Int](), 0)
        for stage in 0..<4 {
            var depth = 0
            while depth < 64, shapes["\(names.block(stage, depth)).\(probe)"] != nil { depth += 1 }
            guard depth > 0, let table = shapes["\(names.block(stage, 0)).\(probe)"] else { return nil }
            let side: Int
            if v2 {
                guard table.count == 3, let coordinates = derived["\(names.block(stage, 0)).attn.relative_coords_table"], coordinates.count == 4,
                      coordinates[1] == coordinates[2] else { return nil }
                side = coordinates[1]
            } else {
                guard table.count == 2 else { return nil }
                side = VisionTransformer.square(table[0])
            }
            // A window of 1…64 (a file's table of any other size is no Swin's; nothing below grows with it).
            guard side % 2 == 1, side <= 127, window == 0 || window == (side + 1) / 2 else { return nil }
            window = (side + 1) / 2
            depths.append(depth)
            heads.append(table[v2 ? 0 : 1])
        }
        let width = patch[0]
        let fc1 = names.mlp.0
        let hidden = shapes["\(names.block(0, 0)).\(fc1).weight"]?.first ?? 4 * width
        guard width > 0, hidden % width == 0 else { return nil }
        let headKey = switch source { case .timm: "head.fc.weight"; case .torchvision: "head.weight"; case .huggingface: "classifier.weight" }
        var c = Config(source: source, width: width, depths: depths, heads: heads, window: window, patch: patch[2], mlpRatio: hidden / width,
                       classes: shapes[headKey]?.first ?? 0)
        c.qkvBias = shapes["\(names.block(0, 0)).\(names.attention).\(source == .huggingface ? "self.query.bias" : "qkv.bias")"] != nil
        c.keyPrefix = prefix
        c.v2 = v2
        c.size = window * 32 * patch[2] / 4
        return c
    }

    /// The named model these settings are (its head aside), or a description of them.
    static func name(_ config: Config) -> String {
        func plain(_ c: Config) -> Config { var c = c; c.classes = 0; return c }
        if let match = named.first(where: { plain($0.1) == plain(config) }) { return match.0 }
        let family = (config.v2 ? "swinv2-" : "swin-") + (config.source == .huggingface ? "hf" : config.source.rawValue)
        return "\(family)-\(config.width)-\(config.depths.map(String.init).joined(separator: "-"))-w\(config.window)"
    }

    static func build(_ c: Config, name: String, generator: Generator) throws(ModelError) -> Model {
        guard c.width > 0, c.width <= 1 << 16, c.depths.count == 4, c.heads.count == 4, c.depths.allSatisfy({ (1...64).contains($0) }),
              (1...64).contains(c.window), (1...64).contains(c.patch), (1...16).contains(c.mlpRatio), c.classes >= 0,
              zip(c.heads, 0..<4).allSatisfy({ heads, stage in heads > 0 && (c.width << stage) % heads == 0 }) else {
            throw .invalidArgument(what: "Swin transformer", reason: "width \(c.width), blocks \(c.depths), heads \(c.heads), window \(c.window) do not make one")
        }
        let names = Names(source: c.source, prefix: c.keyPrefix)
        let naming: SelfAttention.Naming = switch c.source { case .timm: .timm; case .torchvision: .torchvision; case .huggingface: .huggingface }
        var b = try GraphBuilder(inputShape: c.input, freeAxes: [1, 2])
        func add(_ name: String, _ layer: Layer, _ inputs: Int...) throws(ModelError) -> Int { try b.add(layer, name: name, inputs: inputs) }
        func norm(_ channels: Int) throws(ModelError) -> LayerNorm { try LayerNorm(channels, epsilon: c.epsilon, axis: 2) }

        let stem = switch c.source {
        case .timm: (conv: "patch_embed.proj", permute: "patch_embed.permute", norm: "patch_embed.norm")
        case .torchvision: (conv: "features.0.0", permute: "features.0.1", norm: "features.0.2")
        case .huggingface: (conv: "\(c.keyPrefix)embeddings.patch_embeddings.projection", permute: "\(c.keyPrefix)embeddings.permute", norm: "\(c.keyPrefix)embeddings.norm")
        }
        var x = try add(stem.conv, Conv2d(3, c.width, kernel: (c.patch, c.patch), stride: (c.patch, c.patch), generator: generator), b.input)
        x = try add(stem.permute, Permute([1, 2, 0]), x)
        x = try add(stem.norm, norm(c.width), x)
        var width = c.width
        for stage in 0..<4 {
            if stage > 0 {
                let p = names.merging(before: stage)
                x = try add("\(p).merge", PatchMerging(), x)
                if c.v2 {
                    x = try add("\(p).reduction", Dense(4 * width, 2 * width, bias: false, generator: generator), x)
                    x = try add("\(p).norm", norm(2 * width), x)
                } else {
                    x = try add("\(p).norm", norm(4 * width), x)
                    x = try add("\(p).reduction", Dense(4 * width, 2 * width, bias: false, generator: generator), x)
                }
                width *= 2
            }
            for index in 0..<c.depths[stage] {
                let p = names.block(stage, index)
                let attention = try WindowAttention(width: width, heads: c.heads[stage], window: c.window, shift: index % 2 == 1 ? c.window / 2 : 0,
                                                    bias: c.qkvBias, naming: naming, rollFirst: c.source == .timm, cosine: c.v2, generator: generator)
                // V1 normalizes each branch's input, V2 its output.
                var h = c.v2 ? x : try add("\(p).\(names.norms.0)", norm(width), x)
                h = try add("\(p).\(names.attention)", attention, h)
                if c.v2 { h = try add("\(p).\(names.norms.0)", norm(width), h) }
                x = try add("\(p).residual1", Merge(.add), x, h)
                h = c.v2 ? x : try add("\(p).\(names.norms.1)", norm(width), x)
                h = try add("\(p).\(names.mlp.0)", Dense(width, c.mlpRatio * width, generator: generator), h)
                h = try add("\(p).\(names.mlp.1)", Activation(.gelu), h)
                h = try add("\(p).\(names.mlp.2)", Dense(c.mlpRatio * width, width, generator: generator), h)
                if c.v2 { h = try add("\(p).\(names.norms.1)", norm(width), h) }
                x = try add("\(p).residual2", Merge(.add), x, h)
            }
        }
        let tail = switch c.source {
        case .timm: (norm: "norm", permute: "head.permute", pool: "head.global_pool", head: "head.fc")
        case .torchvision: (norm: "norm", permute: "permute", pool: "avgpool", head: "head")
        case .huggingface: (norm: "\(c.keyPrefix)layernorm", permute: "\(c.keyPrefix)pooler.permute", pool: "\(c.keyPrefix)pooler", head: "classifier")
        }
        x = try add(tail.norm, norm(width), x)
        x = try add(tail.permute, Permute([2, 0, 1]), x)
        x = try add(tail.pool, GlobalPool2d(.average), x)
        if c.classes > 0 { _ = try add(tail.head, Dense(width, c.classes, generator: generator), x) }
        return b.build(name: name, architecture: name, normalization: .imagenet)
    }
}
