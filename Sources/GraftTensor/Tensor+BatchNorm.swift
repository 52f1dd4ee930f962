extension Tensor {
    /// Batch normalization over axis 1 of [N, C] or [N, C, H, W] (statistics over every other axis).
    ///
    /// Training normalizes with the batch's mean and biased variance and moves the running
    /// statistics in place: `running = (1 − momentum)·running + momentum·batch`, with the unbiased
    /// variance, as PyTorch does. Inference normalizes with the running statistics and leaves them alone.
    public func batchNorm(weight: Tensor?, bias: Tensor?, runningMean: Tensor, runningVar: Tensor,
                          training: Bool, momentum: Float = 0.1, epsilon: Float = 1e-5) throws(TensorError) -> Tensor {
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
        let perChannel = batch * inner
        if training && perChannel <= 1 {
            throw .invalidArgument(op: "batchNorm", reason: "training needs more than one value per channel, input is \(formatShape(shape))")
        }
        // Per-channel mean and inverse standard deviation, summed in Double in a fixed order.
        var mean = [Float](repeating: 0, count: channels), invStd = [Float](repeating: 0, count: channels)
        let x = storage.pointer
        if training {
            // Channels in parallel: each channel's sums run in one fixed order on one thread.
            nonisolated(unsafe) let (rm, rv, source) = (runningMean.storage.pointer, runningVar.storage.pointer, UnsafePointer(x))
            let momentum = momentum, epsilon = epsilon
            mean.withUnsafeMutableBufferPointer { meanBuffer in
                invStd.withUnsafeMutableBufferPointer { invStdBuffer in
                    nonisolated(unsafe) let (meanOut, invStdOut) = (meanBuffer, invStdBuffer)
                    Threads.parallelFor(channels, grain: Swift.max(1, Elementwise.grain / perChannel)) { range in
                        for c in range {
                            var total = 0.0
                            for n in 0..<batch { let p = source + (n * channels + c) * inner; for i in 0..<inner { total += Double(p[i]) } }
                            let m = total / Double(perChannel)
                            var squares = 0.0
                            for n in 0..<batch { let p = source + (n * channels + c) * inner; for i in 0..<inner { let d = Double(p[i]) - m; squares += d * d } }
                            let variance = squares / Double(perChannel)
                            meanOut[c] = Float(m)
                            invStdOut[c] = Float(1 / (variance + Double(epsilon)).squareRoot())
                            rm[c] = (1 - momentum) * rm[c] + momentum * Float(m)
                            rv[c] = (1 - momentum) * rv[c] + momentum * Float(squares / Double(perChannel - 1))
                        }
                    }
                }
            }
        } else {
            (mean, invStd) = Tensor.runningStatistics(runningMean, runningVar, epsilon: epsilon)
        }
        let (gamma, beta) = (Tensor.perChannel(weight, or: 1, channels), Tensor.perChannel(bias, or: 0, channels))
        let (scale, shift) = Tensor.normalizingAffine(gamma: gamma, beta: beta, mean: mean, invStd: invStd)
        let y = Tensor(uninitializedShape: shape)
        nonisolated(unsafe) let (source, out) = (UnsafePointer(x), y.storage.pointer)
        Threads.parallelFor(batch * channels, grain: Swift.max(1, Elementwise.grain / Swift.max(inner, 1))) { planes in
            for plane in planes {
                let c = plane % channels
                let (p, q) = (source + plane * inner, out + plane * inner)
                for i in 0..<inner { q[i] = p[i] * scale[c] + shift[c] }
            }
        }
        let x0 = detached()
        let inputs = [self] + [weight, bias].compactMap { $0 }
        let (hasWeight, hasBias) = (weight != nil, bias != nil)
        // x̂ = (x − μ)·σ⁻¹;  dγ = Σ g·x̂;  dβ = Σ g;
        // training: dx = γσ⁻¹/M · (M·g − Σg − x̂·Σ(g·x̂));  inference: dx = γσ⁻¹·g
        return y.recorded(from: inputs) { g in
            let dx = Tensor(uninitializedShape: x0.shape)
            var dgamma = [Float](repeating: 0, count: channels), dbeta = [Float](repeating: 0, count: channels)
            nonisolated(unsafe) let (gp, xp, dp) = (UnsafePointer(g.storage.pointer), UnsafePointer(x0.storage.pointer), dx.storage.pointer)
            dgamma.withUnsafeMutableBufferPointer { dgammaBuffer in
                dbeta.withUnsafeMutableBufferPointer { dbetaBuffer in
                    nonisolated(unsafe) let (dgammaOut, dbetaOut) = (dgammaBuffer, dbetaBuffer)
                    Threads.parallelFor(channels, grain: Swift.max(1, Elementwise.grain / perChannel)) { range in
                        for c in range {
                            var sumG = 0.0, sumGX = 0.0
                            for n in 0..<batch {
                                let o = (n * channels + c) * inner
                                for i in 0..<inner {
                                    let xhat = Double((xp[o + i] - mean[c]) * invStd[c])
                                    sumG += Double(gp[o + i]); sumGX += Double(gp[o + i]) * xhat
                                }
                            }
                            dgammaOut[c] = Float(sumGX); dbetaOut[c] = Float(sumG)
                            let k = gamma[c] * invStd[c]
                            let meanG = Float(sumG / Double(perChannel)), meanGX = Float(sumGX / Double(perChannel))
                            for n in 0..<batch {
                                let o = (n * channels + c) * inner
                                for i in 0..<inner {
                                    if training {
                                        let xhat = (xp[o + i] - mean[c]) * invStd[c]
                                        dp[o + i] = k * (gp[o + i] - meanG - xhat * meanGX)
                                    } else {
                                        dp[o + i] = k * gp[o + i]
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return [dx] + (hasWeight ? [Tensor(dgamma)] : []) + (hasBias ? [Tensor(dbeta)] : [])
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
        let scale = (0..<gamma.count).map { gamma[$0] * invStd[$0] }
        return (scale, (0..<gamma.count).map { beta[$0] - mean[$0] * scale[$0] })
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
