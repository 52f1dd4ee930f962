extension Tensor {
    /// Layer normalization over `axis`: y = (x − mean) / √(variance + ε) · weight + bias, the mean
    /// and the (biased) variance taken over that axis at every position of the others; `weight` and
    /// `bias` (optional) hold one value per index of the axis.
    ///
    /// The arithmetic is that of the ops written out — `mean`, subtract, square, `mean`, add ε,
    /// `sqrt`, divide, multiply, add — element by element in the same order, each sum in
    /// ``Reduction``'s order. When a gradient is recorded it runs as those ops (their pullbacks are
    /// its backward); otherwise as one kernel with the same bits: two passes over each row instead
    /// of nine over the tensor, and no intermediate tensors (tested bit for bit).
    public func layerNorm(axis: Int, weight: Tensor?, bias: Tensor?, epsilon: Float) throws(TensorError) -> Tensor {
        let axis = try normalizeAxis(axis, rank: rank, op: "layerNorm", shape: shape)
        let n = shape[axis]
        guard n > 0 else { throw .invalidArgument(op: "layerNorm", reason: "normalizes over an empty axis of \(formatShape(shape))") }
        for (name, parameter) in [("weight", weight), ("bias", bias)] {
            if let parameter, parameter.count != n {
                throw .shapeMismatch(op: "layerNorm", shapes: [shape, parameter.shape], reason: "\(name) needs \(n) values, one per index of axis \(axis)")
            }
        }
        if Tensor.wouldRecord([self] + [weight, bias].compactMap { $0 }) {
            let mean = try self.mean(axes: [axis], keepingDims: true)
            let centered = try self - mean
            let variance = try (centered * centered).mean(axes: [axis], keepingDims: true)
            var y = try centered / (variance + epsilon).sqrt()
            let along = shape.indices.map { $0 == axis ? n : 1 }
            if let weight { y = try y * weight.reshaped(along) }
            if let bias { y = try y + bias.reshaped(along) }
            return y
        }
        let (outer, _, inner) = split(at: axis)
        let y = Tensor(uninitializedShape: shape)
        nonisolated(unsafe) let (x, out) = (storage.pointer, y.storage.pointer)
        nonisolated(unsafe) let (w, b) = (weight?.storage.pointer, bias?.storage.pointer)
        let scale = 1 / Float(n)
        withExtendedLifetime((self, weight, bias)) {
            if inner == 1 {
                // Rows along the axis: each summed as `mean` sums a contiguous run.
                Threads.parallelFor(outer, grain: Swift.max(1, Elementwise.grain / n)) { range in
                    let squares = Storage(uninitializedCount: n)
                    let q = squares.pointer
                    for o in range {
                        let row = x + o * n, target = out + o * n
                        let m = Reduction.sumContiguous(row, count: n) * scale
                        for k in 0..<n {
                            let c = row[k] - m
                            q[k] = c * c
                        }
                        let d = (Reduction.sumContiguous(q, count: n) * scale + epsilon).squareRoot()
                        for k in 0..<n {
                            var v = (row[k] - m) / d
                            if let w { v = v * w[k] }
                            if let b { v = v + b[k] }
                            target[k] = v
                        }
                    }
                    withExtendedLifetime(squares) {}
                }
            } else {
                // The axis strided by `inner` (channels of an NCHW plane): every position's sums run
                // over the axis in order from zero, as `mean` sums a middle axis.
                Threads.parallelFor(outer, grain: Swift.max(1, Elementwise.grain / (n * inner))) { range in
                    let statistics = Storage(uninitializedCount: 2 * inner)
                    let (m, d) = (statistics.pointer, statistics.pointer + inner)
                    for o in range {
                        let block = x + o * n * inner, target = out + o * n * inner
                        m.initialize(repeating: 0, count: inner)
                        d.initialize(repeating: 0, count: inner)
                        for k in 0..<n {
                            let row = block + k * inner
                            for i in 0..<inner { m[i] += row[i] }
                        }
                        for i in 0..<inner { m[i] = m[i] * scale }
                        for k in 0..<n {
                            let row = block + k * inner
                            for i in 0..<inner {
                                let c = row[i] - m[i]
                                d[i] += c * c
                            }
                        }
                        for i in 0..<inner { d[i] = (d[i] * scale + epsilon).squareRoot() }
                        for k in 0..<n {
                            let row = block + k * inner, result = target + k * inner
                            let (wk, bk) = (w?[k], b?[k])
                            for i in 0..<inner {
                                var v = (row[i] - m[i]) / d[i]
                                if let wk { v = v * wk }
                                if let bk { v = v + bk }
                                result[i] = v
                            }
                        }
                    }
                    withExtendedLifetime(statistics) {}
                }
            }
        }
        return y
    }
}
