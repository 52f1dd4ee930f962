import GraftNN
import GraftTensor

/// Vision transformers (Dosovitskiy et al.) under the parameter names of the framework a checkpoint
/// comes from: timm's `VisionTransformer` (ViT, DeiT and its distilled variant, DINOv2 with and
/// without registers, CLIP image towers) and torchvision's `vit_*`. A patch embedding (a convolution
/// whose kernel and stride are the patch), class, distillation and register tokens, learned position
/// embeddings (resized to other grids as the source framework resizes them), pre-norm blocks of
/// self-attention and a GELU MLP (with layer scale where the model has it), a final LayerNorm, the
/// class token or the mean of the patch tokens, a linear head.
///
/// Every setting is read off a state dict's tensors (`detect`): the width from the patch
/// embedding, the depth from the blocks, the patch size and grid from the kernel and the position
/// table, the class count from the head. The head count is not in the tensors: it is the
/// family's (64 values per head, 16 heads from ViT-L up), or `arch=` names it.
enum VisionTransformer {
    enum Source: String, Sendable { case timm, torchvision, huggingface }

    /// What a Hugging Face model puts on the features (its class's head).
    enum HuggingFaceHead: String, Sendable {
        /// `ViTModel`, `Dinov2Model`: none (the pooler aside).
        case none
        /// `ViTForImageClassification`, `DeiTForImageClassification`: `classifier` on the class token.
        case classifier
        /// `DeiTForImageClassificationWithTeacher`: the mean of `cls_classifier` (class token) and
        /// `distillation_classifier` (distillation token).
        case teacher
        /// `Dinov2ForImageClassification`: `classifier` on the class token beside the patch tokens' mean.
        case classAndMean
    }

    struct Config: Sendable, Equatable {
        var source: Source
        var width: Int
        var depth: Int
        var heads: Int
        var patch: Int
        var grid: Int
        var mlp: Int
        var classes: Int
        var distilled = false
        var registers = 0
        /// timm's `no_embed_class`: the position table covers the patches only (DINOv2 with registers).
        var patchPositionsOnly = false
        var layerScale = false
        /// CLIP: a LayerNorm after the position embedding, no bias on the patch convolution.
        var preNorm = false
        var patchBias = true
        var epsilon: Float = 1e-6
        /// timm's `global_pool="avg"`: the mean of the patch tokens, then `fc_norm`.
        var meanPool = false
        var qkvBias = true
        /// How pixels in [0, 1] are normalized for it (nil when the tensors do not say).
        var normalization: Normalization? = .imagenet
        /// The MLP's GELU: exact (erf) or the tanh form.
        var activation: Activation.Function = .gelu
        /// Hugging Face: the prefix of every key (`vit.`, `deit.`, none for `ViTModel`), DINOv2's
        /// names (`norm1`, `mlp.fc1`, `layer_scale1`) or ViT's (`layernorm_before`, `intermediate.dense`),
        /// a pooler (`ViTModel`'s `pooler.dense` and tanh), the head.
        var keyPrefix = ""
        var dinov2Names = false
        var pooler = false
        var huggingFaceHead = HuggingFaceHead.classifier

        var input: [Int] { [3, grid * patch, grid * patch] }
        /// Tokens before the patches.
        var prefix: Int { 1 + (distilled ? 1 : 0) + registers }
    }

    /// timm's named models and torchvision's.
    static let named: [(String, Config)] = {
        func timm(_ width: Int, _ depth: Int, _ heads: Int, _ patch: Int, _ size: Int) -> Config {
            Config(source: .timm, width: width, depth: depth, heads: heads, patch: patch, grid: size / patch, mlp: 4 * width, classes: 1000)
        }
        // timm's vit_* (the AugReg weights) take [−1, 1]; DeiT and DINOv2 ImageNet's statistics.
        func augreg(_ config: Config) -> Config { var c = config; c.normalization = .symmetric; return c }
        func torchvision(_ width: Int, _ depth: Int, _ heads: Int, _ patch: Int, _ mlp: Int) -> Config {
            Config(source: .torchvision, width: width, depth: depth, heads: heads, patch: patch, grid: 224 / patch, mlp: mlp, classes: 1000)
        }
        var list: [(String, Config)] = [
            ("vit_b_16", torchvision(768, 12, 12, 16, 3072)), ("vit_b_32", torchvision(768, 12, 12, 32, 3072)),
            ("vit_l_16", torchvision(1024, 24, 16, 16, 4096)), ("vit_l_32", torchvision(1024, 24, 16, 32, 4096)),
            ("vit_h_14", torchvision(1280, 32, 16, 14, 5120)),
            ("vit_tiny_patch16_224", augreg(timm(192, 12, 3, 16, 224))), ("vit_small_patch16_224", augreg(timm(384, 12, 6, 16, 224))),
            ("vit_base_patch16_224", augreg(timm(768, 12, 12, 16, 224))), ("vit_large_patch16_224", augreg(timm(1024, 24, 16, 16, 224))),
            ("vit_tiny_patch16_384", augreg(timm(192, 12, 3, 16, 384))), ("vit_small_patch16_384", augreg(timm(384, 12, 6, 16, 384))),
            ("vit_base_patch16_384", augreg(timm(768, 12, 12, 16, 384))), ("vit_small_patch32_224", augreg(timm(384, 12, 6, 32, 224))),
            ("vit_base_patch32_224", augreg(timm(768, 12, 12, 32, 224))),
            ("deit_tiny_patch16_224", timm(192, 12, 3, 16, 224)), ("deit_small_patch16_224", timm(384, 12, 6, 16, 224)),
            ("deit_base_patch16_224", timm(768, 12, 12, 16, 224)),
        ]
        for (name, width, heads) in [("deit_tiny_distilled_patch16_224", 192, 3), ("deit_small_distilled_patch16_224", 384, 6), ("deit_base_distilled_patch16_224", 768, 12)] {
            var c = timm(width, 12, heads, 16, 224)
            c.distilled = true
            list.append((name, c))
        }
        for (name, width, depth, heads, registers) in [("vit_small_patch14_dinov2", 384, 12, 6, 0), ("vit_base_patch14_dinov2", 768, 12, 12, 0),
                                                       ("vit_small_patch14_reg4_dinov2", 384, 12, 6, 4), ("vit_base_patch14_reg4_dinov2", 768, 12, 12, 4)] {
            var c = timm(width, depth, heads, 14, 518)
            (c.layerScale, c.registers, c.patchPositionsOnly, c.classes) = (true, registers, registers > 0, 0)
            list.append((name, c))
        }
        var clip = timm(768, 12, 12, 16, 224)
        (clip.preNorm, clip.patchBias, clip.epsilon) = (true, false, 1e-5)
        clip.normalization = .custom(mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711])
        list.append(("vit_base_patch16_clip_224", clip))
        return list
    }()

    static let architectures: [Architecture] = named.map { architecture($0.0, $0.1) }

    /// An architecture of these settings: at other square inputs the grid follows (the position
    /// table is resized); a backbone without a head (`classes` 0) keeps none.
    static func architecture(_ name: String, _ config: Config) -> Architecture {
        let source = config.source == .timm ? "timm's" : "torchvision's"
        return Architecture(name, "ViT-\(config.width)/\(config.patch) (\(config.depth) blocks, \(config.heads) heads\(config.classes == 0 ? ", no head" : "")), \(source) layout and parameter names",
                            anchor: config.source == .timm ? "blocks.0.attn.qkv.weight" : "encoder.layers.encoder_layer_0.self_attention.in_proj_weight",
                            input: config.input, classes: Swift.max(config.classes, 2), parametric: true) { classes, input, _, generator throws(ModelError) in
            var c = config
            c.classes = config.classes == 0 ? 0 : classes
            if input != config.input {
                guard input[0] == 3, input[1] == input[2], input[1] % config.patch == 0 else {
                    throw .invalidArgument(what: "input", reason: "\(name) takes square RGB images whose side is a multiple of \(config.patch)")
                }
                c.grid = input[1] / config.patch
            }
            return try build(c, name: name, generator: generator)
        }
    }

    /// The ViT a state dict holds, as a fit: its settings read off the tensors, and how many of them
    /// a model of those settings has (all, for a checkpoint of one of these families).
    static func fit(_ shapes: [String: [Int]]) -> Architecture.Fit? {
        guard let config = detect(shapes) else { return nil }
        let name = name(config)
        guard let model = try? build(config, name: name, generator: .structureOnly()) else { return nil }
        return Architecture.Fit(architecture(name, config), model, classes: Swift.max(config.classes, 2), shapes: shapes)
    }

    /// The heads of a ViT of this width: 64 values each, 16 from ViT-L's 1024 up (ViT-H's 1280).
    static func heads(width: Int) -> Int { width >= 1024 ? 16 : Swift.max(1, width / 64) }

    /// A ViT's settings read off a state dict's shapes (nil when the keys are not a ViT's).
    static func detect(_ shapes: [String: [Int]]) -> Config? {
        if let qkv = shapes["blocks.0.attn.qkv.weight"], qkv.count == 2, let patch = shapes["patch_embed.proj.weight"], patch.count == 4 {
            let width = qkv[1]
            var depth = 0
            while shapes["blocks.\(depth).attn.qkv.weight"] != nil { depth += 1 }
            var c = Config(source: .timm, width: width, depth: depth, heads: heads(width: width), patch: patch[2], grid: 0,
                           mlp: shapes["blocks.0.mlp.fc1.weight"]?.first ?? 4 * width, classes: shapes["head.weight"]?.first ?? 0)
            c.distilled = shapes["dist_token"] != nil
            c.registers = shapes["reg_token"]?[1] ?? 0
            c.layerScale = shapes["blocks.0.ls1.gamma"] != nil
            c.preNorm = shapes["norm_pre.weight"] != nil
            c.patchBias = shapes["patch_embed.proj.bias"] != nil
            c.meanPool = shapes["fc_norm.weight"] != nil
            c.qkvBias = shapes["blocks.0.attn.qkv.bias"] != nil
            if c.preNorm { c.epsilon = 1e-5 }
            // DeiT-distilled and DINOv2 use ImageNet's statistics; a plain ViT's are its training's.
            c.normalization = c.distilled || c.layerScale ? .imagenet : nil
            guard let positions = shapes["pos_embed"]?[1] else { return nil }
            let covered = c.registers > 0 && positions == Self.square(positions) * Self.square(positions) ? 0 : 1 + (c.distilled ? 1 : 0)
            c.patchPositionsOnly = covered == 0
            c.grid = square(positions - covered)
            return c.grid > 0 ? c : nil
        }
        if let config = detectHuggingFace(shapes) { return config }
        if let inProj = shapes["encoder.layers.encoder_layer_0.self_attention.in_proj_weight"], inProj.count == 2,
           let patch = shapes["conv_proj.weight"], patch.count == 4, let positions = shapes["encoder.pos_embedding"]?[1] {
            let width = inProj[1]
            var depth = 0
            while shapes["encoder.layers.encoder_layer_\(depth).self_attention.in_proj_weight"] != nil { depth += 1 }
            let c = Config(source: .torchvision, width: width, depth: depth, heads: heads(width: width), patch: patch[2], grid: square(positions - 1),
                           mlp: shapes["encoder.layers.encoder_layer_0.mlp.0.weight"]?.first ?? 4 * width, classes: shapes["heads.head.weight"]?.first ?? 0)
            return c.grid > 0 ? c : nil
        }
        return nil
    }

    /// A Hugging Face ViT, DeiT or DINOv2 state dict's settings (`save_pretrained`'s key names).
    static func detectHuggingFace(_ shapes: [String: [Int]]) -> Config? {
        guard let prefix = ["vit.", "deit.", "dinov2.", "dinov2_with_registers.", ""].first(where: { shapes["\($0)encoder.layer.0.attention.attention.query.weight"] != nil }),
              let query = shapes["\(prefix)encoder.layer.0.attention.attention.query.weight"], query.count == 2,
              let patch = shapes["\(prefix)embeddings.patch_embeddings.projection.weight"], patch.count == 4,
              let positions = shapes["\(prefix)embeddings.position_embeddings"]?[1] else { return nil }
        let width = query[1]
        var depth = 0
        while shapes["\(prefix)encoder.layer.\(depth).attention.attention.query.weight"] != nil { depth += 1 }
        let dinov2 = shapes["\(prefix)encoder.layer.0.norm1.weight"] != nil
        let mlp = shapes["\(prefix)encoder.layer.0.\(dinov2 ? "mlp.fc1" : "intermediate.dense").weight"]?.first ?? 4 * width
        var c = Config(source: .huggingface, width: width, depth: depth, heads: heads(width: width), patch: patch[2], grid: 0, mlp: mlp, classes: 0)
        (c.keyPrefix, c.dinov2Names) = (prefix, dinov2)
        c.distilled = shapes["\(prefix)embeddings.distillation_token"] != nil
        // Dinov2WithRegisters: the registers go in after the position embedding, whose table
        // (resized with antialiasing there) covers the class token and the patches only.
        if let registers = shapes["\(prefix)embeddings.register_tokens"], registers.count == 3, (1...64).contains(registers[1]) {
            c.registers = registers[1]
        }
        c.layerScale = shapes["\(prefix)encoder.layer.0.layer_scale1.lambda1"] != nil
        c.qkvBias = shapes["\(prefix)encoder.layer.0.attention.attention.query.bias"] != nil
        c.patchBias = shapes["\(prefix)embeddings.patch_embeddings.projection.bias"] != nil
        c.pooler = shapes["\(prefix)pooler.dense.weight"] != nil
        c.epsilon = dinov2 ? 1e-6 : 1e-12
        c.normalization = nil
        if let classes = shapes["cls_classifier.weight"]?.first, shapes["distillation_classifier.weight"] != nil {
            (c.huggingFaceHead, c.classes) = (.teacher, classes)
        } else if let classifier = shapes["classifier.weight"], classifier.count == 2 {
            (c.huggingFaceHead, c.classes) = (classifier[1] == 2 * width ? .classAndMean : .classifier, classifier[0])
        } else {
            c.huggingFaceHead = .none
        }
        c.grid = square(positions - 1 - (c.distilled ? 1 : 0))
        return c.grid > 0 ? c : nil
    }

    /// The side of a square of `count` cells (0 when it is none).
    static func square(_ count: Int) -> Int {
        let side = Int(Double(Swift.max(count, 0)).squareRoot().rounded())
        return side * side == count ? side : 0
    }

    /// The named model these settings are (its head and normalization aside), or a description of them.
    static func name(_ config: Config) -> String {
        func plain(_ c: Config) -> Config { var c = c; (c.classes, c.normalization) = (0, nil); return c }
        if let match = named.first(where: { plain($0.1) == plain(config) }) { return match.0 }
        let family = config.source == .huggingface ? (config.dinov2Names ? (config.registers > 0 ? "dinov2reg\(config.registers)" : "dinov2") : config.distilled ? "deit" : "vit") + "-hf"
            : "vit-\(config.source.rawValue)"
        return "\(family)-\(config.width)x\(config.depth)-p\(config.patch)"
    }

    static func build(_ c: Config, name: String, generator: Generator) throws(ModelError) -> Model {
        guard c.width > 0, c.depth > 0, c.depth <= 64, c.heads > 0, c.width % c.heads == 0, (1...64).contains(c.patch), (1...256).contains(c.grid),
              c.mlp > 0, c.mlp <= 16 * c.width, c.classes >= 0 else {
            throw .invalidArgument(what: "vision transformer", reason: "\(c.heads) heads, width \(c.width), depth \(c.depth), patch \(c.patch), grid \(c.grid) do not make one")
        }
        if c.source == .huggingface { return try buildHuggingFace(c, name: name, generator: generator) }
        var b = try GraphBuilder(inputShape: c.input, freeAxes: [1, 2])
        func add(_ name: String, _ layer: Layer, _ inputs: Int...) throws(ModelError) -> Int { try b.add(layer, name: name, inputs: inputs) }
        let timm = c.source == .timm
        let d = c.width
        func norm() throws(ModelError) -> LayerNorm { try LayerNorm(d, epsilon: c.epsilon, axis: 1) }

        let patches = try add(timm ? "patch_embed.proj" : "conv_proj",
                              Conv2d(3, d, kernel: (c.patch, c.patch), stride: (c.patch, c.patch), bias: c.patchBias, generator: generator), b.input)
        var x = try add(timm ? "patch_embed.tokens" : "tokens", Tokens(), patches)
        let resize: PositionEmbedding.Resize = timm ? .antialiased : .bicubic
        if c.patchPositionsOnly {
            x = try add("pos_embed", PositionEmbedding(prefix: 0, grid: (c.grid, c.grid), width: d, resize: resize, generator: generator), x, patches)
        }
        if c.registers > 0 { x = try add("reg_token", PrefixTokens(count: c.registers, width: d, generator: generator), x) }
        if c.distilled { x = try add("dist_token", PrefixTokens(count: 1, width: d, generator: generator), x) }
        x = try add(timm ? "cls_token" : "class_token", PrefixTokens(count: 1, width: d, generator: generator), x)
        if !c.patchPositionsOnly {
            let covered = 1 + (c.distilled ? 1 : 0)
            x = try add(timm ? "pos_embed" : "encoder.pos_embedding",
                        PositionEmbedding(prefix: covered, grid: (c.grid, c.grid), width: d, resize: resize, generator: generator), x, patches)
        }
        if c.preNorm { x = try add("norm_pre", norm(), x) }

        for i in 0..<c.depth {
            let p = timm ? "blocks.\(i)" : "encoder.layers.encoder_layer_\(i)"
            let names = timm ? (norm1: "norm1", attn: "attn", norm2: "norm2", fc1: "mlp.fc1", act: "mlp.act", fc2: "mlp.fc2")
                             : (norm1: "ln_1", attn: "self_attention", norm2: "ln_2", fc1: "mlp.0", act: "mlp.1", fc2: "mlp.3")
            var h = try add("\(p).\(names.norm1)", norm(), x)
            h = try add("\(p).\(names.attn)", SelfAttention(width: d, heads: c.heads, bias: c.qkvBias, naming: timm ? .timm : .torchvision, generator: generator), h)
            if c.layerScale { h = try add("\(p).ls1", LayerScale(d, initial: 1e-5, name: "gamma", lastAxis: true), h) }
            x = try add("\(p).residual1", Merge(.add), x, h)
            h = try add("\(p).\(names.norm2)", norm(), x)
            h = try add("\(p).\(names.fc1)", Dense(d, c.mlp, generator: generator), h)
            h = try add("\(p).\(names.act)", Activation(c.activation), h)
            h = try add("\(p).\(names.fc2)", Dense(c.mlp, d, generator: generator), h)
            if c.layerScale { h = try add("\(p).ls2", LayerScale(d, initial: 1e-5, name: "gamma", lastAxis: true), h) }
            x = try add("\(p).residual2", Merge(.add), x, h)
        }

        let pool: TokenPool
        if c.meanPool {
            pool = try TokenPool(.mean(skip: c.prefix))
        } else {
            x = try add(timm ? "norm" : "encoder.ln", norm(), x)
            pool = try TokenPool(.token(0))
        }
        let tokens = x
        // DeiT: the mean of the class token's head and the distillation token's. The distillation
        // branch comes first, so that the class token's pooling is the last: where `head` cuts.
        var distillation: Int? = nil
        if c.distilled && c.classes > 0 {
            let second = try add("pool_dist", TokenPool(.token(1)), tokens)
            distillation = try add("head_dist", Dense(d, c.classes, generator: generator), second)
        }
        x = try add("pool", pool, tokens)
        if c.meanPool { x = try add("fc_norm", LayerNorm(d, epsilon: c.epsilon), x) }
        if c.classes > 0 {
            let head = try add(timm ? "head" : "heads.head", Dense(d, c.classes, generator: generator), x)
            if let distillation {
                let sum = try add("heads.sum", Merge(.add), head, distillation)
                _ = try add("heads.mean", Affine(scale: [0.5], offset: [0]), sum)
            }
        }
        return b.build(name: name, architecture: name, normalization: c.normalization)
    }

    /// Hugging Face's `ViTModel`/`ViTForImageClassification`, `DeiT…` and `Dinov2…` under
    /// `save_pretrained`'s key names: the position table covers the class (and distillation) token
    /// and is resized without antialiasing (`interpolate_pos_encoding`); the features are the class
    /// token after `layernorm`.
    static func buildHuggingFace(_ c: Config, name: String, generator: Generator) throws(ModelError) -> Model {
        var b = try GraphBuilder(inputShape: c.input, freeAxes: [1, 2])
        func add(_ name: String, _ layer: Layer, _ inputs: Int...) throws(ModelError) -> Int { try b.add(layer, name: name, inputs: inputs) }
        let (p, d) = (c.keyPrefix, c.width)
        func norm() throws(ModelError) -> LayerNorm { try LayerNorm(d, epsilon: c.epsilon, axis: 1) }
        let patches = try add("\(p)embeddings.patch_embeddings.projection",
                              Conv2d(3, d, kernel: (c.patch, c.patch), stride: (c.patch, c.patch), bias: c.patchBias, generator: generator), b.input)
        var x = try add("\(p)embeddings.patch_embeddings.tokens", Tokens(), patches)
        if c.distilled { x = try add("\(p)embeddings.distillation_token", PrefixTokens(count: 1, width: d, generator: generator), x) }
        x = try add("\(p)embeddings.cls_token", PrefixTokens(count: 1, width: d, generator: generator), x)
        x = try add("\(p)embeddings.position_embeddings",
                    PositionEmbedding(prefix: c.distilled ? 2 : 1, grid: (c.grid, c.grid), width: d, resize: c.registers > 0 ? .antialiased : .bicubic, generator: generator), x, patches)
        if c.registers > 0 {
            // [class, registers, patches]: the registers go in behind the class token.
            let first = try add("\(p)embeddings.class", Slice(axis: 0, start: 0, end: 1), x)
            let rest = try add("\(p)embeddings.patches", Slice(axis: 0, start: 1, end: Int(Int32.max)), x)
            let registered = try add("\(p)embeddings.register_tokens", PrefixTokens(count: c.registers, width: d, generator: generator), rest)
            x = try add("\(p)embeddings.tokens", Merge(.concatenate, axis: 0), first, registered)
        }
        for i in 0..<c.depth {
            let l = "\(p)encoder.layer.\(i)"
            let names = c.dinov2Names ? (before: "norm1", after: "norm2", fc1: "mlp.fc1", act: "mlp.act", fc2: "mlp.fc2")
                                      : (before: "layernorm_before", after: "layernorm_after", fc1: "intermediate.dense", act: "intermediate.act", fc2: "output.dense")
            var h = try add("\(l).\(names.before)", norm(), x)
            h = try add("\(l).attention", SelfAttention(width: d, heads: c.heads, bias: c.qkvBias, naming: .huggingface, generator: generator), h)
            if c.layerScale { h = try add("\(l).layer_scale1", LayerScale(d, initial: 1, name: "lambda1", lastAxis: true), h) }
            x = try add("\(l).residual1", Merge(.add), x, h)
            h = try add("\(l).\(names.after)", norm(), x)
            h = try add("\(l).\(names.fc1)", Dense(d, c.mlp, generator: generator), h)
            h = try add("\(l).\(names.act)", Activation(c.activation), h)
            h = try add("\(l).\(names.fc2)", Dense(c.mlp, d, generator: generator), h)
            if c.layerScale { h = try add("\(l).layer_scale2", LayerScale(d, initial: 1, name: "lambda1", lastAxis: true), h) }
            x = try add("\(l).residual2", Merge(.add), x, h)
        }
        let tokens = try add("\(p)layernorm", norm(), x)
        switch c.huggingFaceHead {
        case .teacher:
            let second = try add("pool_dist", TokenPool(.token(1)), tokens)
            let distillation = try add("distillation_classifier", Dense(d, c.classes, generator: generator), second)
            let first = try add("pool", TokenPool(.token(0)), tokens)
            let head = try add("cls_classifier", Dense(d, c.classes, generator: generator), first)
            let sum = try add("heads.sum", Merge(.add), head, distillation)
            _ = try add("heads.mean", Affine(scale: [0.5], offset: [0]), sum)
        case .classAndMean:
            let mean = try add("pool_mean", TokenPool(.mean(skip: 1 + c.registers)), tokens)
            let first = try add("pool", TokenPool(.token(0)), tokens)
            let both = try add("pool_concat", Merge(.concatenate), first, mean)
            _ = try add("classifier", Dense(2 * d, c.classes, generator: generator), both)
        case .classifier, .none:
            var features = try add("pool", TokenPool(.token(0)), tokens)
            if c.pooler {
                features = try add("\(p)pooler.dense", Dense(d, d, generator: generator), features)
                features = try add("\(p)pooler.activation", Activation(.tanh), features)
            }
            if c.huggingFaceHead == .classifier { _ = try add("classifier", Dense(d, c.classes, generator: generator), features) }
        }
        return b.build(name: name, architecture: name, normalization: c.normalization)
    }
}
