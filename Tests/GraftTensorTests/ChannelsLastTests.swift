import Testing
@testable import GraftTensor

/// Channels-last kernels (ChannelsLast.swift): every output has the bits of the NCHW path, in every
/// geometry, with every epilogue, for any thread count — max |Δ| is 0 by construction, checked bit for bit.
@Suite("Channels-last kernels")
struct ChannelsLastTests {
    static func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }

    static func uniform(_ shape: [Int], seed: UInt64) throws -> Tensor {
        try Tensor.randomUniform(shape, low: -1, high: 1, generator: Generator(seed: seed))
    }

    static let epilogues: [ConvEpilogue] = [
        ConvEpilogue(),
        ConvEpilogue(low: 0, high: 6),
    ]

    /// The same convolution both ways: NCHW conv2dInference, and channels-last then back.
    static func compare(_ x: Tensor, _ w: Tensor, bias: Tensor?, stride: Int, padding: Padding2D, dilation: Int, groups: Int,
                        epilogue: ConvEpilogue, _ label: String) throws {
        let reference = try x.conv2dInference(w, bias: bias, stride: (stride, stride), padding: padding, dilation: (dilation, dilation),
                                              groups: groups, epilogue: epilogue)
        let last = try x.channelsLast().conv2dChannelsLast(w, bias: bias, stride: (stride, stride), padding: padding,
                                                          dilation: (dilation, dilation), groups: groups, epilogue: epilogue)
        #expect(last.shape == [reference.shape[0], reference.shape[2], reference.shape[3], reference.shape[1]], "\(label)")
        #expect(bits(try last.channelsFirst()) == bits(reference), "\(label)")
    }

    /// (channels, height, width, kernel, stride, padding, dilation): whole-plane strides 1 and 2 with
    /// "same" and asymmetric padding, planes narrower than 8, stride 3 and dilation (the general path),
    /// channel counts around the 32- and 8-channel blocks, a 1×1 image, a kernel larger than the image,
    /// padding wider than the window can use, and 5×5 and 7×7 rows whose interiors run eight pixels at a
    /// time (interiorWide) with pixels and channels left over.
    static let depthwise: [(Int, Int, Int, Int, Int, Padding2D, Int)] = [
        (32, 12, 12, 3, 1, Padding2D(1, 1), 1), (96, 11, 13, 3, 2, Padding2D(top: 0, bottom: 1, left: 0, right: 1), 1),
        (40, 9, 9, 5, 1, Padding2D(2, 2), 1), (72, 14, 14, 5, 2, Padding2D(top: 1, bottom: 2, left: 1, right: 2), 1),
        (7, 7, 7, 7, 1, Padding2D(3, 3), 1), (33, 5, 6, 3, 1, Padding2D(1, 1), 1), (8, 10, 9, 3, 3, Padding2D(1, 1), 1),
        (20, 12, 12, 3, 1, Padding2D(2, 2), 2), (2, 6, 6, 3, 2, .zero, 1), (48, 3, 3, 3, 1, Padding2D(1, 1), 1),
        (40, 1, 1, 3, 1, Padding2D(1, 1), 1), (17, 2, 2, 5, 2, Padding2D(2, 2), 1), (9, 2, 3, 5, 3, Padding2D(top: 4, bottom: 0, left: 0, right: 4), 1),
        (20, 6, 14, 5, 1, Padding2D(2, 2), 1), (12, 9, 27, 7, 1, Padding2D(3, 3), 1),
    ]

    @Test(arguments: 0..<15)
    func depthwiseHasTheBitsOfTheNCHWKernel(_ row: Int) throws {
        let (c, h, w, k, s, padding, d) = Self.depthwise[row]
        let x = try Self.uniform([2, c, h, w], seed: UInt64(row + 1))
        let weight = try Self.uniform([c, 1, k, k], seed: UInt64(row + 50))
        let bias = try Self.uniform([c], seed: UInt64(row + 90))
        let affine = ConvEpilogue(scale: (0..<c).map { 0.5 + Float($0 % 5) * 0.25 }, shift: (0..<c).map { Float($0 % 3) - 1 }, low: 0, high: 6)
        for (e, epilogue) in (Self.epilogues + [affine]).enumerated() {
            try Self.compare(x, weight, bias: e == 1 ? nil : bias, stride: s, padding: padding, dilation: d, groups: c, epilogue: epilogue, "row \(row), epilogue \(e)")
        }
    }

    /// A padded tap is a multiply-add of zero on the whole-plane path and skipped on the general one:
    /// a bias of −0 and an infinite weight tell them apart, and the channels-last kernel follows each.
    @Test func paddedTapsFollowTheNCHWPathsRule() throws {
        for (stride, dilation) in [(1, 1), (2, 1), (3, 1), (1, 2)] {
            let c = 9
            let x = try Self.uniform([1, c, 6, 6], seed: 4)
            var weights = try Self.uniform([c, 1, 3, 3], seed: 5).scalars
            weights[0] = .infinity
            weights[9 * 4] = -.infinity
            let w = try Tensor(shape: [c, 1, 3, 3], scalars: weights)
            let bias = try Tensor(shape: [c], scalars: [Float](repeating: -0.0, count: c))
            // NaNs (∞·0 at the padding) and −0 through the clamp and the affine map as the NCHW epilogue passes them.
            let affine = ConvEpilogue(scale: [Float](repeating: -1, count: c), shift: [Float](repeating: 0, count: c), low: -0.0, high: 0.5)
            for epilogue in [ConvEpilogue(), ConvEpilogue(low: 0, high: 6), affine] {
                try Self.compare(x, w, bias: bias, stride: stride, padding: Padding2D(1, 1), dilation: dilation, groups: c,
                                 epilogue: epilogue, "stride \(stride), dilation \(dilation), clamp \(epilogue.low)…\(epilogue.high)")
            }
        }
    }

    @Test(arguments: [(1, 5, 5, 16, 24), (2, 7, 7, 40, 240), (3, 4, 9, 33, 7), (2, 1, 1, 96, 24), (1, 28, 28, 24, 144)])
    func pointwiseHasTheBitsOfTheNCHWConvolution(_ shape: (Int, Int, Int, Int, Int)) throws {
        let (n, h, w, cin, cout) = shape
        let x = try Self.uniform([n, cin, h, w], seed: UInt64(cin))
        let weight = try Self.uniform([cout, cin, 1, 1], seed: UInt64(cout))
        let bias = try Self.uniform([cout], seed: 3)
        let affine = ConvEpilogue(scale: (0..<cout).map { 0.75 + Float($0 % 4) * 0.125 }, shift: (0..<cout).map { Float($0 % 5) * 0.1 })
        for (e, epilogue) in (Self.epilogues + [affine]).enumerated() {
            try Self.compare(x, weight, bias: e == 2 ? nil : bias, stride: 1, padding: .zero, dilation: 1, groups: 1, epilogue: epilogue, "\(shape), epilogue \(e)")
        }
    }

    @Test func averagePoolingHasTheBitsOfTheMean() throws {
        for (h, w) in [(1, 1), (7, 7), (3, 17), (14, 8), (2, 9)] {
            let x = try Self.uniform([2, 37, h, w], seed: UInt64(h * 31 + w))
            let reference = try x.globalAvgPool2d()
            #expect(Self.bits(try x.channelsLast().globalAvgPool2dChannelsLast()) == Self.bits(reference), "\(h)×\(w)")
        }
    }

    @Test func layoutsRoundTripAndThreadsChangeNoBit() throws {
        let saved = Threads.count
        defer { try? Threads.set(saved) }
        let x = try Self.uniform([3, 24, 17, 300], seed: 8)
        let w = try Self.uniform([24, 1, 5, 5], seed: 9)
        var results: [[UInt32]] = []
        for threads in [1, 2, 3] {
            try Threads.set(threads)
            let last = try x.channelsLast()
            #expect(Self.bits(try last.channelsFirst()) == Self.bits(x))
            results.append(Self.bits(try last.conv2dChannelsLast(w, stride: (2, 2), padding: Padding2D(2, 2), groups: 24)))
        }
        #expect(results.allSatisfy { $0 == results[0] })
        // One pixel or one channel is only reshaped.
        let pixel = try Self.uniform([2, 5, 1, 1], seed: 1)
        #expect(try pixel.channelsLast().shape == [2, 1, 1, 5])
        #expect(Self.bits(try pixel.channelsLast()) == Self.bits(pixel))
    }

    @Test func refusesWhatItDoesNotRun() throws {
        let x = try Self.uniform([1, 4, 5, 5], seed: 1).channelsLast()
        #expect(throws: TensorError.self) { try x.conv2dChannelsLast(try Self.uniform([4, 4, 3, 3], seed: 2), padding: Padding2D(1, 1)) }
        #expect(throws: TensorError.self) { try x.conv2dChannelsLast(try Self.uniform([4, 2, 1, 1], seed: 2), groups: 2) }
        #expect(throws: TensorError.self) { try x.conv2dChannelsLast(try Self.uniform([6, 5, 1, 1], seed: 2)) }
        #expect(throws: TensorError.self) { try x.conv2dChannelsLast(try Self.uniform([4, 4, 1, 1], seed: 2), bias: try Self.uniform([3], seed: 3)) }
        let trained = try Tensor.randomUniform([4, 4, 1, 1], low: -1, high: 1, generator: Generator(seed: 1)).requiringGrad()
        #expect(throws: TensorError.self) { try x.conv2dChannelsLast(trained) }
        #expect(throws: TensorError.self) { try Self.uniform([4, 5], seed: 1).channelsLast() }
    }
}
