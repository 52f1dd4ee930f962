import Foundation
import GraftData
import GraftNN
import GraftTensor

/// Figures of a model on a labelled split.
public struct EvaluationResult: Sendable {
    public let loss: Float
    public let accuracy: Float
    /// Top-k accuracy, for the k asked (k ≤ classes).
    public let topK: (k: Int, accuracy: Float)?
    /// confusion[true][predicted] counts.
    public let confusion: [[Int]]
    public let classNames: [String]
    public let count: Int
    /// The standard error of `loss` as a mean over the samples (their losses' spread / √count): how
    /// far another run whose rounding differs may land (replays on other machines compare with it).
    public var lossStandardError: Double = 0
    /// Each sample's figures, in split order, when asked for (`keepSamples`).
    public var samples: [SampleOutcome] = []

    /// The mean of the recalls of the classes present in the split (scikit-learn's `balanced_accuracy_score`).
    public var balancedAccuracy: Float {
        let present = confusion.indices.filter { confusion[$0].reduce(0, +) > 0 }
        guard !present.isEmpty else { return 0 }
        let recalls = perClass
        return present.reduce(Float(0)) { $0 + recalls[$1].recall } / Float(present.count)
    }

    /// The mean F1 over the classes that occur as a label or a prediction (scikit-learn's
    /// `f1_score(average="macro")`, 0 for a class never predicted correctly).
    public var macroF1: Float {
        let occurring = confusion.indices.filter { c in confusion[c].reduce(0, +) > 0 || confusion.contains { $0[c] > 0 } }
        guard !occurring.isEmpty else { return 0 }
        let scores = perClass
        return occurring.reduce(Float(0)) { $0 + scores[$1].f1 } / Float(occurring.count)
    }

    /// Precision, recall and F1 per class (0 where undefined).
    public var perClass: [(precision: Float, recall: Float, f1: Float)] {
        confusion.indices.map { c in
            let truePositive = Float(confusion[c][c])
            let predicted = Float(confusion.reduce(0) { $0 + $1[c] }), actual = Float(confusion[c].reduce(0, +))
            let precision = predicted > 0 ? truePositive / predicted : 0, recall = actual > 0 ? truePositive / actual : 0
            return (precision, recall, precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0)
        }
    }
}

/// One sample's outcome: its cross-entropy loss, the predicted class and the probabilities the
/// model gave it and the true class.
public struct SampleOutcome: Sendable, Equatable {
    public let index: Int
    public let label: Int
    public let predicted: Int
    public let loss: Float
    public let predictedProbability: Float
    public let trueProbability: Float
}

/// A prediction: the top classes with their probabilities.
public struct Prediction: Sendable {
    public let top: [(index: Int, name: String, probability: Float)]
}

public enum Evaluation {
    /// Loss, accuracy, top-k and the confusion matrix of `model` on `samples` (inference mode).
    public static func evaluate(_ model: Model, _ samples: Samples, normalization: Normalization, classNames: [String],
                                batchSize: Int = 128, topK: Int? = nil, keepSamples: Bool = false, log: TrainingLog? = nil,
                                shouldStop: @escaping () -> Bool = { false }) throws(ModelError) -> EvaluationResult {
        let start = Date()
        var done = 0
        let outputs = model.outputShape.last ?? 0
        guard samples.count > 0 else { throw .invalidArgument(what: "eval", reason: "the split has no samples") }
        if let topK, !(1...outputs).contains(topK) { throw .invalidArgument(what: "top", reason: "must be 1–\(outputs), got \(topK)") }
        // The matrix is the dataset's classes square: a head of 100,000 outputs evaluated on 10
        // classes once allocated 100,000² counts. Predictions outside them count in no column.
        let classes = classNames.isEmpty ? outputs : classNames.count
        guard classes <= 4096 else { throw .invalidArgument(what: "eval", reason: "\(classes) classes are more than the 4,096 a confusion matrix is kept for") }
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var lossSum = 0.0, correct = 0, correctTopK = 0
        var sampleLossSum = 0.0, sampleLossSquares = 0.0
        var outcomes: [SampleOutcome] = []
        var batches: Batches
        do { batches = try Batches(samples, batchSize: batchSize, normalization: normalization) } catch { throw .data(error) }
        while let batch = batches.next() {
            let logits: Tensor
            do { logits = try model.predictLogits(batch.inputs, shouldStop: shouldStop) } catch ModelError.interrupted {
                throw .interrupted(what: "evaluating", done: done, total: samples.count)
            }
            do { lossSum += Double(try logits.crossEntropy(labels: batch.labels).item()) * Double(batch.labels.count) } catch {
                throw .tensor(layer: "eval", error: error)
            }
            correct += Self.correct(logits, batch.labels, topK: 1)
            if let topK { correctTopK += Self.correct(logits, batch.labels, topK: topK) }
            let predicted = (try? logits.argmax(axis: 1).scalars.map { Int($0) }) ?? []
            for (label, guess) in zip(batch.labels, predicted) where label < classes && guess < classes { confusion[label][guess] += 1 }
            let batchOutcomes = Self.outcomes(logits, batch.labels, indices: batch.indices)
            for outcome in batchOutcomes { sampleLossSum += Double(outcome.loss); sampleLossSquares += Double(outcome.loss) * Double(outcome.loss) }
            if keepSamples { outcomes += batchOutcomes }
            done += batch.labels.count
            let elapsed = Date().timeIntervalSince(start)
            log?.record(.progress(task: "evaluating", done: done, total: samples.count, secondsLeft: elapsed / Double(done) * Double(samples.count - done)))
            if shouldStop() { throw .interrupted(what: "evaluating", done: done, total: samples.count) }
        }
        let n = Float(samples.count)
        let names = classNames.count == classes ? classNames : (0..<classes).map(String.init)
        var result = EvaluationResult(loss: Float(lossSum / Double(samples.count)), accuracy: Float(correct) / n,
                                      topK: topK.map { ($0, Float(correctTopK) / n) }, confusion: confusion, classNames: names, count: samples.count)
        result.samples = outcomes
        result.lossStandardError = Self.standardError(sum: sampleLossSum, squares: sampleLossSquares, count: samples.count)
        return result
    }

    /// The standard error of a mean of `count` values from their sum and sum of squares.
    public static func standardError(sum: Double, squares: Double, count: Int) -> Double {
        guard count > 1 else { return 0 }
        let n = Double(count), mean = sum / n
        return (Swift.max(0, squares / n - mean * mean) * n / (n - 1)).squareRoot() / n.squareRoot()
    }

    /// Per-row cross-entropy (log-sum-exp, in Double), the argmax (ties to the lower index) and the
    /// softmax probabilities of the predicted and the true class.
    static func outcomes(_ logits: Tensor, _ labels: [Int], indices: [Int]) -> [SampleOutcome] {
        guard logits.rank == 2 else { return [] }
        let classes = logits.shape[1]
        return logits.withUnsafeBufferPointer { values in
            labels.enumerated().compactMap { row, label -> SampleOutcome? in
                guard label < classes, classes > 0 else { return nil }
                let logitsRow = values[(row * classes)..<((row + 1) * classes)]
                var best = row * classes
                for i in logitsRow.indices where logitsRow[i] > logitsRow[best] { best = i }
                let top = Double(logitsRow[best])
                let sum = logitsRow.reduce(0.0) { $0 + Foundation.exp(Double($1) - top) }
                let logSum = top + Foundation.log(sum)
                let trueLogit = Double(values[row * classes + label])
                return SampleOutcome(index: row < indices.count ? indices[row] : row, label: label, predicted: best - row * classes,
                                     loss: Float(logSum - trueLogit), predictedProbability: Float(1 / sum),
                                     trueProbability: Float(Foundation.exp(trueLogit - logSum)))
            }
        }
    }

    /// How many rows have their label among the `topK` largest logits (ties broken by lower index).
    public static func correct(_ logits: Tensor, _ labels: [Int], topK: Int) -> Int {
        guard logits.rank == 2 else { return 0 }
        let classes = logits.shape[1]
        return logits.withUnsafeBufferPointer { values in
            var hits = 0
            for (row, label) in labels.enumerated() where label < classes {
                let target = values[row * classes + label]
                var better = 0
                for c in 0..<classes where values[row * classes + c] > target || (values[row * classes + c] == target && c < label) { better += 1 }
                if better < topK { hits += 1 }
            }
            return hits
        }
    }

    /// Class probabilities for a batch: the model's output if it already ends in a softmax, else softmax(logits).
    public static func probabilities(_ model: Model, _ inputs: Tensor) throws(ModelError) -> Tensor {
        let output = try model.predict(inputs)
        if model.endsInSoftmax { return output }
        do { return try output.softmax(axis: 1) } catch { throw .tensor(layer: "softmax", error: error) }
    }

    /// The `k` most probable classes of each row.
    public static func top(_ probabilities: Tensor, k: Int, classNames: [String]) -> [Prediction] {
        guard probabilities.rank == 2 else { return [] }
        let classes = probabilities.shape[1]
        let scalars = probabilities.scalars
        return (0..<probabilities.shape[0]).map { row in
            let values = Array(scalars[(row * classes)..<((row + 1) * classes)])
            let order = values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
            return Prediction(top: order.prefix(Swift.max(1, k)).map { ($0, $0 < classNames.count ? classNames[$0] : String($0), values[$0]) })
        }
    }
}
