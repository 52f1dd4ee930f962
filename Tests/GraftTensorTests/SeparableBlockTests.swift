import Testing
@testable import GraftTensor

/// Fused separable blocks (SeparableBlock.swift): an expansion, a depthwise convolution and a
/// projection as one pass, band of rows by band, with the bits of the three channels-last layers run
/// one after another — for every geometry, epilogue, band size and thread count (max |Δ| is 0 by
/// construction, checked bit for bit).
@Suite("Fused separable blocks")
struct SeparableBlockTests {
    static func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }

    /// The first element whose bits differ (nil when none), so a failure names one place, not two arrays.
    static func firstDifference(_ a: Tensor, _ b: Tensor) -> Int? {
        a.shape != b.shape ? -1 : Array(zip(bits(a), bits(b))).firstIndex { $0 != $1 }
    }

    static func uniform(_ shape: [Int], seed: UInt64) throws -> Tensor {
        try Tensor.randomUniform(shape, low: -1, high: 1, generator: Generator(seed: seed))
    }

    /// A BatchNorm's map and a ReLU6, MobileNetV3's hardswish, EfficientNet's SiLU, or nothing: stage `s`'s epilogue.
    static func epilogue(_ kind: Int, channels c: Int) -> ConvEpilogue {
        let scale = (0..<c).map { 0.5 + Float($0 % 5) * 0.25 }, shift = (0..<c).map { Float($0 % 3) - 1 }
        switch kind % 4 {
        case 0: return ConvEpilogue(scale: scale, shift: shift, low: 0, high: 6)
        case 1: return ConvEpilogue(scale: scale, shift: shift, function: .hardswish)
        case 2: return ConvEpilogue(function: .silu)
        default: return ConvEpilogue()
        }
    }

    struct Geometry {
        let batch: Int, cin: Int, height: Int, width: Int, mid: Int, kernel: Int, stride: Int, padding: Padding2D, dilation: Int, cout: Int
        let expands: Bool, projects: Bool
    }

    /// Inverted residuals at strides 1 and 2 with symmetric and "same" (asymmetric) padding; a
    /// separable block (no expansion); an expansion with its depthwise convolution alone; stride 3 and
    /// dilation 2 (the depthwise general path); a kernel larger than the image; channel counts off the
    /// 8- and 32-lane blocks; and k past one block of the GEMM's (256) in the expansion and the projection.
    static let geometries: [Geometry] = [
        Geometry(batch: 2, cin: 16, height: 13, width: 13, mid: 40, kernel: 3, stride: 1, padding: Padding2D(1, 1), dilation: 1, cout: 24, expands: true, projects: true),
        Geometry(batch: 1, cin: 24, height: 12, width: 11, mid: 96, kernel: 3, stride: 2, padding: Padding2D(top: 0, bottom: 1, left: 0, right: 1), dilation: 1, cout: 24, expands: true, projects: true),
        Geometry(batch: 2, cin: 33, height: 10, width: 9, mid: 33, kernel: 5, stride: 2, padding: Padding2D(2, 2), dilation: 1, cout: 17, expands: false, projects: true),
        Geometry(batch: 3, cin: 8, height: 9, width: 10, mid: 20, kernel: 7, stride: 1, padding: Padding2D(3, 3), dilation: 1, cout: 20, expands: true, projects: false),
        Geometry(batch: 2, cin: 12, height: 11, width: 8, mid: 24, kernel: 3, stride: 3, padding: Padding2D(1, 1), dilation: 1, cout: 9, expands: true, projects: true),
        Geometry(batch: 1, cin: 10, height: 12, width: 12, mid: 16, kernel: 3, stride: 1, padding: Padding2D(2, 2), dilation: 2, cout: 16, expands: true, projects: true),
        Geometry(batch: 2, cin: 6, height: 2, width: 3, mid: 14, kernel: 5, stride: 1, padding: Padding2D(2, 2), dilation: 1, cout: 5, expands: true, projects: true),
        Geometry(batch: 1, cin: 300, height: 6, width: 7, mid: 264, kernel: 3, stride: 1, padding: Padding2D(1, 1), dilation: 1, cout: 12, expands: true, projects: true),
    ]

    static func convolutions(_ g: Geometry, seed: UInt64, epilogues: Int) throws
        -> (expand: ChannelsLastConvolution?, depthwise: ChannelsLastConvolution, project: ChannelsLastConvolution?) {
        let expand = g.expands
            ? ChannelsLastConvolution(weight: try uniform([g.mid, g.cin, 1, 1], seed: seed), bias: epilogues % 2 == 0 ? try uniform([g.mid], seed: seed + 1) : nil,
                                      epilogue: epilogue(epilogues, channels: g.mid))
            : nil
        let depthwise = ChannelsLastConvolution(weight: try uniform([g.mid, 1, g.kernel, g.kernel], seed: seed + 2), bias: try uniform([g.mid], seed: seed + 3),
                                                stride: (g.stride, g.stride), padding: g.padding, dilation: (g.dilation, g.dilation), groups: g.mid,
                                                epilogue: epilogue(epilogues + 1, channels: g.mid))
        let project = g.projects
            ? ChannelsLastConvolution(weight: try uniform([g.cout, g.mid, 1, 1], seed: seed + 4), bias: epilogues % 3 == 0 ? nil : try uniform([g.cout], seed: seed + 5),
                                      epilogue: epilogue(epilogues + 3, channels: g.cout))
            : nil
        return (expand, depthwise, project)
    }

    /// The layers one after another (the reference) against the block, for several band sizes.
    static func compare(_ g: Geometry, seed: UInt64, epilogues: Int, bands: [Int?], _ label: String) throws {
        let x = try uniform([g.batch, g.height, g.width, g.expands ? g.cin : g.mid], seed: seed + 10)
        let (expand, depthwise, project) = try convolutions(g, seed: seed, epilogues: epilogues)
        var reference = x
        for conv in [expand, depthwise, project].compactMap({ $0 }) { reference = try reference.conv2dChannelsLast(conv) }
        for band in bands {
            let fused = try x.separableBlockChannelsLast(expand: expand, depthwise: depthwise, project: project, bandRows: band)
            #expect(fused.shape == reference.shape, "\(label), band \(band.map(String.init) ?? "default")")
            #expect(firstDifference(fused, reference) == nil, "\(label), band \(band.map(String.init) ?? "default")")
        }
    }

    @Test(arguments: 0..<8)
    func blockHasTheBitsOfItsLayersOneByOne(_ row: Int) throws {
        let g = Self.geometries[row]
        for epilogues in 0..<4 {
            try Self.compare(g, seed: UInt64(row * 20 + 1), epilogues: epilogues, bands: [nil, 1, 2, 3, 100], "row \(row), epilogues \(epilogues)")
        }
    }

    /// Images split over the threads (a batch smaller than the thread count) and bands, in any number:
    /// the same bits.
    @Test func threadsAndSegmentsChangeNoBit() throws {
        let saved = Threads.count
        defer { try? Threads.set(saved) }
        for (row, batch) in [(0, 1), (1, 1), (2, 3)] {
            let g = Self.geometries[row]
            let x = try Self.uniform([batch, g.height, g.width, g.expands ? g.cin : g.mid], seed: 7)
            let (expand, depthwise, project) = try Self.convolutions(g, seed: 3, epilogues: 0)
            var results: [[UInt32]] = []
            for threads in [1, 2, 3, 4] {
                try Threads.set(threads)
                for band in [nil, 1, 4] {
                    results.append(Self.bits(try x.separableBlockChannelsLast(expand: expand, depthwise: depthwise, project: project, bandRows: band)))
                }
            }
            #expect(results.allSatisfy { $0 == results[0] }, "row \(row), batch \(batch)")
        }
    }

    /// bfloat16 products (`set precision=bf16`, where the CPU has them) round the same operands the
    /// same way in the block as in the layers one by one.
    @Test func bf16HasTheBitsOfItsLayersOneByOne() throws {
        guard Precision.available else { return }
        defer { try? Precision.set(.float32) }
        try Precision.set(.bf16)
        for row in [0, 1, 7] {
            try Self.compare(Self.geometries[row], seed: UInt64(row + 40), epilogues: row, bands: [nil, 2], "bf16 row \(row)")
        }
    }

    /// With OpenBLAS's kernels (native numerics) the block runs its layers one by one.
    @Test func nativeNumericsRunTheLayersOneByOne() throws {
        let saved = Numerics.current
        defer { Numerics.current = saved }
        Numerics.current = .native
        try Self.compare(Self.geometries[0], seed: 60, epilogues: 0, bands: [nil], "native")
    }

    @Test func refusesWhatItDoesNotRun() throws {
        let g = Self.geometries[0]
        let x = try Self.uniform([1, g.height, g.width, g.cin], seed: 1)
        let (expand, depthwise, project) = try Self.convolutions(g, seed: 2, epilogues: 0)
        // The middle convolution must be depthwise, the others pointwise.
        #expect(throws: TensorError.self) { try x.separableBlockChannelsLast(expand: expand, depthwise: try #require(expand), project: project) }
        #expect(throws: TensorError.self) { try x.separableBlockChannelsLast(expand: depthwise, depthwise: depthwise, project: project) }
        // Channels that do not chain: the input's, the expansion's into the depthwise, the depthwise's into the projection.
        #expect(throws: TensorError.self) { try Self.uniform([1, 5, 5, g.cin + 1], seed: 1).separableBlockChannelsLast(expand: expand, depthwise: depthwise, project: project) }
        var narrow = try #require(project)
        narrow.weight = try Self.uniform([g.cout, g.mid - 1, 1, 1], seed: 3)
        #expect(throws: TensorError.self) { try x.separableBlockChannelsLast(expand: expand, depthwise: depthwise, project: narrow) }
        // A bias or an epilogue of the wrong size, a clamp out of order.
        var biased = depthwise
        biased.bias = try Self.uniform([g.mid + 1], seed: 4)
        #expect(throws: TensorError.self) { try x.separableBlockChannelsLast(expand: expand, depthwise: biased, project: project) }
        var mapped = try #require(expand)
        mapped.epilogue = ConvEpilogue(scale: [1], shift: [0])
        #expect(throws: TensorError.self) { try x.separableBlockChannelsLast(expand: mapped, depthwise: depthwise, project: project) }
        var clamped = depthwise
        clamped.epilogue = ConvEpilogue(low: 6, high: 0)
        #expect(throws: TensorError.self) { try x.separableBlockChannelsLast(expand: expand, depthwise: clamped, project: project) }
        // An operand that needs a gradient, an input that is not a map.
        var trained = depthwise
        trained.weight = depthwise.weight.requiringGrad()
        #expect(throws: TensorError.self) { try x.separableBlockChannelsLast(expand: expand, depthwise: trained, project: project) }
        #expect(throws: TensorError.self) { try Self.uniform([4, 5], seed: 1).separableBlockChannelsLast(expand: expand, depthwise: depthwise, project: project) }
    }
}
