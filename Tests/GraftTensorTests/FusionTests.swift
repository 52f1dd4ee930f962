import Testing
@testable import GraftTensor

/// `conv2dInference` applies a BatchNorm's inference map and a clamp as the convolution writes its
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
