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
            for c in 0..<channels {
                var total = 0.0
                for n in 0..<batch { let p = x + (n * channels + c) * inner; for i in 0..<inner { total += Double(p[i]) } }
                let m = total / Double(perChannel)
                var squares = 0.0
                for n in 0..<batch { let p = x + (n * channels + c) * inner; for i in 0..<inner { let d = Double(p[i]) - m; squares += d * d } }
                let variance = squares / Double(perChannel)
                mean[c] = Float(m)
                invStd[c] = Float(1 / (variance + Double(epsilon)).squareRoot())
                let rm = runningMean.storage.pointer, rv = runningVar.storage.pointer
                rm[c] = (1 - momentum) * rm[c] + momentum * Float(m)
                rv[c] = (1 - momentum) * rv[c] + momentum * Float(squares / Double(perChannel - 1))
            }
        } else {
            for c in 0..<channels {
                mean[c] = runningMean.storage.pointer[c]
                invStd[c] = 1 / (runningVar.storage.pointer[c] + epsilon).squareRoot()
            }
        }
        let gamma = weight.map { w in (0..<channels).map { w.storage.pointer[$0] } } ?? [Float](repeating: 1, count: channels)
        let beta = bias.map { b in (0..<channels).map { b.storage.pointer[$0] } } ?? [Float](repeating: 0, count: channels)
        let y = Tensor(uninitializedShape: shape)
        let out = y.storage.pointer
        for n in 0..<batch {
            for c in 0..<channels {
                let scale = gamma[c] * invStd[c], shift = beta[c] - mean[c] * scale
                let p = x + (n * channels + c) * inner, q = out + (n * channels + c) * inner
                for i in 0..<inner { q[i] = p[i] * scale + shift }
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
            let gp = g.storage.pointer, xp = x0.storage.pointer, dp = dx.storage.pointer
            for c in 0..<channels {
                var sumG = 0.0, sumGX = 0.0
                for n in 0..<batch {
                    let o = (n * channels + c) * inner
                    for i in 0..<inner {
                        let xhat = Double((xp[o + i] - mean[c]) * invStd[c])
                        sumG += Double(gp[o + i]); sumGX += Double(gp[o + i]) * xhat
                    }
                }
                dgamma[c] = Float(sumGX); dbeta[c] = Float(sumG)
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
            return [dx] + (hasWeight ? [Tensor(dgamma)] : []) + (hasBias ? [Tensor(dbeta)] : [])
        }
    }
}
