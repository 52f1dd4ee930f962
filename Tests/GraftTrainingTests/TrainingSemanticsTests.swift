import Foundation
import GraftData
@testable import GraftTraining
import Testing
@testable import GraftModels
@testable import GraftNN
import GraftTensor

/// What the trainer computes must be what the reference frameworks compute (issue 9): losses on a
/// softmax model's logits, BatchNorm kept in inference mode while fine-tuning, and runs that stop
/// at a step replaying to the same weights. Fixtures: Tests/Fixtures/nn/training.json, made by
/// make_training_fixtures.py beside it (PyTorch 2.15).
@Suite("Training semantics", .serialized)
struct TrainingSemanticsTests {
    nonisolated(unsafe) static let fixture = Fixture.json("nn/training.json")  // read-only JSON

    static func floats(_ value: Any?) -> [Float] { Fixture.floats(value) }

    /// Samples from the fixture's x (rows of `shape`) and y.
    static func dataset(_ case_: [String: Any], shape: [Int]) throws -> Dataset {
        let labels = (case_["y"] as? [Int]) ?? []
        let samples = Samples(sampleShape: shape, labels: labels, floats: floats(case_["x"]))
        return Dataset(name: "fixture", classNames: ["a", "b", "c"].prefix(Set(labels).count).map { $0 }, train: samples, test: samples)
    }

    static func load(_ model: Model, _ tensors: [String: Any], map: [String: String]) throws {
        for (key, parameter) in model.parameters {
            let source = try #require(map[key], "no fixture name for \(key)")
            try parameter.assign(Tensor(shape: parameter.shape, scalars: floats(tensors[source])), name: key)
        }
        for (key, tensor) in model.buffers {
            let values = floats(tensors[try #require(map[key])])
            tensor.withUnsafeMutableBufferPointer { buffer in for i in buffer.indices { buffer[i] = values[i] } }
        }
    }

    static func expectClose(_ got: [Float], _ want: [Float], _ what: String, tolerance: Float = 1e-5) {
        #expect(got.count == want.count, "\(what): \(got.count) values, PyTorch \(want.count)")
        let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= tolerance, "\(what): max |Δ| \(worst)")
    }

    func mlp(softmax: Bool) throws -> Model {
        let g = Generator(seed: 1)
        var b = try GraphBuilder(inputShape: [4])
        try b.add("fc1", try Dense(4, 16, generator: g))
        try b.add("relu", Activation(.relu))
        try b.add("fc2", try Dense(16, 3, generator: g))
        if softmax { try b.add("softmax", Activation(.softmax)) }
        return b.build(name: softmax ? "with-softmax" : "logits", architecture: "test", classNames: ["a", "b", "c"])
    }

    func sgdStep(lr: Float) -> TrainingOptions {
        var o = TrainingOptions()
        o.epochs = 1
        o.batchSize = 8
        o.learningRate = lr
        o.cache = .off
        return o
    }

    @Test func aModelEndingInSoftmaxTrainsAndEvaluatesOnItsLogits() throws {
        let case_ = try #require(Self.fixture["softmax"] as? [String: Any])
        let before = try #require(case_["before"] as? [String: Any]), after = try #require(case_["after"] as? [String: Any])
        let map = ["fc1.weight": "0.weight", "fc1.bias": "0.bias", "fc2.weight": "2.weight", "fc2.bias": "2.bias"]
        let data = try Self.dataset(case_, shape: [4])
        var digests: [String] = []
        for softmax in [true, false] {
            let model = try mlp(softmax: softmax)
            try Self.load(model, before, map: map)
            #expect(model.endsInSoftmax == softmax)
            let result = try Trainer(model: model).fit(data, options: sgdStep(lr: 0.1), generator: Generator(seed: 3), log: RecordingTrainingLog())
            // One batch holding every sample: the epoch's loss is the step's loss.
            let loss = try #require(result.epochs.first?.loss)
            #expect(abs(loss - Float(case_["loss"] as? Double ?? 0)) < 1e-5, "loss \(loss), PyTorch \(case_["loss"] ?? "")")
            for (key, parameter) in model.parameters {
                Self.expectClose(parameter.value.scalars, Self.floats(after[map[key] ?? ""]), "\(key) after one step (softmax \(softmax))")
            }
            // Evaluation: the cross-entropy of the model's own probabilities, not of a second softmax.
            let evaluation = try Evaluation.evaluate(model, data.train, normalization: .unit, classNames: data.classNames)
            #expect(abs(evaluation.loss - Float(case_["loss_after"] as? Double ?? 0)) < 1e-5, "eval loss \(evaluation.loss)")
            // predict still prints probabilities.
            let probabilities = try Evaluation.probabilities(model, try Tensor(shape: [8, 4], scalars: Self.floats(case_["x"])))
            Self.expectClose(probabilities.scalars, Self.floats(case_["probabilities_after"]), "probabilities")
            digests.append(Digest.of(model))
        }
        #expect(digests[0] == digests[1], "the same weights with and without the final softmax")
    }

    @Test func fineTuningKeepsPretrainedBatchNormInInferenceMode() throws {
        let case_ = try #require(Self.fixture["bn_finetune"] as? [String: Any])
        let before = try #require(case_["before"] as? [String: Any]), after = try #require(case_["after"] as? [String: Any])
        let g = Generator(seed: 2)
        var b = try GraphBuilder(inputShape: [2, 5, 5])
        try b.add("conv", try Conv2d(2, 3, kernel: (3, 3), padding: .explicit(Padding2D(top: 1, bottom: 1, left: 1, right: 1)), generator: g))
        try b.add("bn", try BatchNorm(3))
        try b.add("relu", Activation(.relu))
        try b.add("pool", GlobalPool2d(.average))
        try b.add("fc", try Dense(3, 2, generator: g))
        let model = b.build(name: "bn", architecture: "test", classNames: ["a", "b"])
        try Self.load(model, before, map: ["conv.weight": "0.weight", "conv.bias": "0.bias", "bn.weight": "1.weight", "bn.bias": "1.bias",
                                           "bn.running_mean": "1.running_mean", "bn.running_var": "1.running_var",
                                           "fc.weight": "5.weight", "fc.bias": "5.bias"])
        // As a pretrained file's BatchNorm: frozen, then unfrozen for fine-tuning.
        try model.setTrainable(false, ["all"])
        let change = try model.setTrainable(true, ["all"])
        #expect(change.keptStatistics == ["bn"] && change.trainingStatistics.isEmpty)
        #expect(model.nodes[2].layer.mode(training: true) == "infer" && model.nodes[2].layer.trainableState == "yes")
        let data = try Self.dataset(case_, shape: [2, 5, 5])
        var o = sgdStep(lr: 0.05)
        o.epochs = 2
        o.batchSize = 4
        o.optimizer = .sgd(momentum: 0.9, nesterov: false)
        let result = try Trainer(model: model).fit(data, options: o, generator: Generator(seed: 3), log: RecordingTrainingLog())
        let losses = (case_["losses"] as? [Double] ?? []).map(Float.init)
        Self.expectClose(result.epochs.map(\.loss), losses, "losses of the two steps")
        let map = ["conv.weight": "0.weight", "conv.bias": "0.bias", "bn.weight": "1.weight", "bn.bias": "1.bias", "fc.weight": "5.weight", "fc.bias": "5.bias"]
        for (key, parameter) in model.parameters { Self.expectClose(parameter.value.scalars, Self.floats(after[map[key] ?? ""]), key) }
        for (key, tensor) in model.buffers {
            Self.expectClose(tensor.scalars, Self.floats(before[key.replacingOccurrences(of: "bn.", with: "1.")]), "\(key) unchanged", tolerance: 0)
        }
        // bn=train opts out: batch statistics again.
        let optOut = try model.setTrainable(true, ["bn"], batchNormTrains: true)
        #expect(optOut.trainingStatistics == ["bn"] && model.nodes[2].layer.mode(training: true) == "train")
    }

    @Test func emptySplitsAreErrorsNamingTheCounts() throws {
        let samples = Samples(sampleShape: [2], labels: [0, 1, 2, 3], floats: [Float](repeating: 0.5, count: 8))
        let data = Dataset(name: "four", classNames: ["a", "b", "c", "d"], train: samples)
        let four = try { () throws -> Model in
            var b = try GraphBuilder(inputShape: [2])
            try b.add("fc", try Dense(2, 4, generator: Generator(seed: 1)))
            return b.build(name: "m", architecture: "test")
        }()
        var o = sgdStep(lr: 0.1)
        o.validationFraction = 0.5
        #expect(Fixture.message { try Trainer(model: four).fit(data, options: o, generator: Generator(seed: 1), log: RecordingTrainingLog()) }
                == "train: dataset four has no training samples left (train 0, val 4); hold out a smaller val= or add samples")
        let emptyValidation = Dataset(name: "four", classNames: data.classNames, train: samples,
                                      validation: Samples(sampleShape: [2], labels: [], floats: []))
        #expect(Fixture.message { try Trainer(model: four).fit(emptyValidation, options: sgdStep(lr: 0.1), generator: Generator(seed: 1), log: RecordingTrainingLog()) }
                == "train: dataset four has an empty validation split (train 4, val 0); use a larger val= or more samples")
    }

    @Test func aLastBatchOfOneIsDroppedWhenBatchNormTrains() throws {
        let data = try MNIST.load(digits: [0, 1, 2], perClass: 12, generator: Generator(seed: 1), path: TrainerTests.mnistPath)
        let g = Generator(seed: 4)
        var b = try GraphBuilder(inputShape: [1, 28, 28])
        try b.add("flatten", Flatten())
        try b.add("fc1", try Dense(784, 8, generator: g))
        try b.add("bn", try BatchNorm(8, kind: "BatchNorm1d"))
        try b.add("fc2", try Dense(8, 3, generator: g))
        let model = b.build(name: "bn1d", architecture: "test")
        var o = sgdStep(lr: 0.05)
        o.batchSize = 35  // 36 samples: the last batch would hold one
        o.epochs = 2
        let log = RecordingTrainingLog()
        let result = try Trainer(model: model).fit(data, options: o, generator: g, log: log)
        #expect(result.droppedSingleSample && result.steps == 2)
        #expect(log.messages.filter { $0.hasPrefix("dropping the last batch") }.count == 1, "said once: \(log.messages)")
    }

    @Test func aRunStoppedAtAStepReplaysToTheSameWeights() throws {
        let data = try MNIST.load(digits: [0, 1, 2], perClass: 20, generator: Generator(seed: 1), path: TrainerTests.mnistPath)
        var o = TrainingOptions()
        o.epochs = 3
        o.batchSize = 16
        o.schedule = .cosine
        func fresh() throws -> (Model, Generator) {
            let g = Generator(seed: 7)
            return (try Architecture.mnistCNN.build(classes: 3, generator: g), g)
        }
        let (interrupted, g1) = try fresh()
        // Ctrl-C inside the seventh batch's backward pass: the batch is undone, the run stands at step 6.
        let log = RecordingTrainingLog()
        var polls = 0
        let first = try Trainer(model: interrupted).fit(data, options: o, generator: g1, log: log) {
            if log.batches >= 6 { polls += 1 }
            return polls == 15
        }
        #expect(first.stoppedAtStep == 6)
        let (replayed, g2) = try fresh()
        var limited = o
        limited.stepLimit = 6
        let second = try Trainer(model: replayed).fit(data, options: limited, generator: g2, log: RecordingTrainingLog())
        #expect(second.stoppedAtStep == 6 && second.epochs.count == first.epochs.count)
        #expect(Digest.of(replayed) == Digest.of(interrupted))
        #expect(g1.next() == g2.next(), "the generator stands at the same place")
    }

    @Test func backboneRatesNeedAHeadAndReportWhatMoved() throws {
        let data = try MNIST.load(digits: [0, 1, 2], perClass: 10, generator: Generator(seed: 1), path: TrainerTests.mnistPath)
        let g = Generator(seed: 3)
        let model = try Architecture.mnistCNN.build(classes: 3, generator: g)
        var o = sgdStep(lr: 0.05)
        o.backboneLearningRate = 0
        #expect(Fixture.message { try Trainer(model: model).fit(data, options: o, generator: g, log: RecordingTrainingLog()) }
                == "backbone-lr: mnist-cnn has no head, so there is no backbone to give a lower rate (graft one with 'head classes=N': the backbone is every layer outside it)")
        try model.replaceHead(classes: 3, generator: g)
        let backbone = model.parameters.filter { !$0.key.hasPrefix("head.") }.map { Digest.of($0.parameter.value) }
        let log = RecordingTrainingLog()
        let result = try Trainer(model: model).fit(data, options: o, generator: g, log: log)
        #expect(model.parameters.filter { !$0.key.hasPrefix("head.") }.map { Digest.of($0.parameter.value) } == backbone)
        #expect(log.messages.contains("moved: head 2 of 2 tensors (lr 0.05), backbone 0 of 4 (backbone-lr 0)"), "\(log.messages)")
        #expect(log.messages.last == "frozen: none (every parameter trainable)")
        #expect(result.epochs.first?.backboneLearningRate == 0)
        #expect(ConsoleTrainingLog.line(try #require(result.epochs.first), epochs: 1).hasSuffix("lr 0.05 (backbone 0)"))
    }

    @Test func aNaNInTheInputIsNamed() throws {
        var values = [Float](repeating: 0.5, count: 8)
        values[5] = .nan
        let samples = Samples(sampleShape: [2], labels: [0, 1, 0, 1], floats: values)
        let data = Dataset(name: "nan", classNames: ["a", "b"], train: samples)
        var b = try GraphBuilder(inputShape: [2])
        try b.add("fc", try Dense(2, 2, generator: Generator(seed: 1)))
        let model = b.build(name: "m", architecture: "test")
        var o = sgdStep(lr: 0.1)
        o.batchSize = 4
        let result = try Trainer(model: model).fit(data, options: o, generator: Generator(seed: 1), log: RecordingTrainingLog())
        #expect(result.stoppedEarly?.hasSuffix("(the input holds NaN at sample 2, index [1])") == true, "\(result.stoppedEarly ?? "")")
    }
}
