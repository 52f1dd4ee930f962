extension Tensor {
    /// Matrix product over the last two axes, [..., m, k] × [..., k, n] → [..., m, n], with the
    /// leading (batch) axes broadcast. One GEMM call when the right side is a plain matrix.
    public func matmul(_ other: Tensor) throws(TensorError) -> Tensor {
        guard rank >= 2, other.rank >= 2 else {
            throw .shapeMismatch(op: "matmul", shapes: [shape, other.shape], reason: "both operands need at least 2 dimensions")
        }
        let (m, k) = (shape[rank - 2], shape[rank - 1])
        let (k2, n) = (other.shape[other.rank - 2], other.shape[other.rank - 1])
        guard k == k2 else {
            throw .shapeMismatch(op: "matmul", shapes: [shape, other.shape], reason: "inner dimensions \(k) ≠ \(k2)")
        }
        let batch = try Tensor.broadcastShape(Array(shape.dropLast(2)), Array(other.shape.dropLast(2)), op: "matmul")
        _ = try checkedCount(batch + [m, n], op: "matmul")
        let y = Tensor(uninitializedShape: batch + [m, n])
        Tensor.batchedGEMM(self, other, into: y, m: m, n: n, k: k)
        let (a0, b0, needA, needB) = (detached(), other.detached(), requiresGrad, other.requiresGrad)
        // d(AB)/dA = G·Bᵀ, d(AB)/dB = Aᵀ·G (batched; backward() sums broadcast batches)
        return y.recorded(from: [self, other]) { g throws(TensorError) in
            [needA ? try g.matmul(b0.transposed()) : nil,
             needB ? try a0.transposed().matmul(g) : nil]
        }
    }

    /// y = a·b over broadcast batches; y is [batch..., m, n] and fully written.
    static func batchedGEMM(_ a: Tensor, _ b: Tensor, into y: Tensor, m: Int, n: Int, k: Int) {
        let pa = a.storage.pointer, pb = b.storage.pointer, py = y.storage.pointer
        if b.rank == 2 {
            // [..., m, k] × [k, n]: the batch folds into the rows of one GEMM.
            let rows = a.count / Swift.max(k, 1)
            GEMM.sgemm(m: k == 0 ? y.count / Swift.max(n, 1) : rows, n: n, k: k, pa, lda: Swift.max(k, 1), pb, ldb: Swift.max(n, 1),
                       py, ldc: Swift.max(n, 1))
            return
        }
        let batchShape = Array(y.shape.dropLast(2))
        let batches = batchShape.reduce(1, *)
        let stridesA = broadcastStrides(Array(a.shape.dropLast(2)), to: batchShape)
        let stridesB = broadcastStrides(Array(b.shape.dropLast(2)), to: batchShape)
        for index in 0..<batches {
            let (offsetA, offsetB) = stridedOffsets(index, shape: batchShape, stridesA, stridesB)
            GEMM.sgemm(m: m, n: n, k: k, pa + offsetA * m * k, lda: Swift.max(k, 1), pb + offsetB * k * n, ldb: Swift.max(n, 1),
                       py + index * m * n, ldc: Swift.max(n, 1))
        }
    }
}
