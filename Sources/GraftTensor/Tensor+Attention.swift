import Foundation

extension Tensor {
    /// Multi-head scaled dot-product self-attention over a fused projection: `self` is qkv
    /// [N, T, 3D] (as timm's and torchvision's `qkv` / `in_proj` linear write it: q, then k, then v,
    /// each [T, D] with head h in columns h·d…(h+1)·d, d = D / heads). Returns [N, T, D]:
    /// softmax(q kᵀ · scale) v per head, heads side by side (PyTorch's
    /// `scaled_dot_product_attention`, scale 1/√d by default).
    ///
    /// Each (sample, head) is one task: its [T, T] scores exist once, in a scratch buffer of the
    /// thread that runs it, and are gone when it ends; q, k and v are read in place (strided), so
    /// nothing is transposed or copied. Backward keeps the input, the output and one log-sum-exp per
    /// row, and recomputes the scores (as flash attention does) instead of keeping them.
    public func selfAttention(heads: Int, scale: Float? = nil) throws(TensorError) -> Tensor {
        try selfAttention(heads: heads, scale: scale, bias: nil, mask: nil)
    }

    /// Self-attention whose scores get, before the softmax, a learned `bias` per head [heads, T, T]
    /// and a constant `mask` [G, T, T] (sample s takes mask s mod G): Swin's windows, where the
    /// samples are the windows of each image in order, the bias comes from the relative position
    /// table and the mask keeps shifted windows' regions apart. softmax(q kᵀ · scale + bias[h] +
    /// mask[s mod G]) v. The bias's gradient is the scores' gradient summed over the samples, in
    /// sample order (the same bits for any thread count).
    public func selfAttention(heads: Int, scale: Float? = nil, bias: Tensor?, mask: Tensor?) throws(TensorError) -> Tensor {
        guard rank == 3, heads > 0, shape[2] % (3 * heads) == 0, shape[2] > 0 else {
            throw .shapeMismatch(op: "selfAttention", shapes: [shape], reason: "expects [N, T, 3·D] with D divisible by \(heads) heads")
        }
        let (n, t, width) = (shape[0], shape[1], shape[2] / 3)
        if let bias, bias.shape != [heads, t, t] {
            throw .shapeMismatch(op: "selfAttention", shapes: [shape, bias.shape], reason: "a bias must be [heads, T, T] = [\(heads), \(t), \(t)]")
        }
        if let mask, mask.rank != 3 || mask.shape[1] != t || mask.shape[2] != t || mask.shape[0] == 0 || n % mask.shape[0] != 0 {
            throw .shapeMismatch(op: "selfAttention", shapes: [shape, mask.shape], reason: "a mask must be [G, \(t), \(t)] with G dividing the \(n) samples")
        }
        let groups = mask?.shape[0] ?? 1
        let d = width / heads
        let scale = scale ?? 1 / Float(d).squareRoot()
        let y = Tensor(uninitializedShape: [n, t, width])
        let lse = Tensor(uninitializedShape: [n, heads, t])
        guard n > 0, t > 0 else { return y }
        let (biasValues, maskValues) = (bias?.detached(), mask?.detached())
        nonisolated(unsafe) let (qkv, out, sums) = (storage.pointer, y.storage.pointer, lse.storage.pointer)
        nonisolated(unsafe) let (biasPointer, maskPointer) = (biasValues?.storage.pointer, maskValues?.storage.pointer)
        /// The additive term of task (sample, head)'s scores, when there is one.
        func additions(_ sample: Int, _ head: Int) -> (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) {
            (biasPointer.map { $0 + head * t * t }, maskPointer.map { $0 + (sample % groups) * t * t })
        }
        Threads.parallelFor(n * heads, grain: 1) { tasks in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: t * t)
            defer { scores.deallocate() }
            for task in tasks {
                let (sample, head) = (task / heads, task % heads)
                let q = qkv + sample * t * 3 * width + head * d
                let (k, v) = (q + width, q + 2 * width)
                GEMM.sgemm(transposeB: true, m: t, n: t, k: d, q, lda: 3 * width, k, ldb: 3 * width, scores, ldc: t)
                let (b, m) = additions(sample, head)
                Attention.softmaxRows(scores, rows: t, scale: scale, bias: b, mask: m, logSumExp: sums + task * t)
                GEMM.sgemm(m: t, n: d, k: t, scores, lda: t, v, ldb: 3 * width, out + sample * t * width + head * d, ldc: width)
            }
        }
        let (x0, y0) = (detached(), y.detached())
        let inputs = bias.map { [self, $0] } ?? [self]
        return y.recorded(from: inputs) { g in
            // The bias and the mask stay alive (and their pointers valid) as long as this pullback.
            withExtendedLifetime((biasValues, maskValues)) {}
            let dx = Tensor(uninitializedShape: x0.shape)
            // The bias's gradient per task, summed over the samples afterwards (in sample order).
            let perTask = bias == nil ? nil : Tensor(uninitializedShape: [n * heads, t, t])
            nonisolated(unsafe) let (qkv, out, grad, dqkv, sums) = (x0.storage.pointer, y0.storage.pointer, g.storage.pointer, dx.storage.pointer, lse.storage.pointer)
            nonisolated(unsafe) let dBiases = perTask?.storage.pointer
            Threads.parallelFor(n * heads, grain: 1) { tasks in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: t * t)
                let dp = UnsafeMutablePointer<Float>.allocate(capacity: t * t)
                defer { p.deallocate(); dp.deallocate() }
                for task in tasks {
                    let (sample, head) = (task / heads, task % heads)
                    let q = qkv + sample * t * 3 * width + head * d
                    let (k, v) = (q + width, q + 2 * width)
                    let dq = dqkv + sample * t * 3 * width + head * d
                    let (dk, dv) = (dq + width, dq + 2 * width)
                    let (o, dO) = (out + sample * t * width + head * d, grad + sample * t * width + head * d)
                    // P again from the scores and the saved log-sum-exp.
                    GEMM.sgemm(transposeB: true, m: t, n: t, k: d, q, lda: 3 * width, k, ldb: 3 * width, p, ldc: t)
                    let rowSums = sums + task * t
                    let (b, m) = additions(sample, head)
                    for i in 0..<t {
                        Attention.probabilities(p + i * t, count: t, scale: scale, bias: b.map { $0 + i * t },
                                                mask: m.map { $0 + i * t }, offset: rowSums[i])
                    }
                    // dV = Pᵀ·dO; dP = dO·Vᵀ
                    GEMM.sgemm(transposeA: true, m: t, n: d, k: t, p, lda: t, dO, ldb: width, dv, ldc: 3 * width)
                    GEMM.sgemm(transposeB: true, m: t, n: t, k: d, dO, lda: width, v, ldb: 3 * width, dp, ldc: t)
                    // dZ = P ∘ (dP − rowsum(dO ∘ O)) (the softmax's pullback: the bias's gradient);
                    // dS = dZ · scale (the scale's)
                    for i in 0..<t {
                        var dot: Float = 0
                        for c in 0..<d { dot += dO[i * width + c] * o[i * width + c] }
                        let (row, drow) = (p + i * t, dp + i * t)
                        for j in 0..<t { drow[j] = row[j] * (drow[j] - dot) }
                    }
                    if let dBiases { (dBiases + task * t * t).update(from: dp, count: t * t) }
                    for i in 0..<(t * t) { dp[i] *= scale }
                    // dQ = dS·K; dK = dSᵀ·Q
                    GEMM.sgemm(m: t, n: d, k: t, dp, lda: t, k, ldb: 3 * width, dq, ldc: 3 * width)
                    GEMM.sgemm(transposeA: true, m: t, n: d, k: t, dp, lda: t, q, ldb: 3 * width, dk, ldc: 3 * width)
                }
            }
            guard let perTask else { return [dx] }
            let dBias = Tensor(shape: [heads, t, t], storage: Storage(count: heads * t * t, repeating: 0))
            let (source, target) = (perTask.storage.pointer, dBias.storage.pointer)
            for sample in 0..<n {
                for head in 0..<heads {
                    let from = source + (sample * heads + head) * t * t, to = target + head * t * t
                    for i in 0..<(t * t) { to[i] += from[i] }
                }
            }
            return [dx, dBias]
        }
    }
}

/// The row softmax inside attention.
enum Attention {
    /// Each row of `scores` [rows, rows] becomes softmax(row · scale + bias + mask) (the additive
    /// terms [rows, rows] where given); `logSumExp` gets each row's log Σ e^z (with its maximum
    /// taken out first, for range).
    ///
    /// Eight lanes at a time: e^z with graft's ``Exp8``, the sum in eight interleaved lanes (lane l
    /// adds the terms j ≡ l mod 8 in order), then the lanes' sum, then the columns past the last
    /// eight in order — a fixed order, so the bits do not depend on the thread count.
    static func softmaxRows(_ scores: UnsafeMutablePointer<Float>, rows: Int, scale: Float, bias: UnsafeMutablePointer<Float>? = nil,
                            mask: UnsafeMutablePointer<Float>? = nil, logSumExp: UnsafeMutablePointer<Float>) {
        for i in 0..<rows {
            let row = scores + i * rows
            let (rowBias, rowMask) = (bias.map { $0 + i * rows }, mask.map { $0 + i * rows })
            let largest = scaledScores(row, count: rows, scale: scale, bias: rowBias, mask: rowMask)
            let total = exponentiate(row, count: rows, offset: largest)
            let inverse = 1 / total
            Lanes.mapInPlace(row, count: rows, { $0 * inverse }, scalar: { $0 * inverse })
            logSumExp[i] = largest + Foundation.log(total)
        }
    }

    /// row[j] ← row[j]·scale (+ bias[j]) (+ mask[j]); returns the row's maximum (NaNs passed over).
    @inline(__always)
    static func scaledScores(_ row: UnsafeMutablePointer<Float>, count: Int, scale: Float, bias: UnsafeMutablePointer<Float>?,
                             mask: UnsafeMutablePointer<Float>?) -> Float {
        var most = SIMD8<Float>(repeating: -.infinity)
        var j = 0
        while j &+ 8 <= count {
            var z = Lanes.load(row, j) * scale
            if let bias { z += Lanes.load(bias, j) }
            if let mask { z += Lanes.load(mask, j) }
            Lanes.store(z, row, j)
            most = most.replacing(with: z, where: z .> most)
            j &+= 8
        }
        var largest = most.max()
        while j < count {
            var z = row[j] * scale
            if let bias { z += bias[j] }
            if let mask { z += mask[j] }
            row[j] = z
            largest = Swift.max(largest, z)
            j &+= 1
        }
        return largest
    }

    /// row[j] ← e^(row[j]·scale + bias[j] + mask[j] − offset): the softmax again from a row's
    /// scores and its saved log-sum-exp (the backward pass), with the forward pass's arithmetic.
    static func probabilities(_ row: UnsafeMutablePointer<Float>, count: Int, scale: Float, bias: UnsafeMutablePointer<Float>?,
                              mask: UnsafeMutablePointer<Float>?, offset: Float) {
        _ = scaledScores(row, count: count, scale: scale, bias: bias, mask: mask)
        _ = exponentiate(row, count: count, offset: offset)
    }

    /// row[j] ← e^(row[j] − offset) with ``Exp8``; returns Σ row[j], summed in eight interleaved lanes
    /// (lane l adds the terms j ≡ l mod 8 in order), then the lanes, then the columns past the last eight.
    @inline(__always)
    static func exponentiate(_ row: UnsafeMutablePointer<Float>, count: Int, offset: Float) -> Float {
        var lanes = SIMD8<Float>.zero
        var j = 0
        while j &+ 8 <= count {
            let e = Exp8.values(Lanes.load(row, j) - SIMD8(repeating: offset))
            Lanes.store(e, row, j)
            lanes += e
            j &+= 8
        }
        var total = lanes.sum()
        while j < count {
            row[j] = Exp8.value(row[j] - offset)
            total += row[j]
            j &+= 1
        }
        return total
    }
}
