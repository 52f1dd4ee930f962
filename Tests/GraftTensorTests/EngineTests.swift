import Foundation
import Testing
@testable import GraftTensor

@Suite("Tensors, generator and threads")
struct EngineTests {
    @Test func creation() throws {
        #expect(try Tensor.arange(0, 5).scalars == [0, 1, 2, 3, 4])
        #expect(try Tensor.arange(1, 2, step: 0.25).scalars == [1, 1.25, 1.5, 1.75])
        #expect(try Tensor.full([2, 2], 7).scalars == [7, 7, 7, 7])
        #expect(try Tensor.zeros([0, 3]).count == 0)
        #expect(try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])[1, 2] == 6)
        #expect(throws: TensorError.self) { try Tensor.zeros([2, 3])[2, 0] }
        #expect(throws: TensorError.self) { try Tensor.zeros([1 << 20, 1]) + Tensor.zeros([1 << 20]) }
        #expect(Tensor(2.5).rank == 0)
    }

    @Test func storageIsSixtyFourByteAligned() throws {
        for count in [1, 3, 100, 5000, 70_000] {
            let t = try Tensor.zeros([count])
            #expect(UInt(bitPattern: t.storage.pointer) % 64 == 0)
        }
    }

    @Test func bufferPoolReusesFreedBuffers() {
        let pool = BufferPool(budgetBytes: 1 << 20)
        let (first, capacity) = pool.take(10_000)
        pool.give(first, capacity: capacity)
        #expect(pool.pooledBytes == capacity * 4)
        let (second, _) = pool.take(9_000)  // same size class
        #expect(second == first)
        pool.give(second, capacity: capacity)
        pool.drain()
        #expect(pool.pooledBytes == 0)
        #expect(BufferPool.sizeClass(5000) == 6144 && BufferPool.sizeClass(6145) == 8192 && BufferPool.sizeClass(8192) == 8192)
    }

    @Test func largeBuffersAreMappingsOfTheirOwnAndGoBack() throws {
        let pool = BufferPool(budgetBytes: 64 << 20)
        let count = BufferPool.mappedBytes / 4 + 1
        let (buffer, capacity) = pool.take(count)
        #expect(UInt(bitPattern: buffer) % 4096 == 0)   // a mapping: page-aligned
        buffer.initialize(repeating: 3, count: count)
        pool.give(buffer, capacity: capacity)
        let (again, _) = pool.take(count)
        #expect(again == buffer && again[count - 1] == 3)
        pool.give(again, capacity: capacity)
        pool.drain()
        #expect(pool.pooledBytes == 0)
    }

    @Test func structureOnlyTensorsAreZerosTakingNoDraws() throws {
        let generator = Generator.structureOnly()
        let big = try Tensor.randomNormal([1 << 20], generator: generator)
        let uniform = try Tensor.randomUniform([300, 300], low: -1, high: 1, generator: generator)
        #expect(big.scalars.allSatisfy { $0 == 0 } && uniform.scalars.allSatisfy { $0 == 0 })
        // Writable like any other tensor.
        big.withUnsafeMutableBufferPointer { $0[5] = 2 }
        #expect(big.scalars[5] == 2)
    }

    @Test func permutesWithAShortLastAxisMatchTheNaiveOrder() throws {
        // A Keras kernel HWIO → OIHW: the last axis of the view is 1–3 long.
        for shape in [[3, 3, 5, 7], [1, 1, 64, 32], [7, 1, 3, 2]] {
            let x = try Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map(Float.init))
            let y = try x.permuted([3, 2, 0, 1])
            #expect(y.shape == [shape[3], shape[2], shape[0], shape[1]])
            var expected: [Float] = []
            for o in 0..<shape[3] { for i in 0..<shape[2] { for h in 0..<shape[0] { for w in 0..<shape[1] {
                expected.append(Float(((h * shape[1] + w) * shape[2] + i) * shape[3] + o))
            } } } }
            #expect(y.scalars == expected)
        }
    }

    @Test func shapeOps() throws {
        let x = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(try x.transposed().scalars == [1, 4, 2, 5, 3, 6])
        #expect(try x.sliced(axis: 1, start: 0, end: 3, step: 2).scalars == [1, 3, 4, 6])
        #expect(try x.padded([(0, 0), (1, 0)]).scalars == [0, 1, 2, 3, 0, 4, 5, 6])
        #expect(try Tensor.concatenate([x, x], axis: 0).shape == [4, 3])
        #expect(try x.broadcast(to: [2, 2, 3]).scalars == [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6])
        #expect(try x.max(axis: 1).scalars == [3, 6])
        #expect(try Tensor(shape: [2, 3], scalars: [1, 9, 9, 4, 0, 4]).argmax(axis: 1).scalars == [1, 0])
        #expect(try Tensor.oneHot([2, 0], classes: 3).scalars == [0, 0, 1, 1, 0, 0])
    }

    @Test func generatorIsSeededAndReproducible() throws {
        let a = Generator(seed: 123), b = Generator(seed: 123), c = Generator(seed: 124)
        let drawsA = (0..<5).map { _ in a.next() }, drawsB = (0..<5).map { _ in b.next() }
        #expect(drawsA == drawsB)
        #expect(drawsA != (0..<5).map { _ in c.next() })
        // Moments of 100,000 normal draws.
        let normal = try Tensor.randomNormal([100_000], mean: 1, std: 2, generator: Generator(seed: 9))
        let mean = normal.scalars.reduce(0, +) / Float(normal.count)
        let variance = normal.scalars.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(normal.count)
        #expect(abs(mean - 1) < 0.03 && abs(variance - 4) < 0.1)
        let uniform = try Tensor.randomUniform([10_000], low: -1, high: 3, generator: Generator(seed: 9))
        #expect(uniform.scalars.allSatisfy { $0 >= -1 && $0 < 3 })
        #expect((0..<1000).map { _ in a.nextInt(below: 7) }.allSatisfy { (0..<7).contains($0) })
    }

    @Test func winogradPathIsTakenWhereItPays() throws {
        // The PyTorch fixtures conv2d_3x3_winograd_* rely on these geometries taking the Winograd path.
        func plan(_ input: [Int], _ out: Int, _ padding: Padding2D, stride: Int = 1, groups: Int = 1) throws -> ConvPlan {
            var g = try Tensor.window(op: "conv2d", input: input, kernel: (3, 3), stride: (stride, stride), padding: padding, dilation: (1, 1))
            g.channels /= groups
            return ConvPlan(batch: input[0], groups: groups, outPerGroup: out / groups, geometry: g)
        }
        #expect(try plan([2, 16, 9, 7], 16, Padding2D(1, 1)).winogradForward != nil)
        #expect(try plan([1, 24, 8, 10], 16, Padding2D(top: 0, bottom: 1, left: 2, right: 0)).winogradData != nil)
        #expect(try plan([1, 8, 9, 9], 16, Padding2D(1, 1)).winogradForward == nil, "too few channels")
        #expect(try plan([1, 16, 9, 9], 16, Padding2D(1, 1), stride: 2).winogradForward == nil, "stride 2")
        #expect(try plan([1, 32, 9, 9], 32, Padding2D(1, 1), groups: 2).winogradForward == nil, "grouped")
    }

    @Test func dropoutMaskComesFromTheGenerator() throws {
        let x = try Tensor.ones([1000])
        let a = try x.dropout(0.5, training: true, generator: Generator(seed: 4))
        let b = try x.dropout(0.5, training: true, generator: Generator(seed: 4))
        #expect(a.scalars == b.scalars)
        let kept = a.scalars.filter { $0 != 0 }
        #expect(kept.allSatisfy { $0 == 2 })
        #expect(abs(kept.count - 500) < 60)
        #expect(try x.dropout(0.5, training: false, generator: Generator(seed: 4)).scalars == x.scalars)
    }
}

/// Training-mode batch normalization against its definition, bit for bit: each channel's mean,
/// variance, dγ, dβ and dx summed in Double in image-then-position order, one chain per channel
/// (the kernel runs eight channels' chains in one vector; a mutation that gives a lane another channel's
/// statistics fails this).
/// Channel counts off the blocks of eight, one channel, one position per image.
@Suite("Batch normalization, training")
struct BatchNormTrainingTests {
    @Test(arguments: [(3, 11, 5), (2, 1, 7), (4, 16, 1), (5, 9, 12)])
    func equalsTheDefinitionBitForBit(_ shape: (Int, Int, Int)) throws {
        let (batch, channels, inner) = shape
        let generator = Generator(seed: 19)
        let x = try Tensor.randomNormal([batch, channels, inner], mean: 0.3, std: 2, generator: generator).requiringGrad()
        let gamma = try Tensor.randomNormal([channels], generator: generator).requiringGrad()
        let beta = try Tensor.randomNormal([channels], generator: generator).requiringGrad()
        let seed = try Tensor.randomNormal([batch, channels, inner], generator: generator)
        let (runningMean, runningVar) = (try Tensor.randomNormal([channels], generator: generator), try Tensor.ones([channels]))
        let y = try x.batchNorm(weight: gamma, bias: beta, runningMean: runningMean, runningVar: runningVar, training: true, momentum: 0.25)
        try y.backward(seed: seed)
        let (xs, gs, gammas, betas) = (x.scalars, seed.scalars, gamma.scalars, beta.scalars)
        let count = batch * inner
        var wantY = [Float](repeating: 0, count: xs.count), wantDX = wantY
        var bad = [String]()
        for c in 0..<channels {
            let at = (0..<batch).flatMap { n in (0..<inner).map { (n * channels + c) * inner + $0 } }
            var total = 0.0
            for o in at { total += Double(xs[o]) }
            let m = total / Double(count)
            var squares = 0.0
            for o in at { let d = Double(xs[o]) - m; squares += d * d }
            let (mean, invStd) = (Float(m), Float(1 / (squares / Double(count) + 1e-5).squareRoot()))
            let scale = gammas[c] * invStd, shift = betas[c] - mean * scale
            for o in at { wantY[o] = xs[o] * scale + shift }
            var sumG = 0.0, sumGX = 0.0
            for o in at { let xhat = Double((xs[o] - mean) * invStd); sumG += Double(gs[o]); sumGX += Double(gs[o]) * xhat }
            let (meanG, meanGX) = (Float(sumG / Double(count)), Float(sumGX / Double(count)))
            for o in at { wantDX[o] = scale * (gs[o] - meanG - (xs[o] - mean) * invStd * meanGX) }
            if gamma.grad?.scalars[c].bitPattern != Float(sumGX).bitPattern { bad.append("dγ[\(c)]") }
            if beta.grad?.scalars[c].bitPattern != Float(sumG).bitPattern { bad.append("dβ[\(c)]") }
            if runningVar.scalars[c].bitPattern != (0.75 + 0.25 * Float(squares / Double(count - 1))).bitPattern { bad.append("running var[\(c)]") }
        }
        #expect(bad.isEmpty, "\(bad)")
        #expect(zip(y.scalars, wantY).allSatisfy { $0.bitPattern == $1.bitPattern }, "y differs")
        #expect(zip(x.grad?.scalars ?? [], wantDX).allSatisfy { $0.bitPattern == $1.bitPattern } && x.grad?.count == wantDX.count, "dx differs")
    }
}

/// `batchNorm(…, activation:)` against `batchNorm(…)` followed by the activation's own op, bit for bit:
/// the output, the input's, γ's and β's gradients and the running statistics, in training and in
/// inference, for every activation it fuses. The input is shifted so that many normalized values sit
/// at each activation's kinks (ReLU6's 0 and 6, hardswish's ±3).
@Suite("BatchNorm with a fused activation")
struct FusedActivationNormTests {
    static let cases = FusedActivation.allCases.flatMap { a in [(a, true, [3, 11, 5]), (a, false, [2, 9, 6, 2])] } + [(.relu, true, [4, 16, 1])]

    func run(_ activation: FusedActivation?, training: Bool, shape: [Int], fused: Bool) throws -> [[UInt32]] {
        let generator = Generator(seed: 29)
        let channels = shape[1]
        var values = try Tensor.randomNormal(shape, mean: 0.3, std: 2, generator: generator).scalars
        for i in stride(from: 0, to: values.count, by: 7) { values[i] = values[i].rounded() }
        let x = try Tensor(shape: shape, scalars: values).requiringGrad()
        let gamma = try Tensor.randomNormal([channels], std: 3, generator: generator).requiringGrad()
        let beta = try Tensor.randomNormal([channels], generator: generator).requiringGrad()
        let seed = try Tensor.randomNormal(shape, generator: generator)
        let (runningMean, runningVar) = (try Tensor.randomNormal([channels], generator: generator), try Tensor.full([channels], 1.5))
        func norm(_ a: FusedActivation?) throws -> Tensor {
            try x.batchNorm(weight: gamma, bias: beta, runningMean: runningMean, runningVar: runningVar, training: training, momentum: 0.25, activation: a)
        }
        let y: Tensor
        if fused {
            y = try norm(activation)
        } else {
            let z = try norm(nil)
            switch activation {
            case nil: y = z
            case .relu: y = z.relu()
            case .relu6: y = z.relu6()
            case .hardswish: y = z.hardswish()
            case .hardsigmoid: y = z.hardsigmoid()
            case .silu: y = z.silu()
            case .sigmoid: y = z.sigmoid()
            case .gelu: y = z.gelu()
            }
        }
        try y.backward(seed: seed)
        return [y, try #require(x.grad), try #require(gamma.grad), try #require(beta.grad), runningMean, runningVar].map { $0.scalars.map(\.bitPattern) }
    }

    @Test(arguments: cases)
    func equalsTheNormalizationThenTheActivation(_ c: (FusedActivation, Bool, [Int])) throws {
        let (fused, separate) = (try run(c.0, training: c.1, shape: c.2, fused: true), try run(c.0, training: c.1, shape: c.2, fused: false))
        for (name, (a, b)) in zip(["y", "dx", "dγ", "dβ", "running mean", "running var"], zip(fused, separate)) {
            let same = a == b
            #expect(same, "\(name) differs with \(c.0), training \(c.1)")
        }
        #expect(fused[0] != (try run(nil, training: c.1, shape: c.2, fused: true))[0], "the activation changed nothing")
    }
}

/// Max pooling with padding or dilation (the path that checks each tap against the image's edges,
/// and runs the windows inside the width eight at a time) against its definition, value and chosen index (through the gradient):
/// every tap checked in row-major order, the first element taken, a larger one or a NaN replacing it,
/// a NaN ending its row. NaNs placed in windows that straddle the border.
@Suite("Max pooling")
struct MaxPoolTests {
    @Test(arguments: [((7, 9), (3, 3), (2, 2), (1, 1), (1, 1)), ((8, 8), (3, 3), (1, 1), (1, 1), (2, 2)),
                      ((5, 6), (4, 2), (3, 1), (2, 1), (1, 3)), ((3, 3), (3, 3), (2, 2), (1, 1), (1, 1)),
                      ((6, 40), (3, 3), (2, 2), (1, 1), (1, 1)), ((5, 30), (3, 2), (1, 1), (1, 0), (2, 3))])
    func equalsTheDefinition(_ c: ((Int, Int), (Int, Int), (Int, Int), (Int, Int), (Int, Int))) throws {
        let ((h, w), kernel, stride, pad, dilation) = c
        var values = try Tensor.randomNormal([2, 3, h, w], generator: Generator(seed: 23)).scalars
        for at in [0, w + 1, 2 * h * w - 1, 3 * h * w + w - 1, 3 * h * w + w, 2 * w + 10, 2 * w + 11, 3 * w + 10, 4 * w + 20, 4 * w + 21]
            where at < values.count { values[at] = .nan }
        let x = try Tensor(shape: [2, 3, h, w], scalars: values).requiringGrad()
        let y = try x.maxPool2d(kernel: kernel, stride: stride, padding: Padding2D(pad.0, pad.1), dilation: dilation)
        let (oh, ow) = (y.shape[2], y.shape[3])
        try y.backward(seed: try Tensor(shape: y.shape, scalars: (0..<y.count).map { Float($0 + 1) }))
        var want = [Float](), wantGrad = [Float](repeating: 0, count: values.count)
        for p in 0..<6 {
            for r in 0..<oh {
                for q in 0..<ow {
                    var best = -Float.infinity, index = -1
                    for i in 0..<kernel.0 {
                        let ih = r * stride.0 - pad.0 + i * dilation.0
                        guard ih >= 0 && ih < h else { continue }
                        for j in 0..<kernel.1 {
                            let iw = q * stride.1 - pad.1 + j * dilation.1
                            guard iw >= 0 && iw < w else { continue }
                            let v = values[p * h * w + ih * w + iw]
                            if v > best || index < 0 || v.isNaN { (best, index) = (v, ih * w + iw) }
                            if v.isNaN { break }
                        }
                    }
                    want.append(best)
                    wantGrad[p * h * w + index] += Float(want.count)
                }
            }
        }
        #expect(zip(y.scalars, want).allSatisfy { $0.bitPattern == $1.bitPattern })
        #expect(x.grad?.scalars == wantGrad)
    }
}

/// Thread-count changes are process-wide, so these run one at a time.
@Suite("Determinism across runs and thread counts", .serialized)
struct DeterminismTests {
    /// A small CNN step: conv, batch norm, pooling, dense, cross-entropy, backward. Returns every gradient's bits.
    func trainingStepBits() throws -> [UInt32] {
        let generator = Generator(seed: 11)
        let x = try Tensor.randomNormal([8, 3, 32, 32], generator: generator)
        let w1 = try Tensor.randomNormal([16, 3, 3, 3], std: 0.2, generator: generator).requiringGrad()
        let w2 = try Tensor.randomNormal([16 * 16 * 16, 10], std: 0.02, generator: generator).requiringGrad()
        let gamma = try Tensor.ones([16]).requiringGrad(), beta = try Tensor.zeros([16]).requiringGrad()
        let hidden = try x.conv2d(w1, padding: Padding2D(1, 1))
            .batchNorm(weight: gamma, bias: beta, runningMean: Tensor.zeros([16]), runningVar: Tensor.ones([16]), training: true)
            .relu().maxPool2d(kernel: (2, 2))
        let logits = try hidden.flattened().dropout(0.3, training: true, generator: generator).matmul(w2)
        let loss = try logits.crossEntropy(labels: (0..<8).map { $0 % 10 })
        try loss.backward()
        return ([loss] + [w1, w2, gamma, beta].compactMap(\.grad)).flatMap { $0.scalars.map(\.bitPattern) }
    }

    @Test func sameSeedGivesIdenticalBitsAcrossRunsAndThreadCounts() throws {
        let saved = Threads.count
        defer { try? Threads.set(saved) }
        try Threads.set(2)
        let first = try trainingStepBits()
        let second = try trainingStepBits()
        #expect(first == second, "two runs with 2 threads differ")
        try Threads.set(1)
        let single = try trainingStepBits()
        // NOTE: with OpenBLAS's generic Prescott kernels (chosen on CPUs it does not recognize) one and
        // two threads round differently; sessions record their thread count, so replays are unaffected.
        // Recorded as a known issue there, to be fixed in the engine, not hidden elsewhere.
        if EngineInfo.blasCoreName == "Prescott" {
            withKnownIssue("1 and 2 threads differ with OpenBLAS Prescott kernels", isIntermittent: true) { #expect(first == single) }
        } else {
            #expect(first == single, "1 and 2 threads differ")
        }
    }
}

/// graft's worker threads: every chunk of a loop runs exactly once, on the caller and the workers;
/// a loop inside a chunk runs serially; a loop started by another thread while the workers are held
/// runs serially on that thread; a new thread count replaces the workers.
@Suite("Worker threads", .serialized)
struct WorkerPoolTests {
    /// How many times each index of 0..<total was visited by one parallelFor (threads write disjoint slots).
    func visits(_ total: Int, grain: Int, nested: Bool = false) -> [Int] {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: total)
        counts.initialize(repeating: 0, count: total)
        defer { counts.deallocate() }
        nonisolated(unsafe) let slots = counts
        Threads.parallelFor(total, grain: grain) { range in
            for i in range {
                if nested {
                    // A loop inside a chunk: serial on this thread, still every index once.
                    Threads.parallelFor(3, grain: 1) { inner in for _ in inner { slots[i] += 1 } }
                    slots[i] -= 2
                } else {
                    slots[i] += 1
                }
            }
        }
        return Array(UnsafeBufferPointer(start: counts, count: total))
    }

    @Test func everyChunkRunsOnce() throws {
        let saved = Threads.count
        defer { try? Threads.set(saved) }
        for threads in [2, 1, 2, 3] {
            try Threads.set(threads)
            for (total, grain) in [(1, 1), (7, 1), (64, 1), (1000, 3), (100_000, 1), (5, 100)] {
                #expect(visits(total, grain: grain) == Array(repeating: 1, count: total), "\(threads) threads, \(total) by \(grain)")
            }
            #expect(visits(200, grain: 1, nested: true) == Array(repeating: 1, count: 200))
        }
    }

    @Test func loopsFromTwoThreadsAtOnceBothComplete() async throws {
        let saved = Threads.count
        defer { try? Threads.set(saved) }
        try Threads.set(2)
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask { (0..<50).allSatisfy { _ in self.visits(10_000, grain: 10) == Array(repeating: 1, count: 10_000) } }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == [true, true, true, true])
    }

    /// A pool replaced by a new thread count stops its workers and is freed (its mutex and condition
    /// variable destroyed) once they have exited.
    @Test func aReplacedPoolIsFreedOnceItsWorkersExit() throws {
        let saved = Threads.count
        defer { try? Threads.set(saved) }
        weak var old = WorkerPool.acquire(helpers: 1)
        WorkerPool.release()
        #expect(old != nil)
        _ = WorkerPool.acquire(helpers: 2)  // replaces it
        WorkerPool.release()
        var waited = 0
        while old != nil && waited < 300 { usleep(10_000); waited += 1 }
        #expect(old == nil, "the retired pool is still referenced after 3 s")
        try Threads.set(2)
        #expect(visits(1000, grain: 3) == Array(repeating: 1, count: 1000))
    }

    /// A step of real kernels gives the same bits after the workers slept (idle longer than they spin).
    @Test func sameBitsAfterTheWorkersSlept() throws {
        let saved = Threads.count
        defer { try? Threads.set(saved) }
        try Threads.set(2)
        let generator = Generator(seed: 3)
        let a = try Tensor.randomNormal([300, 200], generator: generator), b = try Tensor.randomNormal([200, 500], generator: generator)
        let first = try a.matmul(b).scalars
        usleep(UInt32(WorkerPool.spin / 1000) * 4)
        #expect(try a.matmul(b).scalars == first)
    }
}

@Suite("OpenBLAS's kernels")
struct BLASCoreTests {
    @Test func aGenericFallbackOnAModernCPUIsReplaced() {
        let avx512: Set<String> = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"]
        #expect(BLASCore.better(than: "Prescott", flags: avx512, requested: nil) == "SkylakeX")
        #expect(BLASCore.better(than: "Prescott", flags: ["avx", "avx2", "fma"], requested: nil) == "Haswell")
        #expect(BLASCore.better(than: "Nehalem", flags: ["avx", "avx2", "fma"], requested: "") == "Haswell")
    }

    @Test func aRecognizedCPUTheUsersChoiceOrAnOldCPUStayAsTheyAre() {
        let avx512: Set<String> = ["avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"]
        #expect(BLASCore.better(than: "Zen", flags: avx512, requested: nil) == nil)
        #expect(BLASCore.better(than: "SkylakeX", flags: avx512, requested: nil) == nil)
        #expect(BLASCore.better(than: "Prescott", flags: avx512, requested: "Prescott") == nil)   // asked for: no loop either
        #expect(BLASCore.better(than: "Prescott", flags: ["sse3", "avx"], requested: nil) == nil)
    }
}
