import Foundation
import Testing
@testable import GraftFormats
@testable import GraftModels
import GraftNN
import GraftTensor

/// Every layer kind in ``LayerRegistry`` goes through the three things a kind must support: its
/// graph description rebuilds it exactly, its ONNX export imports back to the same outputs, and
/// its gradients match finite differences. A kind added to the registry without a sample here
/// fails `everyKindHasASample`.
@Suite("Layer registry: description, ONNX and gradients for every kind")
struct LayerRegistryTests {
    /// One sample of a kind: the layer, the sample shape it takes, how many times the input feeds it,
    /// and how inputs are drawn (positive for a square root).
    struct Sample: CustomTestStringConvertible, @unchecked Sendable {
        let key: String
        let name: String
        let make: () throws -> Layer
        let input: [Int]
        var arity = 1
        var positive = false
        var testDescription: String { "\(key): \(name)" }
    }

    static var g: Generator { Generator(seed: 21) }

    static let samples: [Sample] = {
        var list: [Sample] = [
            Sample(key: Dense.key, name: "5 → 3", make: { try Dense(5, 3, generator: g) }, input: [5]),
            Sample(key: Dense.key, name: "on [2, 4] without bias", make: { try Dense(4, 3, bias: false, generator: g) }, input: [2, 4]),
            Sample(key: Conv2d.key, name: "3×3 s2 same", make: { try Conv2d(3, 4, kernel: (3, 3), stride: (2, 2), padding: .same, generator: g) }, input: [3, 7, 6]),
            Sample(key: Conv2d.key, name: "grouped dilated", make: { try Conv2d(4, 6, kernel: (3, 2), padding: .explicit(Padding2D(1, 1)), dilation: (2, 1), groups: 2, bias: false, generator: g) }, input: [4, 6, 5]),
            Sample(key: SeparableConv2d.key, name: "×2", make: { try SeparableConv2d(4, 6, kernel: (3, 3), padding: .same, depthMultiplier: 2, generator: g) }, input: [4, 5, 5]),
            Sample(key: BatchNorm.key, name: "affine", make: { try BatchNorm(3) }, input: [3, 4, 4]),
            Sample(key: BatchNorm.key, name: "no γ (Keras scale=False)", make: { try BatchNorm(3, epsilon: 1e-3, scale: false) }, input: [3, 2, 2]),
            Sample(key: Pool2d.key, name: "max ceil", make: { try Pool2d(.max, kernel: (3, 3), stride: (2, 2), ceilMode: true) }, input: [2, 6, 6]),
            Sample(key: Pool2d.key, name: "average same", make: { try Pool2d(.average, kernel: (3, 3), stride: (2, 2), padding: .same, countPadding: false) }, input: [2, 5, 6]),
            Sample(key: GlobalPool2d.key, name: "average", make: { GlobalPool2d(.average) }, input: [3, 4, 5]),
            Sample(key: GlobalPool2d.key, name: "max keep dims", make: { GlobalPool2d(.max, keepDims: true) }, input: [3, 4, 5]),
            Sample(key: Dropout.key, name: "p 0.3", make: { try Dropout(0.3) }, input: [6]),
            Sample(key: DropPath.key, name: "p 0.2", make: { try DropPath(0.2) }, input: [2, 3, 3]),
            Sample(key: Flatten.key, name: "", make: { Flatten() }, input: [2, 3, 3]),
            Sample(key: Reshape.key, name: "[3, -1]", make: { try Reshape([3, -1]) }, input: [2, 3, 3]),
            Sample(key: Reshape.key, name: "channel split keeping H×W", make: { try Reshape([2, 2, 3, 3], trailing: 2) }, input: [4, 3, 3]),
            Sample(key: ZeroPadding2d.key, name: "asymmetric", make: { try ZeroPadding2d(Padding2D(top: 1, bottom: 0, left: 2, right: 1)) }, input: [2, 3, 3]),
            Sample(key: ConstantPad.key, name: "last axis with ones", make: { try ConstantPad(before: [0, 0, 0], after: [0, 0, 1], value: 1) }, input: [2, 3, 4]),
            Sample(key: ConstantPad.key, name: "channels and width", make: { try ConstantPad(before: [1, 0, 2], after: [0, 0, 1], value: -0.5) }, input: [2, 3, 3]),
            Sample(key: Cropping2d.key, name: "asymmetric", make: { try Cropping2d(Padding2D(top: 1, bottom: 0, left: 0, right: 2)) }, input: [2, 4, 5]),
            Sample(key: Merge.key, name: "multiply", make: { Merge(.multiply) }, input: [2, 3, 3], arity: 2),
            Sample(key: Merge.key, name: "concat", make: { Merge(.concatenate) }, input: [2, 3, 3], arity: 2),
            Sample(key: Merge.key, name: "concat along the width", make: { Merge(.concatenate, axis: 2) }, input: [2, 3, 2], arity: 2),
            Sample(key: Merge.key, name: "subtract", make: { Merge(.subtract) }, input: [4], arity: 2),
            Sample(key: Permute.key, name: "channels last", make: { try Permute([1, 2, 0]) }, input: [2, 3, 4]),
            Sample(key: Affine.key, name: "per channel", make: { try Affine(scale: [2, -1], offset: [0.5, 0]) }, input: [2, 3, 3]),
            Sample(key: ConstantOp.key, name: "subtract [2,1,1]", make: { try ConstantOp(.subtract, constant: Tensor(shape: [2, 1, 1], scalars: [0.5, -1])) }, input: [2, 3, 3]),
            Sample(key: ConstantOp.key, name: "reverse divide scalar", make: { try ConstantOp(.reverseDivide, constant: Tensor(2)) }, input: [4], positive: true),
            Sample(key: Clamp.key, name: "-0.5…0.5", make: { try Clamp(low: -0.5, high: 0.5) }, input: [8]),
            Sample(key: LayerNorm.key, name: "channels", make: { try LayerNorm(3, epsilon: 1e-6) }, input: [3, 2, 2]),
            Sample(key: LayerNorm.key, name: "last axis, no β", make: { try LayerNorm(4, center: false, axis: 2) }, input: [2, 3, 4]),
            Sample(key: ReduceMean.key, name: "H, W", make: { try ReduceMean(axes: [1, 2], keepDims: false) }, input: [2, 3, 4]),
            Sample(key: ReduceMean.key, name: "channels kept", make: { try ReduceMean(axes: [0], keepDims: true) }, input: [3, 2, 2]),
            Sample(key: Slice.key, name: "channels 1..<3", make: { try Slice(axis: 0, start: 1, end: 3) }, input: [4, 2, 2]),
            Sample(key: AdaptiveAvgPool2d.key, name: "7×6 → 3×4", make: { try AdaptiveAvgPool2d((3, 4)) }, input: [2, 7, 6]),
            Sample(key: LayerScale.key, name: "3 channels", make: { try LayerScale(3, initial: 0.5) }, input: [3, 2, 2]),
            Sample(key: Slice.key, name: "width step 2", make: { try Slice(axis: 2, start: 0, end: 5, step: 2) }, input: [2, 2, 5]),
            Sample(key: GroupNorm.key, name: "6 channels in 3 groups", make: { try GroupNorm(6, groups: 3, epsilon: 1e-3) }, input: [6, 3, 2]),
            Sample(key: GroupNorm.key, name: "on [C, L], no β", make: { try GroupNorm(4, groups: 2, center: false) }, input: [4, 5]),
            Sample(key: GroupNorm.key, name: "one group per channel, no γ", make: { try GroupNorm(3, groups: 3, scale: false) }, input: [3, 2, 3]),
            Sample(key: UnitNorm.key, name: "channels of an image", make: { try UnitNorm() }, input: [3, 2, 2]),
            Sample(key: UnitNorm.key, name: "a token's width, eps 1e-6", make: { try UnitNorm(epsilon: 1e-6, axis: 1) }, input: [3, 4]),
            Sample(key: Tokens.key, name: "3 channels, 2×4 grid", make: { Tokens() }, input: [3, 2, 4]),
            Sample(key: PrefixTokens.key, name: "two tokens", make: { try PrefixTokens(count: 2, width: 4, generator: g) }, input: [3, 4]),
            Sample(key: PositionEmbedding.key, name: "class token + 2×3", make: { try PositionEmbedding(prefix: 1, grid: (2, 3), width: 4, generator: g) }, input: [7, 4]),
            Sample(key: PositionEmbedding.key, name: "patches only, bicubic", make: { try PositionEmbedding(prefix: 0, grid: (2, 2), width: 3, resize: .bicubic, generator: g) }, input: [4, 3]),
            Sample(key: SelfAttention.key, name: "timm, 2 heads", make: { try SelfAttention(width: 6, heads: 2, generator: g) }, input: [5, 6]),
            Sample(key: SelfAttention.key, name: "torchvision, no q/k/v bias", make: { try SelfAttention(width: 4, heads: 1, bias: false, naming: .torchvision, generator: g) }, input: [3, 4]),
            Sample(key: SelfAttention.key, name: "Hugging Face, 3 heads", make: { try SelfAttention(width: 6, heads: 3, naming: .huggingface, generator: g) }, input: [4, 6]),
            Sample(key: TokenPool.key, name: "class token", make: { try TokenPool(.token(0)) }, input: [4, 3]),
            Sample(key: TokenPool.key, name: "mean after 2", make: { try TokenPool(.mean(skip: 2)) }, input: [5, 3]),
            Sample(key: MatMul.key, name: "square", make: { MatMul() }, input: [2, 3, 3], arity: 2),
            Sample(key: LayerScale.key, name: "on tokens, named gamma", make: { try LayerScale(3, initial: 0.5, name: "gamma", lastAxis: true) }, input: [4, 3]),
            Sample(key: LayerScale.key, name: "on channels, named gamma", make: { try LayerScale(3, initial: 0.5, name: "gamma") }, input: [3, 2, 2]),
            Sample(key: WindowAttention.key, name: "timm, 2×2 windows shifted by 1", make: { try WindowAttention(width: 4, heads: 2, window: 2, shift: 1, rollFirst: true, generator: g) }, input: [4, 4, 4]),
            Sample(key: WindowAttention.key, name: "Hugging Face, 3 heads, not shifted", make: { try WindowAttention(width: 6, heads: 3, window: 2, naming: .huggingface, generator: g) }, input: [2, 4, 6]),
            Sample(key: WindowAttention.key, name: "torchvision, shifted on one axis, no q/k/v bias", make: { try WindowAttention(width: 4, heads: 1, window: 2, shift: 1, bias: false, naming: .torchvision, generator: g) }, input: [2, 6, 4]),
            Sample(key: WindowAttention.key, name: "Swin V2: cosine, position MLP, shifted", make: { try WindowAttention(width: 4, heads: 2, window: 2, shift: 1, naming: .torchvision, cosine: true, generator: g) }, input: [4, 4, 4]),
            Sample(key: Resize.key, name: "bilinear to 5×3 (half-pixel)", make: { try Resize(size: (5, 3)) }, input: [2, 4, 6]),
            Sample(key: Resize.key, name: "nearest ×2 (asymmetric, floor)", make: { try Resize(scale: (2, 2), mode: .nearest, coordinates: .asymmetric, rounding: .floor) }, input: [2, 3, 2]),
            Sample(key: Resize.key, name: "bilinear ×1.5 align corners", make: { try Resize(scale: (1.5, 1.5), coordinates: .alignCorners) }, input: [1, 4, 4]),
            Sample(key: PatchMerging.key, name: "4×2 map", make: { PatchMerging() }, input: [4, 2, 3]),
            Sample(key: Activation.key, name: "softmax on the last axis", make: { Activation(.softmax, axis: -1) }, input: [2, 3, 4]),
        ]
        let functions: [Activation.Function] = [.relu, .relu6, .leakyRelu(0.1), .sigmoid, .tanh, .gelu, .geluTanh, .erf, .silu, .hardsigmoid, .hardswish, .softmax, .logSoftmax, .sqrt]
        for function in functions {
            list.append(Sample(key: Activation.key, name: function.name, make: { Activation(function) }, input: [5], positive: function == .sqrt))
        }
        return list
    }()

    @Test func everyKindHasASample() throws {
        let covered = Set(Self.samples.map(\.key) + [Input.key])
        for key in LayerRegistry.keys {
            #expect(covered.contains(key), "layer kind '\(key)' has no sample in LayerRegistryTests")
        }
        for sample in Self.samples {
            let layer = try sample.make()
            #expect(ONNXExporter.canExport(layer), "layer kind '\(sample.key)' has no ONNX export")
            #expect(layer is any PyTorchExportable, "layer kind '\(sample.key)' has no PyTorch export")
            #expect(LayerRegistry.key(of: layer) == sample.key, "sample \(sample.testDescription) is not of kind \(sample.key)")
        }
        #expect(Set(LayerRegistry.keys).count == LayerRegistry.keys.count, "two kinds share a key")
    }

    /// A model of one layer with non-trivial parameters and buffers.
    static func model(_ sample: Sample, freeInput: Bool = false) throws -> Model {
        var b = try GraphBuilder(inputShape: sample.input, freeAxes: freeInput ? [1, 2] : [])
        try b.add(try sample.make(), name: "layer", inputs: [Int](repeating: b.input, count: sample.arity))
        let model = b.build(name: sample.key, architecture: "test")
        let generator = Generator(seed: 5)
        for (_, parameter) in model.parameters {
            try parameter.assign(try Tensor.randomNormal(parameter.shape, generator: generator) * 0.5 + 0.2, name: "sample")
        }
        for (key, buffer) in model.buffers {
            let values = try Tensor.randomNormal(buffer.shape, generator: generator).scalars.map { key.hasSuffix("var") ? 0.5 + abs($0) : 0.3 * $0 }
            buffer.withUnsafeMutableBufferPointer { for i in $0.indices { $0[i] = values[i] } }
        }
        return model
    }

    static func input(_ sample: Sample, batch: Int = 2) throws -> Tensor {
        let x = try Tensor.randomNormal([batch] + sample.input, generator: Generator(seed: 9))
        return sample.positive ? x.abs() + 0.5 : x
    }

    @Test(arguments: samples) func descriptionRebuildsTheLayerExactly(_ sample: Sample) throws {
        let model = try Self.model(sample)
        let description = try GraphDescription(model)
        let encoded = try JSONEncoder().encode(description)
        let decoded = try JSONDecoder().decode(GraphDescription.self, from: encoded)
        #expect(decoded == description)
        let rebuilt = try decoded.build(name: "rebuilt")
        try StateDictLoader.apply(StateDict(tensors: model.parameters.map { ($0.key, $0.parameter.value) } + model.buffers.map { ($0.key, $0.tensor) }), to: rebuilt)
        #expect(rebuilt.nodes.map(\.layer.kind) == model.nodes.map(\.layer.kind))
        #expect(rebuilt.nodes.map(\.outputShape) == model.nodes.map(\.outputShape))
        let x = try Self.input(sample)
        #expect(try rebuilt.predict(x).scalars == model.predict(x).scalars)
    }

    @Test(arguments: samples) func onnxExportImportsBackToTheSameOutputs(_ sample: Sample) throws {
        let model = try Self.model(sample)
        let data = try ONNXExporter.encode(model)
        let imported = try ONNXImporter.load(data, name: "\(sample.key).onnx", modelName: "imported", inputShape: sample.input)
        let x = try Self.input(sample)
        let (want, got) = (try model.predict(x), try imported.predict(x))
        #expect(got.shape == want.shape)
        let worst = zip(got.scalars, want.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-5 * (1 + (want.scalars.map(abs).max() ?? 0)), "\(sample.testDescription): max |Δ| \(worst)")
    }

    /// The state_dict keys a `torch.nn` module has (for modules graft's export writes directly).
    static let torchKeys: [String: Set<String>] = [
        "nn.Conv2d": ["weight", "bias"], "nn.Linear": ["weight", "bias"], "nn.LayerNorm": ["weight", "bias"], "nn.GroupNorm": ["weight", "bias"],
        "nn.Parameter": [""],
        "nn.BatchNorm1d": ["weight", "bias", "running_mean", "running_var"], "nn.BatchNorm2d": ["weight", "bias", "running_mean", "running_var"],
    ]

    /// Every kind writes itself into `model.py`: its module registered under the layer's name, the
    /// helper classes it names in the prelude (with the ones they call), and a state_dict key in
    /// the module for each of the layer's parameters and buffers (read off the module's class: a
    /// `torch.nn` module's known keys, or the helper's `nn.Parameter`s and buffers), so the export's
    /// weights load with strict=True. (scripts/check-pytorch-export.sh runs the files in PyTorch.)
    @Test(arguments: samples) func pytorchExportWritesTheLayerUnderItsKeys(_ sample: Sample) throws {
        let model = try Self.model(sample)
        let source = try PyTorchExporter.source(model, header: "test")
        let (path, module) = try #require(try PyTorchExporter.modules(model)[1])
        #expect(path == "layer")
        #expect(source.contains("put(self, \"layer\", \(module.constructor))"), "\(sample.testDescription): \(module.constructor)")
        var helpers = module.helpers
        while let helper = helpers.popLast() {
            #expect(source.contains(helper.source.trimmingCharacters(in: .newlines)), "\(sample.testDescription): helper \(helper.name) missing")
            helpers += helper.needs
        }
        let className = String(module.constructor.prefix { $0 != "(" })
        var keys = Self.torchKeys[className] ?? []
        if let helper = module.helpers.first(where: { $0.source.contains("class \(className)(") }) {
            let body = helper.source
            let declaration = body.split(separator: "\n").first { $0.hasPrefix("class \(className)(") } ?? ""
            for base in Self.torchKeys.keys where declaration.contains(base + ")") || declaration.contains(base + ",") { keys.formUnion(Self.torchKeys[base] ?? []) }
            let layer = model.nodes[1].layer
            for key in layer.parameters.map(\.key) + layer.buffers.map(\.key)
                where body.contains("self.\(key) = nn.Parameter") || body.contains("register_buffer(\"\(key)\"") || body.contains("self.\(key) = None") {
                keys.insert(key)
            }
            // Keys of the nn.Linear submodules a helper makes (`self.qkv = nn.Linear` holds qkv.weight
            // and qkv.bias), and a parameter registered under the name the constructor passes.
            for key in layer.parameters.map(\.key) {
                let owner = key.split(separator: ".").dropLast().joined(separator: ".")
                if !owner.isEmpty, body.contains("self.\(owner) = nn.Linear") { keys.insert(key) }
                // An nn.Sequential's numbered members (`self.cpb_mlp = nn.Sequential(nn.Linear(…), …)` holds cpb_mlp.0.weight).
                let parts = owner.split(separator: ".")
                if parts.count == 2, Int(parts[1]) != nil, body.contains("self.\(parts[0]) = nn.Sequential(nn.Linear") { keys.insert(key) }
                if body.contains("self.register_parameter(name,"), module.constructor.contains(Py.string(key)) { keys.insert(key) }
            }
        }
        let layer = model.nodes[1].layer
        for key in layer.parameters.map(\.key) + layer.buffers.map(\.key) {
            #expect(keys.contains(key), "\(sample.testDescription): \(className) has no state_dict key '\(key)'")
        }
    }

    @Test(arguments: samples) func gradientsMatchFiniteDifferences(_ sample: Sample) throws {
        let model = try Self.model(sample)
        let x = try Self.input(sample).requiringGrad()
        let context = ForwardContext(training: false)
        let output = try model.forward(x, context)
        let projection = try Tensor.randomNormal(output.shape, generator: Generator(seed: 13))
        try output.backward(seed: projection)
        func loss(_ input: Tensor) throws -> Double {
            let y = try withoutGradients { () throws(ModelError) in try model.forward(input, context) }
            return zip(y.scalars, projection.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        let epsilon: Float = 3e-3
        func check(_ what: String, _ analytic: [Float], count: Int, perturb: (Int, Float) throws -> Double) throws {
            #expect(analytic.count == count, "\(sample.testDescription): \(what) has no gradient of the right size")
            for element in stride(from: 0, to: count, by: Swift.max(1, count / 12)) {
                let numeric = Float((try perturb(element, epsilon) - perturb(element, -epsilon)) / Double(2 * epsilon))
                #expect(abs(analytic[element] - numeric) <= 2e-2 * (1 + abs(numeric)),
                        "\(sample.testDescription): ∂/∂\(what)[\(element)] analytic \(analytic[element]) vs numeric \(numeric)")
            }
        }
        try check("input", x.grad?.scalars ?? [], count: x.count) { element, delta in
            let moved = x.detached().copied()
            moved.withUnsafeMutableBufferPointer { $0[element] += delta }
            return try loss(moved)
        }
        for (key, parameter) in model.parameters {
            let original = parameter.value.copied()
            try check(key, parameter.grad?.scalars ?? [], count: parameter.count) { element, delta in
                let moved = original.copied()
                moved.withUnsafeMutableBufferPointer { $0[element] += delta }
                try parameter.assign(moved, name: key)
                defer { try? parameter.assign(original, name: key) }
                return try loss(x.detached())
            }
        }
    }

    /// The rest of graft asks a layer what it can do (LayerCapabilities.swift), never which kind it
    /// is: no source file outside the places that construct layers — the layers themselves and the
    /// registry, the importers and the architectures — tests or casts to a
    /// concrete kind (`is Conv2d`, `as? BatchNorm`, `case let x as Dense`). A new kind gets the right
    /// treatment everywhere by declaring its capabilities.
    @Test func noCodeOutsideConstructorsNamesALayerKind() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")
        let allowed = ["GraftNN/Layers/", "GraftNN/Layer.swift", "GraftModels/Importers/", "GraftModels/Architectures/"]
        let names = LayerRegistry.kinds.map { String(describing: $0) }
        #expect(names.contains("BatchNorm") && names.contains("Conv2d"))
        let pattern = try Regex("\\b(as[?!]?|is) +(any +)?(\(names.joined(separator: "|")))\\b")
        var found: [String] = []
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        #expect(files.count > 100)
        for file in files.sorted() where !allowed.contains(where: { file.hasPrefix($0) }) {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.components(separatedBy: "//").first ?? ""
                if code.contains(pattern) { found.append("\(file):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))") }
            }
        }
        #expect(found.isEmpty, "ask the layer's capabilities instead:\n\(found.joined(separator: "\n"))")
    }

    @Test func freeInputAxesSurviveADescriptionAndOtherSizesRun() throws {
        let sample = Sample(key: Conv2d.key, name: "free", make: { try Conv2d(2, 3, kernel: (3, 3), padding: .same, generator: Self.g) }, input: [2, 8, 8])
        let model = try Self.model(sample, freeInput: true)
        #expect(model.describedInputShape == "2×?×?")
        let rebuilt = try GraphDescription(model).build(name: "rebuilt")
        #expect(rebuilt.freeInputAxes == [1, 2])
        #expect(try model.predict(try Tensor.zeros([1, 2, 5, 7])).shape == [1, 3, 5, 7])
        #expect(try model.nodeShapes(forInput: [2, 5, 7]).last == [3, 5, 7])
    }
}
