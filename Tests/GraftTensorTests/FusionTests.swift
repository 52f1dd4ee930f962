import Testing
@testable import GraftTensor

/// `conv2dInference` applies a BatchNorm's inference map and a clamp or an activation as the convolution writes its
/// output, on every convolution path (depthwise, Winograd, im2col per image, images batched per
/// GEMM, pointwise, grouped): the same bits as the ops run one after another.
@Suite("Fused inference convolutions")
struct FusionTests {
    /// (input, weight shape, stride, padding, groups): one case per convolution path.
    static let cases: [(String, [Int], [Int], Int, Int, Int)] = [
        ("depthwise", [2, 8, 9, 9], [8, 1, 3, 3], 1, 1, 8),
        ("winograd", [2, 16, 20, 20], [16, 16, 3, 3], 1, 1, 1),
        ("im2col per image", [2, 4, 18, 18], [6, 4, 3, 3], 2, 0, 1),
        ("images per GEMM", [3, 8, 6, 6], [10, 8, 3, 3], 1, 1, 1),
        ("pointwise", [2, 8, 17, 17], [12, 8, 1, 1], 1, 0, 1),
        ("grouped, images per GEMM", [3, 8, 5, 5], [8, 4, 3, 3], 1, 1, 2),
    ]

    @Test(arguments: 0..<6)
    func matchesConvolutionThenBatchNormThenClamp(_ row: Int) throws {
        let (name, input, weightShape, stride, pad, groups) = Self.cases[row]
        let generator = Generator(seed: UInt64(row + 1))
        let x = try Tensor.randomNormal(input, generator: generator)
        let w = try Tensor.randomNormal(weightShape, std: 0.3, generator: generator)
        let channels = weightShape[0]
        let bias = try Tensor.randomNormal([channels], generator: generator)
        let gamma = try Tensor.randomNormal([channels], generator: generator)
        let beta = try Tensor.randomNormal([channels], generator: generator)
        let mean = try Tensor.randomNormal([channels], std: 0.5, generator: generator)
        let variance = try Tensor.randomUniform([channels], low: 0.2, high: 2, generator: generator)
        let padding = Padding2D(pad, pad)
        let conv = try x.conv2d(w, bias: bias, stride: (stride, stride), padding: padding, groups: groups)
        let normalized = try conv.batchNorm(weight: gamma, bias: beta, runningMean: mean, runningVar: variance, training: false, epsilon: 1e-3)
        let (scale, shift) = try Tensor.batchNormInferenceAffine(weight: gamma, bias: beta, runningMean: mean, runningVar: variance, epsilon: 1e-3)
        for (low, high, expected) in [(Float(0), Float(6), try normalized.relu6()), (0, .infinity, normalized.relu()),
                                      (-.infinity, .infinity, normalized), (-0.5, 0.25, try normalized.clamp(-0.5, 0.25))] {
            let fused = try x.conv2dInference(w, bias: bias, stride: (stride, stride), padding: padding, groups: groups,
                                              epilogue: ConvEpilogue(scale: scale, shift: shift, low: low, high: high))
            #expect(fused.shape == expected.shape, "\(name)")
            #expect(fused.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern), "\(name), clamp \(low)…\(high)")
        }
        // The activations beyond clamps, after the map, in both layouts (the channels-last kernels for the
        // depthwise and pointwise cases).
        let functions: [(ConvEpilogue.Function, Tensor)] = [(.hardswish, normalized.hardswish()), (.hardsigmoid, normalized.hardsigmoid()),
                                                            (.silu, normalized.silu()), (.sigmoid, normalized.sigmoid()),
                                                            (.gelu, normalized.gelu())]
        for (function, expected) in functions {
            let epilogue = ConvEpilogue(scale: scale, shift: shift, function: function)
            let fused = try x.conv2dInference(w, bias: bias, stride: (stride, stride), padding: padding, groups: groups, epilogue: epilogue)
            #expect(fused.scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern), "\(name), \(function)")
            guard Tensor.runsChannelsLast(inChannels: input[1], weight: weightShape, stride: (stride, stride), padding: padding,
                                          dilation: (1, 1), groups: groups) else { continue }
            let last = try x.channelsLast().conv2dChannelsLast(w, bias: bias, stride: (stride, stride), padding: padding, groups: groups, epilogue: epilogue)
            #expect(try last.channelsFirst().scalars.map(\.bitPattern) == expected.scalars.map(\.bitPattern), "\(name), \(function), channels-last")
        }
        // A clamp alone (a convolution followed directly by its activation).
        let clampedOnly = try x.conv2dInference(w, bias: bias, stride: (stride, stride), padding: padding, groups: groups,
                                                epilogue: ConvEpilogue(low: 0, high: .infinity))
        #expect(clampedOnly.scalars.map(\.bitPattern) == conv.relu().scalars.map(\.bitPattern), "\(name), ReLU alone")
    }

    @Test func refusesInputsThatNeedAGradient() throws {
        let generator = Generator(seed: 9)
        let x = try Tensor.randomNormal([1, 2, 5, 5], generator: generator)
        let w = try Tensor.randomNormal([3, 2, 3, 3], generator: generator).requiringGrad()
        #expect(throws: TensorError.self) { try x.conv2dInference(w, epilogue: ConvEpilogue(low: 0)) }
        // Without recording (inference), the same call is fine.
        let y = try withoutGradients { try x.conv2dInference(w, epilogue: ConvEpilogue(low: 0)) }
        #expect(y.shape == [1, 3, 3, 3])
        #expect(throws: TensorError.self) {
            try withoutGradients { try x.conv2dInference(w, epilogue: ConvEpilogue(scale: [1, 1], shift: [0, 0])) }
        }
        #expect(throws: TensorError.self) { try withoutGradients { try x.conv2dInference(w, epilogue: ConvEpilogue(low: 1, high: 0)) } }
    }
}

/// `linearInference` adds the bias and applies a clamp or an activation to each block of the output as
/// the product finishes it (GEMM.Finish): the same bits as `linear` and then the activation, on shapes
/// around the GEMM's blocks (several blocks of rows, of columns and of k; partial tiles; columns read
/// in place below 512), in both numerics and, where the CPU has it, in bf16.
@Suite("Fused inference linear layers")
struct LinearFusionTests {
    static let shapes: [(rows: Int, inFeatures: Int, outFeatures: Int)] = [
        (7, 5, 3), (200, 300, 300), (1000, 64, 40), (97, 257, 513), (1, 1, 1),
    ]

    @Test(arguments: 0..<5)
    func matchesLinearThenTheActivation(_ row: Int) throws {
        let (rows, inFeatures, outFeatures) = Self.shapes[row]
        let generator = Generator(seed: UInt64(40 + row))
        let x = try Tensor.randomNormal([rows, inFeatures], generator: generator)
        let w = try Tensor.randomNormal([outFeatures, inFeatures], std: 0.3, generator: generator)
        let bias = try Tensor.randomNormal([outFeatures], generator: generator)
        let saved = Numerics.current
        defer { Numerics.current = saved; try? Precision.set(.float32) }
        var settings: [(Numerics, Precision)] = [(.portable, .float32), (.native, .float32)]
        if Precision.available { settings.append((.portable, .bf16)) }
        for (numerics, precision) in settings {
            Numerics.current = numerics
            try Precision.set(precision)
            let plain = try x.linear(w, bias: bias)
            let cases: [(String, ConvEpilogue, Tensor)] = [
                ("none", ConvEpilogue(), plain), ("ReLU", ConvEpilogue(low: 0), plain.relu()), ("ReLU6", ConvEpilogue(low: 0, high: 6), plain.relu6()),
                ("GELU", ConvEpilogue(function: .gelu), plain.gelu()), ("SiLU", ConvEpilogue(function: .silu), plain.silu()),
                ("hardswish", ConvEpilogue(function: .hardswish), plain.hardswish()),
            ]
            for (name, epilogue, expected) in cases {
                let fused = try x.linearInference(w, bias: bias, epilogue: epilogue)
                #expect(fused.shape == [rows, outFeatures])
                let differing = zip(fused.scalars, expected.scalars).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(differing == 0, "\(rows)×\(inFeatures)→\(outFeatures), \(name), \(numerics), \(precision): \(differing) differ")
            }
            // Without a bias, and on samples of rank 3 (tokens).
            let tokens = try x.reshaped([1, rows, inFeatures])
            let unbiased = try tokens.linearInference(w, epilogue: ConvEpilogue(function: .gelu))
            #expect(unbiased.scalars.map(\.bitPattern) == (try tokens.linear(w).gelu()).scalars.map(\.bitPattern), "no bias, \(numerics)")
        }
    }

    @Test func refusesWhatLinearRefuses() throws {
        let generator = Generator(seed: 9)
        let x = try Tensor.randomNormal([4, 3], generator: generator)
        let w = try Tensor.randomNormal([2, 3], generator: generator)
        #expect(throws: TensorError.self) { try x.linearInference(w.requiringGrad(), epilogue: ConvEpilogue(low: 0)) }
        #expect(throws: TensorError.self) { try x.linearInference(try Tensor.randomNormal([2, 4], generator: generator), epilogue: ConvEpilogue()) }
        #expect(throws: TensorError.self) { try x.linearInference(w, bias: try Tensor.zeros([3]), epilogue: ConvEpilogue()) }
        #expect(throws: TensorError.self) { try x.linearInference(w, epilogue: ConvEpilogue(scale: [1], shift: [0])) }
        #expect(throws: TensorError.self) { try x.linearInference(w, epilogue: ConvEpilogue(low: 1, high: 0)) }
        #expect(try withoutGradients { try x.linearInference(w.requiringGrad(), epilogue: ConvEpilogue(low: 0)) }.shape == [4, 2])
    }
}

/// The depthwise kernel's whole-plane path (strides 1 and 2, phase planes) against the same
/// convolution computed one channel at a time through im2col, for odd and even sizes, 3×3 and 5×5
/// kernels, symmetric and TensorFlow's asymmetric "same" padding; and a dilated one (the general path).
@Suite("Depthwise kernel")
struct DepthwiseTests {
    static let cases: [(size: Int, kernel: Int, stride: Int, padding: Padding2D, dilation: Int)] = [
        (9, 3, 1, Padding2D(1, 1), 1), (10, 3, 2, Padding2D(1, 1), 1), (11, 5, 2, Padding2D(top: 1, bottom: 2, left: 1, right: 2), 1),
        (7, 5, 1, Padding2D(2, 2), 1), (8, 3, 2, Padding2D(top: 0, bottom: 1, left: 0, right: 1), 1), (13, 3, 1, Padding2D(2, 2), 2),
        (6, 3, 2, .zero, 1),
    ]

    @Test(arguments: 0..<7)
    func matchesOneChannelAtATime(_ row: Int) throws {
        let (size, kernel, stride, padding, dilation) = Self.cases[row]
        let generator = Generator(seed: UInt64(20 + row))
        let channels = 3
        let x = try Tensor.randomNormal([2, channels, size, size], generator: generator)
        let w = try Tensor.randomNormal([channels, 1, kernel, kernel], generator: generator)
        let bias = try Tensor.randomNormal([channels], generator: generator)
        let depthwise = try x.conv2d(w, bias: bias, stride: (stride, stride), padding: padding, dilation: (dilation, dilation), groups: channels)
        for c in 0..<channels {
            let xc = try x.sliced(axis: 1, start: c, end: c + 1)
            let one = try xc.conv2d(try w.sliced(axis: 0, start: c, end: c + 1), bias: try bias.sliced(axis: 0, start: c, end: c + 1),
                                    stride: (stride, stride), padding: padding, dilation: (dilation, dilation))
            let got = try depthwise.sliced(axis: 1, start: c, end: c + 1)
            #expect(got.shape == one.shape)
            let worst = zip(got.scalars, one.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-5, "case \(row), channel \(c): \(worst)")
        }
    }
}

/// Every depthwise output is one chain of fused multiply-adds from the bias over the taps in
/// row-major order, whichever path computes it: the whole-plane kernel (register groups of 32,
/// 16 and 8 outputs with an overlapping last group, one at a time below 8, the wide run of
/// planes narrower than 8) and the general path give exactly the bits of that chain written out.
@Suite("Depthwise chains")
struct DepthwiseChainTests {
    static let cases: [(size: Int, kernel: Int, stride: Int, padding: Padding2D, dilation: Int)] = [
        (7, 3, 1, Padding2D(1, 1), 1), (14, 3, 1, Padding2D(1, 1), 1), (20, 5, 1, Padding2D(2, 2), 1), (45, 3, 1, Padding2D(1, 1), 1),
        (15, 7, 1, Padding2D(3, 3), 1), (41, 3, 2, Padding2D(1, 1), 1), (70, 5, 2, Padding2D(top: 1, bottom: 2, left: 1, right: 2), 1),
        (13, 3, 1, Padding2D(2, 2), 2), (9, 3, 3, Padding2D(1, 1), 1), (5, 3, 1, Padding2D(1, 1), 1),
    ]

    @Test(arguments: 0..<10)
    func sameBitsAsTheChainWrittenOut(_ row: Int) throws {
        let (size, kernel, stride, padding, dilation) = Self.cases[row]
        let generator = Generator(seed: UInt64(40 + row))
        let (batch, channels) = (2, 3)
        let x = try Tensor.randomNormal([batch, channels, size, size], generator: generator)
        let w = try Tensor.randomNormal([channels, 1, kernel, kernel], generator: generator)
        let bias = try Tensor.randomNormal([channels], generator: generator)
        let y = try withoutGradients {
            try x.conv2d(w, bias: bias, stride: (stride, stride), padding: padding, dilation: (dilation, dilation), groups: channels)
        }
        let out = (size + padding.top + padding.bottom - dilation * (kernel - 1) - 1) / stride + 1
        #expect(y.shape == [batch, channels, out, out])
        let (xs, ws, bs, ys) = (x.scalars, w.scalars, bias.scalars, y.scalars)
        var mismatches = 0
        for n in 0..<batch {
            for c in 0..<channels {
                for oh in 0..<out {
                    for ow in 0..<out {
                        var chain = bs[c]
                        for i in 0..<kernel {
                            for j in 0..<kernel {
                                let (ih, iw) = (oh * stride - padding.top + i * dilation, ow * stride - padding.left + j * dilation)
                                guard ih >= 0, ih < size, iw >= 0, iw < size else { continue }
                                chain = chain.addingProduct(ws[(c * kernel + i) * kernel + j], xs[((n * channels + c) * size + ih) * size + iw])
                            }
                        }
                        if ys[((n * channels + c) * out + oh) * out + ow] != chain { mismatches += 1 }
                    }
                }
            }
        }
        #expect(mismatches == 0, "case \(row): \(mismatches) outputs differ from the chain")
    }
}

/// More padding on the left than a window can use: the first valid column lies past the output. Every
/// convolution path must stay inside its rows (it wrote past them before) and match the zero-padded input.
@Suite("Windows over tiny inputs")
struct TinyWindowTests {
    @Test(arguments: [1, 2])
    func asymmetricPaddingWiderThanTheInput(_ groups: Int) throws {
        let generator = Generator(seed: 31)
        let x = try Tensor.randomNormal([2, 2, 1, 1], generator: generator)
        let w = try Tensor.randomNormal([2, 2 / groups, 3, 3], generator: generator)
        let padding = Padding2D(top: 2, bottom: 0, left: 2, right: 0)
        let y = try x.conv2d(w, padding: padding, groups: groups)
        let padded = try x.padded([(0, 0), (0, 0), (2, 0), (2, 0)])
        let reference = try padded.conv2d(w, groups: groups)
        #expect(y.shape == [2, 2, 1, 1])
        #expect(y.scalars == reference.scalars)
    }
}

/// The convolution paths that run several images per GEMM give each image the gradients it gets alone
/// (batch 1 takes the per-image path): input, weight and bias gradients, strided and padded.
@Suite("Convolution gradients, images batched")
struct BatchedConvolutionGradientTests {
    /// (input, weight shape, stride, padding, groups)
    static let cases: [([Int], [Int], Int, Int, Int)] = [
        ([5, 16, 8, 8], [24, 16, 3, 3], 2, 1, 1),
        ([5, 16, 8, 8], [24, 16, 1, 1], 2, 0, 1),
        ([4, 8, 6, 6], [10, 8, 3, 3], 1, 1, 1),
        ([3, 8, 7, 7], [8, 4, 3, 3], 2, 1, 2),
        ([20, 64, 8, 8], [64, 64, 3, 3], 1, 1, 1),
        ([20, 64, 8, 8], [128, 64, 3, 3], 2, 1, 1),
    ]

    @Test(arguments: 0..<6)
    func batchedEqualsOneImageAtATime(_ row: Int) throws {
        let (input, weightShape, stride, pad, groups) = Self.cases[row]
        let generator = Generator(seed: UInt64(row + 11))
        let x = try Tensor.randomNormal(input, generator: generator).requiringGrad()
        let w = try Tensor.randomNormal(weightShape, std: 0.3, generator: generator).requiringGrad()
        let seed = try Tensor.randomNormal(try x.conv2d(w, stride: (stride, stride), padding: Padding2D(pad, pad), groups: groups).shape, generator: generator)
        try x.conv2d(w, stride: (stride, stride), padding: Padding2D(pad, pad), groups: groups).backward(seed: seed)
        let (batchedX, batchedW) = (try #require(x.grad).scalars, try #require(w.grad).scalars)
        var weightSum = [Float](repeating: 0, count: w.count)
        for image in 0..<input[0] {
            let xi = try x.sliced(axis: 0, start: image, end: image + 1).copied().requiringGrad()
            let wi = w.copied().requiringGrad()
            let yi = try xi.conv2d(wi, stride: (stride, stride), padding: Padding2D(pad, pad), groups: groups)
            try yi.backward(seed: try seed.sliced(axis: 0, start: image, end: image + 1).copied())
            let expected = try #require(xi.grad).scalars, size = expected.count
            let got = Array(batchedX[image * size..<(image + 1) * size])
            let error = zip(got, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(error <= 1e-4 * (1 + (expected.map(abs).max() ?? 0)), "case \(row), image \(image): input gradient off by \(error)")
            for (i, g) in try #require(wi.grad).scalars.enumerated() { weightSum[i] += g }
        }
        let error = zip(batchedW, weightSum).map { abs($0 - $1) }.max() ?? 0
        #expect(error <= 1e-4 * (1 + (weightSum.map(abs).max() ?? 0)), "case \(row): weight gradient off by \(error)")
    }
}

/// Small planes' 3×3 stride-1 convolutions run Winograd's F(2×2, 3×3) over chunks of images, their
/// tiles side by side in each GEMM: the output (with bias, and with a fused BatchNorm and ReLU) and the
/// input's gradient equal, bit for bit, those of one image at a time (a batch of one runs the
/// per-image Winograd path). Cases: odd sizes, asymmetric padding, and a batch of two chunks.
@Suite("Winograd, images batched")
struct BatchedWinogradTests {
    static let cases: [([Int], [Int], Padding2D)] = [
        ([6, 16, 8, 8], [16, 16, 3, 3], Padding2D(1, 1)),
        ([5, 24, 7, 5], [16, 24, 3, 3], Padding2D(top: 0, bottom: 1, left: 2, right: 0)),
        ([3, 16, 6, 6], [32, 16, 3, 3], Padding2D(2, 2)),
        ([66, 128, 8, 8], [128, 128, 3, 3], Padding2D(1, 1)),
    ]

    @Test(arguments: 0..<4)
    func batchedEqualsOneImageAtATime(_ row: Int) throws {
        let (input, weightShape, padding) = Self.cases[row]
        var geometry = try Tensor.window(op: "conv2d", input: input, kernel: (3, 3), stride: (1, 1), padding: padding, dilation: (1, 1))
        geometry.channels = input[1]
        let plan = ConvPlan(batch: input[0], groups: 1, outPerGroup: weightShape[0], geometry: geometry)
        #expect(plan.batchesImages && plan.winogradForward != nil && plan.winogradData != nil, "the batched Winograd path")
        if row == 3 {
            let chunk = ConvPlan.columnBudget / (plan.winogradForward?.scratchCount() ?? 1)
            #expect(chunk < input[0], "two chunks")
        }
        let generator = Generator(seed: UInt64(row + 31))
        let x = try Tensor.randomNormal(input, generator: generator).requiringGrad()
        let w = try Tensor.randomNormal(weightShape, std: 0.3, generator: generator)
        let bias = try Tensor.randomNormal([weightShape[0]], generator: generator)
        let (scale, shift) = ((0..<weightShape[0]).map { Float($0 % 5) * 0.3 - 0.4 }, (0..<weightShape[0]).map { Float($0 % 3) * 0.2 - 0.1 })
        let epilogue = ConvEpilogue(scale: scale, shift: shift, low: 0)
        let y = try x.conv2d(w, bias: bias, padding: padding)
        let fused = try x.detached().conv2dInference(w, bias: bias, padding: padding, epilogue: epilogue)
        let seed = try Tensor.randomNormal(y.shape, generator: generator)
        try y.backward(seed: seed)
        let (ys, fusedYs, dxs) = (y.scalars, fused.scalars, try #require(x.grad).scalars)
        var bad: [String] = []
        for image in 0..<input[0] {
            let xi = try x.detached().sliced(axis: 0, start: image, end: image + 1).copied().requiringGrad()
            let yi = try xi.conv2d(w, bias: bias, padding: padding)
            let fusedI = try xi.detached().conv2dInference(w, bias: bias, padding: padding, epilogue: epilogue)
            try yi.backward(seed: try seed.sliced(axis: 0, start: image, end: image + 1).copied())
            let (outs, ins) = (yi.count, xi.count)
            if Array(ys[image * outs..<(image + 1) * outs]).map(\.bitPattern) != yi.scalars.map(\.bitPattern) { bad.append("y[\(image)]") }
            if Array(fusedYs[image * outs..<(image + 1) * outs]).map(\.bitPattern) != fusedI.scalars.map(\.bitPattern) { bad.append("fused y[\(image)]") }
            if Array(dxs[image * ins..<(image + 1) * ins]).map(\.bitPattern) != (try #require(xi.grad)).scalars.map(\.bitPattern) { bad.append("dx[\(image)]") }
        }
        #expect(bad.isEmpty, "case \(row) differs: \(bad.prefix(6))")
    }
}

/// Winograd's transforms, bit for bit: the kernel's U = G g Gᵀ (eight input channels to a vector) against
/// its definition, element by element, for the forward's kernel and the data gradient's (transposed,
/// rotated), channel counts off the blocks of eight; and the transforms for small planes (`TileColumns`:
/// eight columns of tiles at a time, gathered and scattered through tables) against the row transforms:
/// odd sizes, asymmetric padding, column counts off the blocks of eight, one image and several side by
/// side, with and without bias.
@Suite("Winograd's transforms")
struct TileColumnsTests {
    @Test(arguments: [(16, 24), (5, 7), (13, 19)])
    func kernelTransformEqualsItsDefinition(_ shape: (Int, Int)) throws {
        let (o, i) = shape
        let w = try Tensor.randomNormal([o, i, 3, 3], generator: Generator(seed: 3))
        for flipped in [false, true] {
            let (outs, ins) = flipped ? (i, o) : (o, i)
            let u = Winograd.transformWeights(w.storage.pointer, outChannels: outs, inChannels: ins, transposedAndFlipped: flipped)
            var bad = 0
            for a in 0..<outs {
                for c in 0..<ins {
                    let g: [Float] = (0..<9).map { flipped ? w.scalars[(c * outs + a) * 9 + 8 - $0] : w.scalars[(a * ins + c) * 9 + $0] }
                    // t = G·g, then U = t·Gᵀ, G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
                    func transformed(_ x0: Float, _ x1: Float, _ x2: Float) -> [Float] {
                        let sum: Float = x0 + x1 + x2, difference: Float = x0 - x1 + x2
                        return [x0, 0.5 * sum, 0.5 * difference, x2]
                    }
                    let t: [[Float]] = (0..<3).map { col in transformed(g[col], g[3 + col], g[6 + col]) }
                    for row in 0..<4 {
                        for (col, want) in transformed(t[0][row], t[1][row], t[2][row]).enumerated()
                            where u.pointer[(row * 4 + col) * outs * ins + a * ins + c].bitPattern != want.bitPattern { bad += 1 }
                    }
                }
            }
            #expect(bad == 0, "\(bad) values differ, \(shape), flipped \(flipped)")
        }
    }

    @Test(arguments: [([1, 16, 8, 8], 16, 1, 1, 1, 1), ([3, 16, 4, 4], 24, 1, 1, 1, 1), ([2, 16, 7, 5], 16, 0, 1, 2, 0),
                      ([3, 20, 9, 11], 16, 2, 2, 2, 2), ([5, 16, 2, 3], 16, 1, 1, 1, 1), ([2, 16, 20, 18], 16, 1, 1, 1, 1)])
    func equalTheRowTransforms(_ c: ([Int], Int, Int, Int, Int, Int)) throws {
        let (input, out) = (c.0, c.1)
        let padding = Padding2D(top: c.2, bottom: c.3, left: c.4, right: c.5)
        let g = try Tensor.window(op: "conv2d", input: input, kernel: (3, 3), stride: (1, 1), padding: padding, dilation: (1, 1))
        let plan = Winograd.Plan(inChannels: input[1], outChannels: out, height: input[2], width: input[3], padTop: c.2, padLeft: c.4,
                                 outputHeight: g.outputHeight, outputWidth: g.outputWidth)
        let generator = Generator(seed: 37)
        let x = try Tensor.randomNormal(input, generator: generator)
        let w = try Tensor.randomNormal([out, input[1], 3, 3], generator: generator)
        let bias = try Tensor.randomNormal([out], generator: generator)
        let u = Winograd.transformWeights(w.storage.pointer, outChannels: out, inChannels: input[1], transposedAndFlipped: false)
        let scratch = Storage(uninitializedCount: plan.scratchCount(images: input[0]))
        func run(_ byColumns: Bool, _ withBias: Bool) -> [UInt32] {
            let y = Tensor(uninitializedShape: [input[0], out, g.outputHeight, g.outputWidth])
            Winograd.convolve(plan, images: input[0], x: x.storage.pointer, u: u.pointer, bias: withBias ? bias.storage.pointer : nil,
                              y: y.storage.pointer, scratch: scratch.pointer, byColumns: byColumns)
            return y.scalars.map(\.bitPattern)
        }
        for withBias in [false, true] {
            let (columns, rows) = (run(true, withBias), run(false, withBias))
            let same = columns == rows
            #expect(same, "\(input) padding \(padding), bias \(withBias)")
        }
    }
}

/// BatchNorm in training mode against the closed form computed in Double, on the shapes of a
/// ResNet-18 at 32×32 (the per-channel work splits differently by plane size).
@Suite("BatchNorm training gradients")
struct BatchNormTrainingGradientTests {
    @Test(arguments: [[20, 64, 16, 16], [20, 64, 8, 8], [20, 128, 4, 4], [3, 5, 7, 7], [20, 512, 1, 1]])
    func matchesTheClosedForm(_ shape: [Int]) throws {
        let generator = Generator(seed: 5)
        let (n, c, plane) = (shape[0], shape[1], shape[2] * shape[3])
        let x = try Tensor.randomNormal(shape, std: 2, generator: generator).requiringGrad()
        let gamma = try Tensor.randomNormal([c], generator: generator).requiringGrad()
        let beta = try Tensor.randomNormal([c], generator: generator).requiringGrad()
        let dy = try Tensor.randomNormal(shape, generator: generator)
        let y = try x.batchNorm(weight: gamma, bias: beta, runningMean: try Tensor.zeros([c]), runningVar: try Tensor.ones([c]), training: true)
        try y.backward(seed: dy)
        let (xs, dys, g) = (x.scalars.map(Double.init), dy.scalars.map(Double.init), gamma.scalars.map(Double.init))
        let dx = try #require(x.grad).scalars
        var worst = 0.0
        for channel in 0..<c {
            let indices = (0..<n).flatMap { i in (0..<plane).map { (i * c + channel) * plane + $0 } }
            let count = Double(indices.count)
            let mean = indices.reduce(0) { $0 + xs[$1] } / count
            let variance = indices.reduce(0) { $0 + (xs[$1] - mean) * (xs[$1] - mean) } / count
            let inverse = 1 / (variance + 1e-5).squareRoot()
            let meanDy = indices.reduce(0) { $0 + dys[$1] } / count
            let meanDyXhat = indices.reduce(0) { $0 + dys[$1] * (xs[$1] - mean) * inverse } / count
            for i in indices {
                let expected = g[channel] * inverse * (dys[i] - meanDy - (xs[i] - mean) * inverse * meanDyXhat)
                worst = max(worst, abs(Double(dx[i]) - expected) / (1 + abs(expected)))
            }
        }
        #expect(worst < 1e-4, "input gradient off by \(worst) (relative) for \(shape)")
    }
}

/// Convolution gradients against a direct Double computation, on ResNet-18's shapes at 32×32.
@Suite("Convolution gradients against the definition")
struct ConvolutionDefinitionTests {
    @Test(arguments: [([4, 64, 8, 8], [64, 64, 3, 3], 1, 1), ([4, 16, 8, 8], [16, 16, 3, 3], 1, 1), ([2, 64, 16, 16], [64, 64, 3, 3], 1, 1),
                      ([4, 64, 8, 8], [128, 64, 3, 3], 2, 1), ([3, 3, 32, 32], [64, 3, 7, 7], 2, 3), ([20, 64, 8, 8], [128, 64, 1, 1], 2, 0),
                      ([20, 64, 8, 8], [64, 64, 3, 3], 1, 1)])
    func matchesTheDefinition(_ input: [Int], _ weightShape: [Int], _ stride: Int, _ pad: Int) throws {
        let generator = Generator(seed: 9)
        let x = try Tensor.randomNormal(input, generator: generator).requiringGrad()
        let w = try Tensor.randomNormal(weightShape, std: 0.1, generator: generator).requiringGrad()
        let y = try x.conv2d(w, stride: (stride, stride), padding: Padding2D(pad, pad))
        let dy = try Tensor.randomNormal(y.shape, generator: generator)
        try y.backward(seed: dy)
        let (n, cin, h, wd) = (input[0], input[1], input[2], input[3])
        let (cout, k) = (weightShape[0], weightShape[2])
        let (oh, ow) = (y.shape[2], y.shape[3])
        let (xs, ws, dys) = (x.scalars.map(Double.init), w.scalars.map(Double.init), dy.scalars.map(Double.init))
        var dx = [Double](repeating: 0, count: xs.count), dw = [Double](repeating: 0, count: ws.count)
        var forward = [Double](repeating: 0, count: dys.count)
        for b in 0..<n { for o in 0..<cout { for i in 0..<oh { for j in 0..<ow {
            let out = ((b * cout + o) * oh + i) * ow + j
            for c in 0..<cin { for p in 0..<k { for q in 0..<k {
                let (r, s) = (i * stride - pad + p, j * stride - pad + q)
                guard r >= 0, r < h, s >= 0, s < wd else { continue }
                let xi = ((b * cin + c) * h + r) * wd + s, wi = ((o * cin + c) * k + p) * k + q
                forward[out] += xs[xi] * ws[wi]
                dx[xi] += ws[wi] * dys[out]
                dw[wi] += xs[xi] * dys[out]
            } } }
        } } } }
        func worst(_ got: [Float], _ want: [Double]) -> Double {
            let scale = want.map(abs).max() ?? 1
            return zip(got, want).map { abs(Double($0) - $1) }.max().map { $0 / scale } ?? 0
        }
        #expect(worst(y.scalars, forward) < 1e-5, "forward \(input) \(weightShape)")
        let (inputError, weightError) = (worst(try #require(x.grad).scalars, dx), worst(try #require(w.grad).scalars, dw))
        #expect(inputError < 1e-5, "input gradient \(input) \(weightShape): \(inputError)")
        #expect(weightError < 1e-5, "weight gradient \(input) \(weightShape): \(weightError)")
    }
}

/// The weight gradient of a convolution whose images run one at a time (output planes of 256 values
/// or more): graft's GEMM takes each image's dWᵀ = col · dYᵀ (the columns read in place) and
/// transposes it; it must give the bits of dW = dY · colᵀ, image by image, summed in image order.
/// 3×3, stride 2, 1×1 and grouped, float32 and (where the CPU has it) bf16, batches below the thread count.
@Suite("Convolution weight gradient, per image")
struct ConvolutionWeightGradientTests {
    @Test(arguments: [([3, 8, 16, 16], [12, 8, 3, 3], 1, 1, 1), ([1, 6, 33, 32], [10, 6, 3, 3], 2, 1, 1),
                      ([2, 16, 16, 20], [24, 16, 1, 1], 1, 0, 1), ([3, 8, 17, 16], [12, 4, 5, 5], 1, 2, 2)])
    func equalsTheProductImageByImage(_ input: [Int], _ weightShape: [Int], _ stride: Int, _ pad: Int, _ groups: Int) throws {
        try withWeightGradient(input, weightShape, stride, pad, groups, seed: 12) { precision, xs, dys, got, g in
            #expect(g.outputPlane >= 256, "the per-image path")
            let (out, patch, plane) = (weightShape[0] / groups, g.patchSize, g.outputPlane)
            var want = [Float](repeating: 0, count: got.count)
            var col = [Float](repeating: 0, count: patch * plane), slot = [Float](repeating: 0, count: out * patch)
            for n in 0..<input[0] {
                for group in 0..<groups {
                    xs.withUnsafeBufferPointer { xp in
                        col.withUnsafeMutableBufferPointer { Im2col.unfold(xp.baseAddress! + (n * groups + group) * g.channels * g.inputPlane, $0.baseAddress!, g) }
                    }
                    dys.withUnsafeBufferPointer { dp in
                        col.withUnsafeBufferPointer { cp in
                            slot.withUnsafeMutableBufferPointer {
                                GEMM.sgemm(transposeB: true, m: out, n: patch, k: plane, dp.baseAddress! + (n * groups + group) * out * plane, lda: plane,
                                           cp.baseAddress!, ldb: plane, $0.baseAddress!, ldc: patch)
                            }
                        }
                    }
                    for i in 0..<out * patch { want[group * out * patch + i] += slot[i] }
                }
            }
            return want
        }
    }
}

/// Runs a convolution forward and backward under the portable numerics, in float32 and (where the
/// CPU has it) bf16, and expects its weight gradient to equal, bit for bit, what `expected(precision,
/// x, dy, dW, geometry of one group)` computes.
func withWeightGradient(_ input: [Int], _ weightShape: [Int], _ stride: Int, _ pad: Int, _ groups: Int, seed: UInt64,
                        _ expected: (Precision, [Float], [Float], [Float], WindowGeometry) throws -> [Float]) throws {
    let saved = Numerics.current
    defer { Numerics.current = saved; try? Precision.set(.float32) }
    Numerics.current = .portable
    for precision in Precision.available ? [Precision.float32, .bf16] : [.float32] {
        try Precision.set(precision)
        let generator = Generator(seed: seed)
        let x = try Tensor.randomNormal(input, generator: generator)
        let w = try Tensor.randomNormal(weightShape, std: 0.2, generator: generator).requiringGrad()
        let y = try x.conv2d(w, stride: (stride, stride), padding: Padding2D(pad, pad), groups: groups)
        let dy = try Tensor.randomNormal(y.shape, generator: generator)
        try y.backward(seed: dy)
        let g = try Tensor.window(op: "test", input: [input[0], input[1] / groups, input[2], input[3]], kernel: (weightShape[2], weightShape[3]),
                                  stride: (stride, stride), padding: Padding2D(pad, pad), dilation: (1, 1))
        let got = try #require(w.grad).scalars
        let want = try expected(precision, x.scalars, dy.scalars, got, g)
        let differing = zip(got, want).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0 && want.count == got.count, "\(precision) \(input) \(weightShape): \(differing) of \(want.count) differ")
    }
}

/// The weight gradient for images batched per GEMM (output planes under 256 values) against the
/// product it is defined as, bit for bit: dW = Σ dY · colᵀ over chunks of images side by side,
/// accumulated chunk after chunk. Two chunks of images, grouped, stride 2; float32 and bf16.
/// (Taking dWᵀ = Σ col · dYᵀ here, as the per-image path does, gave the same bits but measured
/// 10 % slower on W6, whose long columns then run as rows of A.)
@Suite("Convolution weight gradient, images batched")
struct BatchedWeightGradientTests {
    @Test(arguments: [([120, 64, 8, 8], [32, 64, 3, 3], 1, 1, 1), ([6, 8, 4, 4], [12, 4, 3, 3], 1, 1, 2), ([5, 16, 8, 8], [24, 16, 3, 3], 2, 1, 1)])
    func equalsTheProductChunkByChunk(_ input: [Int], _ weightShape: [Int], _ stride: Int, _ pad: Int, _ groups: Int) throws {
        try withWeightGradient(input, weightShape, stride, pad, groups, seed: 13) { _, xs, dys, got, g in
            let plan = ConvPlan(batch: input[0], groups: groups, outPerGroup: weightShape[0] / groups, geometry: g)
            #expect(plan.batchesImages)
            if input[0] == 120 { #expect(plan.imagesPerChunk < 120, "two chunks") }
            let (out, patch, plane, chunk) = (plan.outPerGroup, g.patchSize, g.outputPlane, plan.imagesPerChunk)
            var want = [Float](repeating: 0, count: got.count)
            var first = 0
            while first < input[0] {
                let count = Swift.min(chunk, input[0] - first), width = count * plane
                for group in 0..<groups {
                    var col = [Float](repeating: 0, count: patch * width), gradient = [Float](repeating: 0, count: out * width)
                    for i in 0..<count {
                        xs.withUnsafeBufferPointer { xp in
                            col.withUnsafeMutableBufferPointer {
                                Im2col.unfold(xp.baseAddress! + ((first + i) * groups + group) * g.channels * g.inputPlane, $0.baseAddress! + i * plane, g, rowStride: width)
                            }
                        }
                        for o in 0..<out {
                            for p in 0..<plane { gradient[o * width + i * plane + p] = dys[(((first + i) * groups + group) * out + o) * plane + p] }
                        }
                    }
                    gradient.withUnsafeBufferPointer { gp in
                        col.withUnsafeBufferPointer { cp in
                            want.withUnsafeMutableBufferPointer {
                                GEMM.sgemm(transposeB: true, m: out, n: patch, k: width, gp.baseAddress!, lda: width, cp.baseAddress!, ldb: width,
                                           beta: first == 0 ? 0 : 1, $0.baseAddress! + group * out * patch, ldc: patch)
                            }
                        }
                    }
                }
                first += count
            }
            return want
        }
    }
}

/// `layerNorm` without a gradient runs as one kernel; it must give the bits of the ops written out
/// (what it runs when a gradient is recorded): rows along the last axis (a contiguous sum, lengths
/// around the eight-lane step) and the channels of NCHW planes (sums strided over positions).
@Suite("LayerNorm kernel")
struct LayerNormKernelTests {
    @Test func sameBitsAsTheOpsWrittenOut() throws {
        let generator = Generator(seed: 31)
        let cases: [(shape: [Int], axis: Int)] = [([4, 7, 33], 2), ([2, 197, 384], 2), ([3, 5, 8], 2), ([6, 1], 1), ([2, 96, 14, 13], 1),
                                                  ([1, 3, 1, 1], 1), ([5, 4, 9], 1), ([2, 3, 4, 5], 3)]
        for (shape, axis) in cases {
            let n = shape[axis]
            let x = try Tensor.randomNormal(shape, std: 3, generator: generator) + 0.5
            let weight = try Tensor.randomNormal([n], generator: generator), bias = try Tensor.randomNormal([n], generator: generator)
            for (w, b) in [(weight, bias), (weight, nil), (nil, bias), (nil, nil)] as [(Tensor?, Tensor?)] {
                let fused = try withoutGradients { try x.layerNorm(axis: axis, weight: w, bias: b, epsilon: 1e-6) }
                // A leaf that requires a gradient makes the op run as its written-out ops.
                let written = try x.copied().requiringGrad().layerNorm(axis: axis, weight: w, bias: b, epsilon: 1e-6)
                #expect(fused.shape == shape)
                let differing = zip(fused.scalars, written.scalars).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(differing == 0, "\(shape) axis \(axis) weight \(w != nil) bias \(b != nil): \(differing) values differ")
            }
        }
    }

    @Test func refusesMismatchedParameters() throws {
        let x = try Tensor.zeros([2, 3, 4])
        #expect(throws: TensorError.self) { try x.layerNorm(axis: 2, weight: Tensor.ones([3]), bias: nil, epsilon: 1e-5) }
        #expect(throws: TensorError.self) { try x.layerNorm(axis: 5, weight: nil, bias: nil, epsilon: 1e-5) }
        #expect(throws: TensorError.self) { try Tensor.zeros([2, 0]).layerNorm(axis: 1, weight: nil, bias: nil, epsilon: 1e-5) }
    }
}

/// im2col's shifted-plane path (stride 1, no dilation, output rows as wide as the input's: one copy
/// per row of columns) against the definition, value for value: every kernel size and padding that
/// keeps the width, asymmetric padding, one-pixel and one-row planes, and wider or narrower heights.
@Suite("im2col")
struct Im2colTests {
    @Test func unfoldEqualsTheDefinition() throws {
        let generator = Generator(seed: 37)
        // (height, width, kernel h, kernel w, padding top, bottom, left, right)
        let cases: [(Int, Int, Int, Int, Int, Int, Int, Int)] = [
            (16, 16, 3, 3, 1, 1, 1, 1), (8, 8, 3, 3, 1, 1, 1, 1), (4, 4, 3, 3, 1, 1, 1, 1), (2, 2, 3, 3, 1, 1, 1, 1),
            (1, 1, 3, 3, 1, 1, 1, 1), (7, 5, 5, 5, 2, 2, 2, 2), (6, 6, 4, 4, 1, 2, 1, 2), (5, 9, 1, 1, 0, 0, 0, 0),
            (9, 3, 3, 1, 0, 0, 0, 0), (3, 7, 1, 3, 2, 2, 1, 1), (6, 4, 7, 7, 3, 3, 3, 3), (5, 5, 3, 3, 0, 3, 1, 1),
            (10, 11, 3, 3, 1, 1, 1, 1), (4, 6, 2, 2, 0, 1, 0, 1),
        ]
        for (h, w, kh, kw, top, bottom, left, right) in cases {
            let channels = 3
            let g = try Tensor.window(op: "test", input: [1, channels, h, w], kernel: (kh, kw), stride: (1, 1),
                                              padding: Padding2D(top: top, bottom: bottom, left: left, right: right), dilation: (1, 1))
            #expect(g.outputWidth == w, "case keeps the width")
            let x = try Tensor.randomNormal([channels, h, w], generator: generator).scalars
            var col = [Float](repeating: .nan, count: g.patchSize * g.outputPlane)
            x.withUnsafeBufferPointer { xp in col.withUnsafeMutableBufferPointer { Im2col.unfold(xp.baseAddress!, $0.baseAddress!, g) } }
            var wrong = 0
            for c in 0..<channels {
                for i in 0..<kh {
                    for j in 0..<kw {
                        for oh in 0..<g.outputHeight {
                            for ow in 0..<g.outputWidth {
                                let (ih, iw) = (oh - top + i, ow - left + j)
                                let want: Float = ih >= 0 && ih < h && iw >= 0 && iw < w ? x[(c * h + ih) * w + iw] : 0
                                let got = col[((c * kh + i) * kw + j) * g.outputPlane + oh * g.outputWidth + ow]
                                if got.bitPattern != want.bitPattern { wrong += 1 }
                            }
                        }
                    }
                }
            }
            #expect(wrong == 0, "\(h)×\(w), kernel \(kh)×\(kw), padding \(top) \(bottom) \(left) \(right): \(wrong) values wrong")
        }
    }

    /// Unfold and fold on small planes (the table path) and on the general path, against the
    /// definitions: unfold value for value; fold as the sum, onto dx's starting values, of every
    /// tap's values in tap order — bit for bit, so the table changes no bit of a training step.
    /// Columns sit inside a wider matrix (`rowStride`), as when a chunk of images shares one GEMM.
    @Test func smallPlanesUnfoldAndFoldEqualTheDefinitions() throws {
        let generator = Generator(seed: 41)
        // (height, width, kernel, stride, dilation, padding top, bottom, left, right, table expected)
        let cases: [(Int, Int, Int, Int, Int, Int, Int, Int, Int, Bool)] = [
            (8, 8, 3, 1, 1, 1, 1, 1, 1, true), (8, 8, 3, 2, 1, 1, 1, 1, 1, true), (4, 4, 3, 1, 1, 1, 1, 1, 1, true),
            (2, 2, 3, 1, 1, 1, 1, 1, 1, true), (1, 1, 3, 1, 1, 1, 1, 1, 1, true), (8, 8, 1, 2, 1, 0, 0, 0, 0, true),
            (7, 7, 3, 1, 2, 2, 2, 2, 2, true), (9, 6, 5, 3, 1, 2, 1, 0, 2, true), (5, 5, 3, 2, 2, 3, 0, 1, 4, true),
            (3, 2, 4, 1, 1, 2, 1, 2, 1, true), (20, 20, 3, 1, 1, 1, 1, 1, 1, false), (17, 40, 3, 2, 1, 1, 1, 1, 1, false), (60, 14, 3, 1, 1, 1, 1, 1, 1, true),
        ]
        for (h, w, k, s, d, top, bottom, left, right, table) in cases {
            let channels = 5
            let g = try Tensor.window(op: "test", input: [1, channels, h, w], kernel: (k, k), stride: (s, s),
                                      padding: Padding2D(top: top, bottom: bottom, left: left, right: right), dilation: (d, d))
            let label = "\(h)×\(w), kernel \(k), stride \(s), dilation \(d), padding \(top) \(bottom) \(left) \(right)"
            #expect((SmallPlanes(g) != nil) == table, "\(label): table path chosen")
            let rowStride = g.outputPlane * 3 + 1
            let x = try Tensor.randomNormal([channels, h, w], generator: generator).scalars
            var col = [Float](repeating: .nan, count: g.patchSize * rowStride)
            x.withUnsafeBufferPointer { xp in col.withUnsafeMutableBufferPointer { Im2col.unfold(xp.baseAddress!, $0.baseAddress!, g, rowStride: rowStride) } }
            // Where column (c, i, j), (oh, ow) reads, or nil for padding.
            func source(_ c: Int, _ i: Int, _ j: Int, _ oh: Int, _ ow: Int) -> Int? {
                let (ih, iw) = (oh * s - top + i * d, ow * s - left + j * d)
                return ih >= 0 && ih < h && iw >= 0 && iw < w ? (c * h + ih) * w + iw : nil
            }
            let columns = try Tensor.randomNormal([g.patchSize * rowStride], generator: generator).scalars
            let start = try Tensor.randomNormal([channels * h * w], generator: generator).scalars
            var want = start
            var wrong = 0
            for c in 0..<channels {
                for i in 0..<k {
                    for j in 0..<k {
                        let row = ((c * k + i) * k + j) * rowStride
                        for oh in 0..<g.outputHeight {
                            for ow in 0..<g.outputWidth {
                                let at = source(c, i, j, oh, ow), p = row + oh * g.outputWidth + ow
                                if col[p].bitPattern != (at.map { x[$0] } ?? 0).bitPattern { wrong += 1 }
                                if let at { want[at] += columns[p] }
                            }
                        }
                    }
                }
            }
            #expect(wrong == 0, "\(label): \(wrong) unfolded values wrong")
            var dx = start
            columns.withUnsafeBufferPointer { cp in dx.withUnsafeMutableBufferPointer { Im2col.fold(cp.baseAddress!, $0.baseAddress!, g, rowStride: rowStride) } }
            #expect(zip(dx, want).filter { $0.bitPattern != $1.bitPattern }.isEmpty, "\(label): folded sums differ")
        }
    }
}
