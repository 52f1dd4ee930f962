import Foundation

extension Tensor {
    /// Mean softmax cross-entropy of logits [N, C] against class indices, fused with log-softmax.
    ///
    /// With label smoothing ε the target is (1 − ε)·onehot + ε/C, as in PyTorch.
    public func crossEntropy(labels: [Int], labelSmoothing: Float = 0) throws(TensorError) -> Tensor {
        guard rank == 2 else {
            throw .shapeMismatch(op: "crossEntropy", shapes: [shape], reason: "logits must be [N, classes]")
        }
        let (batch, classes) = (shape[0], shape[1])
        guard labels.count == batch, batch > 0 else {
            throw .shapeMismatch(op: "crossEntropy", shapes: [shape, [labels.count]], reason: "\(batch) rows of logits, \(labels.count) labels")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw .invalidArgument(op: "crossEntropy", reason: "label \(bad) out of range for \(classes) classes")
        }
        guard (0..<1).contains(labelSmoothing) else {
            throw .invalidArgument(op: "crossEntropy", reason: "label smoothing must be in [0, 1), got \(labelSmoothing)")
        }
        let logProbabilities = Tensor(uninitializedShape: shape)
        Softmax.forward(storage.pointer, logProbabilities.storage.pointer, outer: batch, n: classes, inner: 1, log: true)
        let lp = logProbabilities.storage.pointer
        let offTarget = labelSmoothing / Float(classes), onTarget = 1 - labelSmoothing + offTarget
        var total = 0.0
        for row in 0..<batch {
            var rowLoss = -Double(lp[row * classes + labels[row]]) * Double(onTarget - offTarget)
            if labelSmoothing > 0 {
                var rowSum = 0.0
                for c in 0..<classes { rowSum += Double(lp[row * classes + c]) }
                rowLoss -= Double(offTarget) * rowSum
            }
            total += rowLoss
        }
        let loss = Tensor(Float(total / Double(batch)))
        // d loss/d logits = (softmax − target)/N
        return loss.recorded(from: [self]) { g in
            let scale = g.storage.pointer[0] / Float(batch)
            let dx = Tensor(uninitializedShape: logProbabilities.shape)
            let dp = dx.storage.pointer
            for row in 0..<batch {
                for c in 0..<classes {
                    let target = c == labels[row] ? onTarget : offTarget
                    dp[row * classes + c] = (Foundation.exp(lp[row * classes + c]) - target) * scale
                }
            }
            return [dx]
        }
    }

    /// Mean squared error against `target` (same shape).
    public func meanSquaredError(_ target: Tensor) throws(TensorError) -> Tensor {
        guard shape == target.shape else {
            throw .shapeMismatch(op: "meanSquaredError", shapes: [shape, target.shape], reason: "prediction and target shapes differ")
        }
        return try (self - target).pow(2).mean()
    }
}
