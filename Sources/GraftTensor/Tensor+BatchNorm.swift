extension Tensor {
    /// Batch normalization over axis 1 of [N, C] or [N, C, H, W] (statistics over every other axis).
    ///
    /// Training normalizes with the batch's mean and biased variance and moves the running
    /// statistics in place: `running = (1 − momentum)·running + momentum·batch`, with the unbiased
    /// variance, as PyTorch does. Inference normalizes with the running statistics and leaves them alone.
    ///
    /// `activation` applies an activation to the output in the same pass (training fusion): the
    /// same bits, forward and backward, as `batchNorm(…)` followed by the activation's own op, while
    /// the normalized values before the activation are never stored (the backward recomputes them
    /// from the input). A block of channels is normalized while its statistics' passes have left it
    /// in cache.
    public func batchNorm(weight: Tensor?, bias: Tensor?, runningMean: Tensor, runningVar: Tensor, training: Bool,
                          momentum: Float = 0.1, epsilon: Float = 1e-5, activation: FusedActivation? = nil) throws(TensorError) -> Tensor {
        guard rank >= 2 else { throw .shapeMismatch(op: "batchNorm", shapes: [shape], reason: "input needs a channel axis: [N, C, ...]") }
        let channels = shape[1]
        for (name, t) in [("weight", weight), ("bias", bias), ("running mean", Optional(runningMean)), ("running var", Optional(runningVar))] {
            if let t, t.shape != [channels] {
                throw .shapeMismatch(op: "batchNorm", shapes: [shape, t.shape], reason: "\(name) must be [\(channels)]")
            }
        }
        guard epsilon >= 0, (0...1).contains(momentum) else {
            throw .invalidArgument(op: "batchNorm", reason: "epsilon must be ≥ 0 and momentum in 0...1")
        }
        let (batch, inner) = (shape[0], shape[2...].reduce(1, *))
        if training && batch * inner <= 1 {
            throw .invalidArgument(op: "batchNorm", reason: "training needs more than one value per channel, input is \(formatShape(shape))")
        }
        let norm = BatchNormPass(weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar, training: training,
                                 momentum: momentum, epsilon: epsilon, batch: batch, channels: channels, inner: inner)
        switch activation {
        case nil: return norm.run(self, Identity.self)
        case .relu: return norm.run(self, ReLU.self)
        case .relu6: return norm.run(self, ReLU6.self)
        case .hardswish: return norm.run(self, Hardswish.self)
        case .hardsigmoid: return norm.run(self, Hardsigmoid.self)
        case .silu: return norm.run(self, SiLU.self)
        case .sigmoid: return norm.run(self, Sigmoid.self)
        case .gelu: return norm.run(self, GELU.self)
        }
    }

    /// γ or β as an array, or `value` for every channel when the layer has none.
    static func perChannel(_ t: Tensor?, or value: Float, _ channels: Int) -> [Float] {
        t.map { t in (0..<channels).map { t.storage.pointer[$0] } } ?? [Float](repeating: value, count: channels)
    }

    /// The running statistics as mean and inverse standard deviation 1/√(σ² + ε), per channel.
    static func runningStatistics(_ runningMean: Tensor, _ runningVar: Tensor, epsilon: Float) -> (mean: [Float], invStd: [Float]) {
        let count = runningMean.count
        return ((0..<count).map { runningMean.storage.pointer[$0] },
                (0..<count).map { 1 / (runningVar.storage.pointer[$0] + epsilon).squareRoot() })
    }

    /// Batch normalization as y = x·scale + shift per channel: scale = γ·σ⁻¹, shift = β − μ·scale.
    static func normalizingAffine(gamma: [Float], beta: [Float], mean: [Float], invStd: [Float]) -> (scale: [Float], shift: [Float]) {
        let maps = (0..<gamma.count).map { normalizingAffine(gamma: gamma[$0], beta: beta[$0], mean: mean[$0], invStd: invStd[$0]) }
        return (maps.map(\.scale), maps.map(\.shift))
    }

    /// One channel's map.
    @inline(__always)
    static func normalizingAffine(gamma: Float, beta: Float, mean: Float, invStd: Float) -> (scale: Float, shift: Float) {
        let scale = gamma * invStd
        return (scale, beta - mean * scale)
    }

    /// The per-channel map y = x·scale + shift that `batchNorm(…, training: false)` applies, computed the
    /// same way, so that a convolution can apply it as it writes its output (inference fusion) with the same bits.
    public static func batchNormInferenceAffine(weight: Tensor?, bias: Tensor?, runningMean: Tensor, runningVar: Tensor,
                                                epsilon: Float) throws(TensorError) -> (scale: [Float], shift: [Float]) {
        let channels = runningMean.count
        for t in [weight, bias, Optional(runningVar)] where t != nil && t?.shape != [channels] {
            throw .shapeMismatch(op: "batchNorm", shapes: [runningMean.shape, t?.shape ?? []], reason: "every statistic and parameter must be [\(channels)]")
        }
        let (mean, invStd) = runningStatistics(runningMean, runningVar, epsilon: epsilon)
        let (gamma, beta) = (Tensor.perChannel(weight, or: 1, channels), Tensor.perChannel(bias, or: 0, channels))
        return normalizingAffine(gamma: gamma, beta: beta, mean: mean, invStd: invStd)
    }
}

/// One `batchNorm` pass with the activation `F` fused (`Identity` for none), forward and backward.
private struct BatchNormPass {
    let weight: Tensor?, bias: Tensor?, runningMean: Tensor, runningVar: Tensor
    let training: Bool, momentum: Float, epsilon: Float
    let batch: Int, channels: Int, inner: Int

    func run<F: ActivationFunction>(_ input: Tensor, _: F.Type) -> Tensor {
        let (batch, channels, inner, perChannel) = (batch, channels, inner, batch * inner)
        let (gamma, beta) = (Tensor.perChannel(weight, or: 1, channels), Tensor.perChannel(bias, or: 0, channels))
        // Per channel: mean and inverse standard deviation, and the map y = F(x·scale + shift).
        var mean = [Float](repeating: 0, count: channels), invStd = mean, scale = mean, shift = mean
        let y = Tensor(uninitializedShape: input.shape)
        nonisolated(unsafe) let (source, out) = (UnsafePointer(input.storage.pointer), y.storage.pointer)
        if training {
            // Blocks of channels in parallel: each channel's sums run in one fixed order on one thread
            // (summed in Double), then the block is normalized while it is in cache.
            nonisolated(unsafe) let (rm, rv) = (runningMean.storage.pointer, runningVar.storage.pointer)
            let (momentum, epsilon) = (momentum, epsilon)
            mean.withUnsafeMutableBufferPointer { meanBuffer in
            invStd.withUnsafeMutableBufferPointer { invStdBuffer in
            scale.withUnsafeMutableBufferPointer { scaleBuffer in
            shift.withUnsafeMutableBufferPointer { shiftBuffer in
                nonisolated(unsafe) let (meanOut, invStdOut, scaleOut, shiftOut) = (meanBuffer, invStdBuffer, scaleBuffer, shiftBuffer)
                ChannelBlocks.forEach(channels: channels, inner: inner, batch: batch) { block in
                    var total = SIMD8<Double>()
                    for n in 0..<batch {
                        let p = source + n * channels * inner
                        for i in 0..<inner { total += SIMD8<Double>(block.load(p, i)) }
                    }
                    let m = total / Double(perChannel)
                    var squares = SIMD8<Double>()
                    for n in 0..<batch {
                        let p = source + n * channels * inner
                        for i in 0..<inner { let d = SIMD8<Double>(block.load(p, i)) - m; squares += d * d }
                    }
                    for (k, c) in block.channels.enumerated() {
                        let variance = squares[k] / Double(perChannel)
                        meanOut[c] = Float(m[k])
                        invStdOut[c] = Float(1 / (variance + Double(epsilon)).squareRoot())
                        rm[c] = (1 - momentum) * rm[c] + momentum * Float(m[k])
                        rv[c] = (1 - momentum) * rv[c] + momentum * Float(squares[k] / Double(perChannel - 1))
                        (scaleOut[c], shiftOut[c]) = Tensor.normalizingAffine(gamma: gamma[c], beta: beta[c], mean: meanOut[c], invStd: invStdOut[c])
                        for n in 0..<batch {
                            let o = (n * channels + c) * inner
                            Self.normalize(source + o, out + o, inner, scaleOut[c], shiftOut[c], F.self)
                        }
                    }
                }
            }}}}
        } else {
            (mean, invStd) = Tensor.runningStatistics(runningMean, runningVar, epsilon: epsilon)
            (scale, shift) = Tensor.normalizingAffine(gamma: gamma, beta: beta, mean: mean, invStd: invStd)
            let (scale, shift) = (scale, shift)
            Threads.parallelFor(batch * channels, grain: Swift.max(1, Elementwise.grain / Swift.max(inner, 1))) { planes in
                for plane in planes {
                    let c = plane % channels
                    Self.normalize(source + plane * inner, out + plane * inner, inner, scale[c], shift[c], F.self)
                }
            }
        }
        let x0 = input.detached()
        let inputs = [input] + [weight, bias].compactMap { $0 }
        let (hasWeight, hasBias, training) = (weight != nil, bias != nil, training)
        let (finalMean, finalInvStd, finalScale, finalShift) = (mean, invStd, scale, shift)
        // With g' = g·F′(x·scale + shift), the gradient at the normalized output:
        // x̂ = (x − μ)·σ⁻¹;  dγ = Σ g'·x̂;  dβ = Σ g';
        // training: dx = γσ⁻¹/M · (M·g' − Σg' − x̂·Σ(g'·x̂));  inference: dx = γσ⁻¹·g'
        return y.recorded(from: inputs) { g in
            let (mean, invStd, scale, shift) = (finalMean, finalInvStd, finalScale, finalShift)
            let dx = Tensor(uninitializedShape: x0.shape)
            var dgamma = [Float](repeating: 0, count: channels), dbeta = [Float](repeating: 0, count: channels)
            nonisolated(unsafe) let (gp, xp, dp) = (UnsafePointer(g.storage.pointer), UnsafePointer(x0.storage.pointer), dx.storage.pointer)
            dgamma.withUnsafeMutableBufferPointer { dgammaBuffer in
                dbeta.withUnsafeMutableBufferPointer { dbetaBuffer in
                    nonisolated(unsafe) let (dgammaOut, dbetaOut) = (dgammaBuffer, dbetaBuffer)
                    ChannelBlocks.forEach(channels: channels, inner: inner, batch: batch) { block in
                        var sumG = SIMD8<Double>(), sumGX = SIMD8<Double>()
                        let (blockMean, blockInvStd) = (block.gather(mean), block.gather(invStd))
                        let (blockScale, blockShift) = (block.gather(scale), block.gather(shift))
                        for n in 0..<batch {
                            let (x, gradient) = (xp + n * channels * inner, gp + n * channels * inner)
                            for i in 0..<inner {
                                let xv = block.load(x, i)
                                let xhat = SIMD8<Double>((xv - blockMean) * blockInvStd)
                                let g = SIMD8<Double>(F.gradients(block.load(gradient, i), at: xv * blockScale + blockShift))
                                sumG += g; sumGX += g * xhat
                            }
                        }
                        for (k, c) in block.channels.enumerated() {
                            dgammaOut[c] = Float(sumGX[k]); dbetaOut[c] = Float(sumG[k])
                            let (a, b) = (scale[c], shift[c])
                            let meanG = Float(sumG[k] / Double(perChannel)), meanGX = Float(sumGX[k] / Double(perChannel))
                            let (m, s) = (mean[c], invStd[c])
                            for n in 0..<batch {
                                let o = (n * channels + c) * inner
                                let (x, g, d) = (xp + o, gp + o, dp + o)
                                if training {
                                    for i in 0..<inner { d[i] = a * (F.gradient(g[i], at: x[i] * a + b) - meanG - (x[i] - m) * s * meanGX) }
                                } else {
                                    for i in 0..<inner { d[i] = a * F.gradient(g[i], at: x[i] * a + b) }
                                }
                            }
                        }
                    }
                }
            }
            return [dx] + (hasWeight ? [Tensor(dgamma)] : []) + (hasBias ? [Tensor(dbeta)] : [])
        }
    }

    /// q = F(p·scale + shift) over `count` values.
    @inline(__always)
    static func normalize<F: ActivationFunction>(_ p: UnsafePointer<Float>, _ q: UnsafeMutablePointer<Float>, _ count: Int,
                                                 _ scale: Float, _ shift: Float, _: F.Type) {
        for i in 0..<count { q[i] = F.value(p[i] * scale + shift) }
    }
}

/// Eight channels of an [N, C, plane…] tensor at a time, for per-channel sums: each channel keeps its
/// own chain, summed in the same order as alone (the same bits), and eight chains in one vector's
/// lanes overlap their adds instead of each add waiting on the last. A last block of fewer channels
/// repeats its last channel in the spare lanes, whose sums are dropped.
struct ChannelBlocks {
    /// The block's channels (one to eight).
    let channels: Range<Int>
    /// Each lane's offset in one image's [C, plane] slab: channel × plane.
    private let offsets: SIMD8<Int>

    private init(first: Int, total: Int, inner: Int) {
        channels = first..<Swift.min(first + 8, total)
        var offsets = SIMD8<Int>()
        for k in 0..<8 { offsets[k] = Swift.min(first + k, total - 1) * inner }
        self.offsets = offsets
    }

    /// Element `i` of each lane's plane in the image slab starting at `slab`.
    @inline(__always)
    func load(_ slab: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        let p = slab + i
        return SIMD8(p[offsets[0]], p[offsets[1]], p[offsets[2]], p[offsets[3]], p[offsets[4]], p[offsets[5]], p[offsets[6]], p[offsets[7]])
    }

    /// A per-channel value for each lane.
    func gather(_ values: [Float]) -> SIMD8<Float> {
        var v = SIMD8<Float>()
        for k in 0..<8 { v[k] = values[Swift.min(channels.lowerBound + k, channels.upperBound - 1)] }
        return v
    }

    /// Calls `body` for the blocks of `channels` channels of `inner` values per image, in parallel (a block's sums on one thread).
    static func forEach(channels: Int, inner: Int, batch: Int, _ body: (ChannelBlocks) -> Void) {
        let blocks = (channels + 7) / 8
        Threads.parallelFor(blocks, grain: Swift.max(1, Elementwise.grain / Swift.max(batch * inner * 8, 1))) { range in
            for b in range { body(ChannelBlocks(first: b * 8, total: channels, inner: inner)) }
        }
    }
}
