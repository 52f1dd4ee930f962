extension Tensor {
    /// A dense layer's map y = x·Wᵀ + b for x [..., in], weight [out, in] (PyTorch's layout) and
    /// bias [out]: one GEMM with the weight read transposed, no copy.
    public func linear(_ weight: Tensor, bias: Tensor? = nil) throws(TensorError) -> Tensor {
        let (rows, inFeatures, outFeatures) = try linearShapes(weight, bias: bias, op: "linear")
        let outShape = Array(shape.dropLast()) + [outFeatures]
        let y = Tensor(uninitializedShape: outShape)
        GEMM.linear(storage.pointer, weight.storage.pointer, bias?.storage.pointer, y.storage.pointer,
                    rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
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

    /// Inference only: `linear(…)` with `epilogue` applied to every output as the product finishes
    /// it — a clamp (a fused ReLU or ReLU6) or an activation (a transformer MLP's GELU), per output
    /// feature — the same bits as running the activation after `linear`, without a pass over memory
    /// of its own. It has no derivative: it throws when an input would need a gradient.
    public func linearInference(_ weight: Tensor, bias: Tensor? = nil, epilogue: ConvEpilogue) throws(TensorError) -> Tensor {
        guard !Tensor.wouldRecord([self, weight] + (bias.map { [$0] } ?? [])) else {
            throw .invalidArgument(op: "linearInference", reason: "an input requires a gradient; use linear")
        }
        let (rows, inFeatures, outFeatures) = try linearShapes(weight, bias: bias, op: "linearInference")
        try epilogue.check(channels: outFeatures, weight: weight.shape, op: "linearInference")
        let y = Tensor(uninitializedShape: Array(shape.dropLast()) + [outFeatures])
        GEMM.linear(storage.pointer, weight.storage.pointer, bias?.storage.pointer, y.storage.pointer,
                    rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, epilogue: epilogue)
        return y
    }

    /// Checks a linear map's operands: rows, input and output features.
    private func linearShapes(_ weight: Tensor, bias: Tensor?, op: String) throws(TensorError) -> (rows: Int, inFeatures: Int, outFeatures: Int) {
        guard rank >= 1, weight.rank == 2 else {
            throw .shapeMismatch(op: op, shapes: [shape, weight.shape], reason: "weight must be [out, in]")
        }
        let (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1])
        guard shape[rank - 1] == inFeatures else {
            throw .shapeMismatch(op: op, shapes: [shape, weight.shape], reason: "input has \(shape[rank - 1]) features, weight expects \(inFeatures)")
        }
        if let bias, bias.shape != [outFeatures] {
            throw .shapeMismatch(op: op, shapes: [weight.shape, bias.shape], reason: "bias must be [\(outFeatures)]")
        }
        return (count / Swift.max(inFeatures, 1), inFeatures, outFeatures)
    }
}
