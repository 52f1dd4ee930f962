import Foundation

extension Tensor {
    /// Mean softmax cross-entropy of logits [N, C] against class indices, fused with log-softmax.
    ///
    /// With label smoothing ε the target is (1 − ε)·onehot + ε/C, as in PyTorch. With `classWeights`
    /// w (one per class, as `CrossEntropyLoss(weight=)`): each row's terms are weighted by the class
    /// they belong to and the mean divides by Σ w[label] over the batch (PyTorch's `mean` reduction):
    ///     loss = Σᵢ [(1 − ε)·w[yᵢ]·(−log pᵢ,yᵢ) + ε/C·Σ_c w[c]·(−log pᵢ,c)] / Σᵢ w[yᵢ]
    public func crossEntropy(labels: [Int], labelSmoothing: Float = 0, classWeights: [Float]? = nil) throws(TensorError) -> Tensor {
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
        if let classWeights {
            guard classWeights.count == classes else {
                throw .shapeMismatch(op: "crossEntropy", shapes: [shape, [classWeights.count]], reason: "\(classes) classes, \(classWeights.count) class weights")
            }
            guard classWeights.allSatisfy({ $0 >= 0 && $0.isFinite }), labels.contains(where: { classWeights[$0] > 0 }) else {
                throw .invalidArgument(op: "crossEntropy", reason: "class weights must be finite and ≥ 0, and the batch's labels must not all weigh 0")
            }
            return Self.weightedCrossEntropy(of: self, logProbabilities, labels: labels, smoothing: labelSmoothing, weights: classWeights)
        }
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

    /// The weighted form of ``crossEntropy(labels:labelSmoothing:classWeights:)`` from log-probabilities.
    private static func weightedCrossEntropy(of logits: Tensor, _ logProbabilities: Tensor, labels: [Int], smoothing: Float, weights: [Float]) -> Tensor {
        let (batch, classes) = (logProbabilities.shape[0], logProbabilities.shape[1])
        let lp = logProbabilities.storage.pointer
        let spread = Double(smoothing) / Double(classes)
        var total = 0.0, weightSum = 0.0
        for row in 0..<batch {
            let label = labels[row]
            weightSum += Double(weights[label])
            total -= (1 - Double(smoothing)) * Double(weights[label]) * Double(lp[row * classes + label])
            if smoothing > 0 {
                var rowSum = 0.0
                for c in 0..<classes { rowSum += Double(weights[c]) * Double(lp[row * classes + c]) }
                total -= spread * rowSum
            }
        }
        let loss = Tensor(Float(total / weightSum))
        // With aᵢ,c = (1 − ε)·w[yᵢ]·[c = yᵢ] + ε/C·w[c] and Aᵢ = Σ_c aᵢ,c:
        // d loss/d logitsᵢ,j = (pᵢ,j·Aᵢ − aᵢ,j) / Σᵢ w[yᵢ]
        return loss.recorded(from: [logits]) { g in
            let scale = Double(g.storage.pointer[0]) / weightSum
            let dx = Tensor(uninitializedShape: logProbabilities.shape)
            let dp = dx.storage.pointer
            let weightTotal = weights.reduce(0.0) { $0 + Double($1) }
            for row in 0..<batch {
                let label = labels[row]
                let rowTotal = (1 - Double(smoothing)) * Double(weights[label]) + spread * weightTotal
                for c in 0..<classes {
                    let a = (c == label ? (1 - Double(smoothing)) * Double(weights[label]) : 0) + spread * Double(weights[c])
                    dp[row * classes + c] = Float((Foundation.exp(Double(lp[row * classes + c])) * rowTotal - a) * scale)
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
