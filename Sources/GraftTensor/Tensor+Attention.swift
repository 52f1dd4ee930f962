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
        guard rank == 3, heads > 0, shape[2] % (3 * heads) == 0, shape[2] > 0 else {
            throw .shapeMismatch(op: "selfAttention", shapes: [shape], reason: "expects [N, T, 3·D] with D divisible by \(heads) heads")
        }
        let (n, t, width) = (shape[0], shape[1], shape[2] / 3)
        let d = width / heads
        let scale = scale ?? 1 / Float(d).squareRoot()
        let y = Tensor(uninitializedShape: [n, t, width])
        let lse = Tensor(uninitializedShape: [n, heads, t])
        guard n > 0, t > 0 else { return y }
        nonisolated(unsafe) let (qkv, out, sums) = (storage.pointer, y.storage.pointer, lse.storage.pointer)
        Threads.parallelFor(n * heads, grain: 1) { tasks in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: t * t)
            defer { scores.deallocate() }
            for task in tasks {
                let (sample, head) = (task / heads, task % heads)
                let q = qkv + sample * t * 3 * width + head * d
                let (k, v) = (q + width, q + 2 * width)
                GEMM.sgemm(transposeB: true, m: t, n: t, k: d, q, lda: 3 * width, k, ldb: 3 * width, scores, ldc: t)
                Attention.softmaxRows(scores, rows: t, scale: scale, logSumExp: sums + task * t)
                GEMM.sgemm(m: t, n: d, k: t, scores, lda: t, v, ldb: 3 * width, out + sample * t * width + head * d, ldc: width)
            }
        }
        let (x0, y0) = (detached(), y.detached())
        return y.recorded(from: [self]) { g in
            let dx = Tensor(uninitializedShape: x0.shape)
            nonisolated(unsafe) let (qkv, out, grad, dqkv, sums) = (x0.storage.pointer, y0.storage.pointer, g.storage.pointer, dx.storage.pointer, lse.storage.pointer)
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
                    for i in 0..<t {
                        let row = p + i * t, offset = rowSums[i]
                        for j in 0..<t { row[j] = Foundation.exp(row[j] * scale - offset) }
                    }
                    // dV = Pᵀ·dO; dP = dO·Vᵀ
                    GEMM.sgemm(transposeA: true, m: t, n: d, k: t, p, lda: t, dO, ldb: width, dv, ldc: 3 * width)
                    GEMM.sgemm(transposeB: true, m: t, n: t, k: d, dO, lda: width, v, ldb: 3 * width, dp, ldc: t)
                    // dS = P ∘ (dP − rowsum(dO ∘ O)) · scale (the softmax's pullback, then the scale's)
                    for i in 0..<t {
                        var dot: Float = 0
                        for c in 0..<d { dot += dO[i * width + c] * o[i * width + c] }
                        let (row, drow) = (p + i * t, dp + i * t)
                        for j in 0..<t { drow[j] = row[j] * (drow[j] - dot) * scale }
                    }
                    // dQ = dS·K; dK = dSᵀ·Q
                    GEMM.sgemm(m: t, n: d, k: t, dp, lda: t, k, ldb: 3 * width, dq, ldc: 3 * width)
                    GEMM.sgemm(transposeA: true, m: t, n: d, k: t, dp, lda: t, q, ldb: 3 * width, dk, ldc: 3 * width)
                }
            }
            return [dx]
        }
    }
}

/// The row softmax inside attention.
enum Attention {
    /// Each row of `scores` [rows, rows] becomes softmax(row · scale); `logSumExp` gets each row's
    /// log Σ e^(s·scale) (with its maximum taken out first, for range).
    static func softmaxRows(_ scores: UnsafeMutablePointer<Float>, rows: Int, scale: Float, logSumExp: UnsafeMutablePointer<Float>) {
        for i in 0..<rows {
            let row = scores + i * rows
            var largest = -Float.infinity
            for j in 0..<rows { row[j] *= scale; largest = Swift.max(largest, row[j]) }
            var total: Float = 0
            for j in 0..<rows { row[j] = Foundation.exp(row[j] - largest); total += row[j] }
            let inverse = 1 / total
            for j in 0..<rows { row[j] *= inverse }
            logSumExp[i] = largest + Foundation.log(total)
        }
    }
}
