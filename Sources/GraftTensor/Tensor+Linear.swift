extension Tensor {
    /// A dense layer's map y = x·Wᵀ + b for x [..., in], weight [out, in] (PyTorch's layout) and
    /// bias [out]: one GEMM with the weight read transposed, no copy.
    public func linear(_ weight: Tensor, bias: Tensor? = nil) throws(TensorError) -> Tensor {
        guard rank >= 1, weight.rank == 2 else {
            throw .shapeMismatch(op: "linear", shapes: [shape, weight.shape], reason: "weight must be [out, in]")
        }
        let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
        guard shape[rank - 1] == inFeatures else {
            throw .shapeMismatch(op: "linear", shapes: [shape, weight.shape], reason: "input has \(shape[rank - 1]) features, weight expects \(inFeatures)")
        }
        if let bias, bias.shape != [outFeatures] {
            throw .shapeMismatch(op: "linear", shapes: [weight.shape, bias.shape], reason: "bias must be [\(outFeatures)]")
        }
        let rows = count / Swift.max(inFeatures, 1)
        let outShape = Array(shape.dropLast()) + [outFeatures]
        let y = Tensor(uninitializedShape: outShape)
        GEMM.sgemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures, storage.pointer, lda: Swift.max(inFeatures, 1),
                   weight.storage.pointer, ldb: Swift.max(inFeatures, 1), y.storage.pointer, ldc: Swift.max(outFeatures, 1))
        if let bias {
            let (out, b) = (y.storage.pointer, bias.storage.pointer)
            for r in 0..<rows { for o in 0..<outFeatures { out[r * outFeatures + o] += b[o] } }
        }
        let (x0, w0, inputShape) = (detached(), weight.detached(), shape)
        let (needX, needW, needB) = (requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
        // dX = G·W, dW = Gᵀ·X, db = Σ_rows G
        return y.recorded(from: [self, weight] + (bias.map { [$0] } ?? [])) { g throws(TensorError) in
            var dx: Tensor? = nil, dw: Tensor? = nil
            if needX {
                let t = Tensor(uninitializedShape: inputShape)
                GEMM.sgemm(m: rows, n: inFeatures, k: outFeatures, g.storage.pointer, lda: Swift.max(outFeatures, 1),
                           w0.storage.pointer, ldb: Swift.max(inFeatures, 1), t.storage.pointer, ldc: Swift.max(inFeatures, 1))
                dx = t
            }
            if needW {
                let t = Tensor(uninitializedShape: [outFeatures, inFeatures])
                GEMM.sgemm(transposeA: true, m: outFeatures, n: inFeatures, k: rows, g.storage.pointer, lda: Swift.max(outFeatures, 1),
                           x0.storage.pointer, ldb: Swift.max(inFeatures, 1), t.storage.pointer, ldc: Swift.max(inFeatures, 1))
                dw = t
            }
            let db = needB ? try g.reshaped([rows, outFeatures]).sum(axes: [0]) : nil
            return [dx, dw, db]
        }
    }
}
