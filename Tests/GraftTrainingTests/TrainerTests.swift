import Foundation
import GraftData
@testable import GraftTraining
import Testing
@testable import GraftModels
@testable import GraftNN
import GraftTensor

/// Training runs change thread-sensitive global state (OpenBLAS settings), so these run one at a time.
@Suite("Trainer", .serialized)
struct TrainerTests {
    static let mnistPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Examples/mnist/mnist_5k.csv.gz").standardized.path

    func smallMNIST(_ digits: [Int] = [0, 1, 2, 3, 4], perClass: Int = 40, seed: UInt64 = 1) throws -> Dataset {
        try MNIST.load(digits: digits, perClass: perClass, generator: Generator(seed: seed), path: Self.mnistPath)
    }

    func options(epochs: Int = 2, cache: CacheMode = .auto) -> TrainingOptions {
        var o = TrainingOptions()
        o.epochs = epochs
        o.batchSize = 32
        o.learningRate = 0.02
        o.cache = cache
        return o
    }

    /// The transfer set-up: convolutions frozen, a new head.
    func transferModel(seed: UInt64) throws -> (Model, Generator) {
        let generator = Generator(seed: seed)
        let model = try Architecture.mnistCNN.build(classes: 5, generator: generator)
        try model.setTrainable(false, ["conv1", "conv2"])
        try model.replaceHead(classes: 5, hidden: [16], dropout: 0.2, generator: generator)
        return (model, generator)
    }

    @Test func trainingLearnsAndReportsEachEpoch() throws {
        let data = try smallMNIST()
        let generator = Generator(seed: 5)
        let model = try Architecture.mnistCNN.build(classes: 5, generator: generator)
        let log = RecordingTrainingLog()
        let result = try Trainer(model: model).fit(data, options: options(epochs: 4), generator: generator, log: log)
        #expect(result.epochs.count == 4)
        #expect(result.epochs.last!.loss < result.epochs.first!.loss)
        let accuracy = try Evaluation.evaluate(model, data.test!, normalization: .unit, classNames: data.classNames).accuracy
        #expect(accuracy > 0.8, "test accuracy \(accuracy) after 4 epochs on 200 digits")
        #expect(log.messages.first == "optimizer: sgd (momentum 0.9) for 8 trainable tensors")
        #expect(log.messages.last == "frozen: none (every parameter trained)")
    }

    @Test func cachedAndUncachedTrainingGiveTheSameWeights() throws {
        let data = try smallMNIST()
        let (cachedModel, g1) = try transferModel(seed: 9)
        let (plainModel, g2) = try transferModel(seed: 9)
        #expect(Digest.of(cachedModel) == Digest.of(plainModel))
        let cachedLog = RecordingTrainingLog(), plainLog = RecordingTrainingLog()
        let cached = try Trainer(model: cachedModel).fit(data, options: options(cache: .on), generator: g1, log: cachedLog)
        let plain = try Trainer(model: plainModel).fit(data, options: options(cache: .off), generator: g2, log: plainLog)
        #expect(cached.usedCache && !plain.usedCache)
        #expect(cachedLog.messages.contains { $0.hasPrefix("caching features: 5 frozen layers run once; output of 'pool' (32×12×12 per sample) for 200 samples, 3.5 MB") }, "\(cachedLog.messages)")
        #expect(Digest.of(cachedModel) == Digest.of(plainModel), "cached training must give bit-identical weights")
        #expect(cached.epochs.map(\.loss) == plain.epochs.map(\.loss))
        #expect(cachedLog.messages.last == "frozen: 4 tensors unchanged")
    }

    @Test func sameSeedGivesIdenticalWeightsAndMetrics() throws {
        let data = try smallMNIST()
        func run() throws -> (String, [Float]) {
            let generator = Generator(seed: 21)
            let model = try Architecture.mnistCNN.build(classes: 5, generator: generator)
            var o = options(epochs: 2)
            o.validationFraction = 0.2
            let result = try Trainer(model: model).fit(data, options: o, generator: generator, log: RecordingTrainingLog())
            return (Digest.of(model), result.epochs.flatMap { [$0.loss, $0.accuracy, $0.validationLoss ?? -1] })
        }
        let (a, b) = (try run(), try run())
        #expect(a.0 == b.0 && a.1 == b.1)
    }

    @Test func frozenBatchNormKeepsItsStatisticsAndTrainableOnesMove() throws {
        let generator = Generator(seed: 2)
        let model = try Architecture.resnet18.build(classes: 5, inputShape: [1, 28, 28], generator: generator)
        let data = try smallMNIST(perClass: 8)
        try model.setTrainable(false, ["conv1..layer3"])
        let frozen = try #require(model.nodes.first { $0.name == "layer1.0.bn1" }?.layer as? BatchNorm)
        let trained = try #require(model.nodes.first { $0.name == "layer4.0.bn1" }?.layer as? BatchNorm)
        let (frozenBefore, trainedBefore) = (Digest.of(frozen.buffers[0].tensor), Digest.of(trained.buffers[0].tensor))
        #expect(frozen.mode(training: true) == "infer" && trained.mode(training: true) == "train")
        let log = RecordingTrainingLog()
        var o = options(epochs: 1)
        o.batchSize = 20
        _ = try Trainer(model: model).fit(data, options: o, generator: generator, log: log)
        #expect(Digest.of(frozen.buffers[0].tensor) == frozenBefore, "frozen BatchNorm statistics moved")
        #expect(Digest.of(trained.buffers[0].tensor) != trainedBefore, "trainable BatchNorm statistics did not move")
        // Frozen: 30 parameters (15 conv/bn layers: 9 conv weights + … ) and the statistics of 11 BatchNorms.
        #expect(log.messages.last?.hasPrefix("frozen: ") == true && log.messages.last?.hasSuffix(" tensors unchanged") == true)
        #expect(log.messages.contains { $0.hasPrefix("caching features:") }, "layer4 trains, so the frozen prefix is cached")
    }

    @Test func optimizerStateIsRebuiltWhenTheTrainableSetChanges() throws {
        let data = try smallMNIST(perClass: 8)
        let generator = Generator(seed: 3)
        let model = try Architecture.mnistCNN.build(classes: 5, generator: generator)
        let trainer = Trainer(model: model)
        let log = RecordingTrainingLog()
        _ = try trainer.fit(data, options: options(epochs: 1), generator: generator, log: log)
        _ = try trainer.fit(data, options: options(epochs: 1), generator: generator, log: log)
        #expect(log.messages.filter { $0.hasPrefix("optimizer:") } == ["optimizer: sgd (momentum 0.9) for 8 trainable tensors"], "kept while unchanged")
        try model.setTrainable(false, ["conv1", "conv2"])
        _ = try trainer.fit(data, options: options(epochs: 1), generator: generator, log: log)
        #expect(log.messages.contains("optimizer: sgd (momentum 0.9) state rebuilt for 4 trainable tensors (was 8)"))
        #expect(trainer.optimizer?.parameters.count == 4)
    }

    @Test func nanLossStopsAndRestoresTheLastGoodWeights() throws {
        let data = try smallMNIST(perClass: 8)
        let generator = Generator(seed: 4)
        let model = try Architecture.mnistCNN.build(classes: 5, generator: generator)
        let before = Digest.of(model)
        var o = options(epochs: 3)
        o.learningRate = 1e12
        let log = RecordingTrainingLog()
        let result = try Trainer(model: model).fit(data, options: o, generator: generator, log: log)
        #expect(result.stoppedEarly?.contains("restored the weights from the start of epoch 1") == true, "\(result.stoppedEarly ?? "-")")
        #expect(Digest.of(model) == before)
        #expect(model.parameters.allSatisfy { $0.parameter.value.scalars.allSatisfy(\.isFinite) })
    }

    @Test func anInterruptAtABatchsEndStopsThere() throws {
        let data = try smallMNIST()
        let generator = Generator(seed: 6)
        let model = try Architecture.mnistCNN.build(classes: 5, generator: generator)
        // Ctrl-C right after the third batch was logged: the next poll is the one at its end.
        let log = RecordingTrainingLog()
        let result = try Trainer(model: model).fit(data, options: options(epochs: 3), generator: generator, log: log) { log.batches >= 3 }
        #expect(result.stoppedEarly == "interrupted at epoch 1, batch 3/7 (step 3); the weights are those after that batch")
        #expect(result.stoppedAtStep == 3)
        #expect(result.epochs.isEmpty)
    }

    @Test func anInterruptInsideABatchUndoesIt() throws {
        let data = try smallMNIST()
        let generator = Generator(seed: 6)
        let model = try Architecture.mnistCNN.build(classes: 5, generator: generator)
        let log = RecordingTrainingLog()
        // After two batches, the fifth poll of the third: inside its forward pass.
        var polls = 0
        let result = try Trainer(model: model).fit(data, options: options(epochs: 3), generator: generator, log: log) {
            if log.batches >= 2 { polls += 1 }
            return polls == 5
        }
        #expect(result.stoppedEarly == "interrupted at epoch 1, inside batch 3/7 (step 2); the weights are those after step 2")
        #expect(result.stoppedAtStep == 2)
        #expect(model.trainableParameters.allSatisfy { $0.parameter.grad == nil || $0.parameter.grad?.scalars.allSatisfy { $0 == 0 } == true })
    }

    @Test func earlyStoppingRestoresTheBestEpoch() throws {
        let data = try smallMNIST()
        let generator = Generator(seed: 8)
        let model = try Architecture.mnistCNN.build(classes: 5, generator: generator)
        var o = options(epochs: 30)
        o.learningRate = 0.05
        o.validationFraction = 0.25
        o.patience = 2
        let log = RecordingTrainingLog()
        let result = try Trainer(model: model).fit(data, options: o, generator: generator, log: log)
        #expect(result.epochs.count < 30)
        #expect(result.stoppedEarly == "early stopping: val_loss did not improve for 2 epochs")
        let best = result.epochs.compactMap(\.validationLoss).min()!
        #expect(log.messages.contains(String(format: "restored the weights of the best epoch (val_loss %.4f)", best)))
    }

    @Test func discriminativeRatesGiveTheHeadTheFullRate() throws {
        let data = try smallMNIST(perClass: 8)
        let (model, generator) = try transferModel(seed: 10)
        try model.setTrainable(true, ["all"])
        var o = options(epochs: 1)
        o.backboneLearningRate = 0.002
        o.schedule = .cosine
        o.optimizer = .adamWDefaults
        o.weightDecay = 0.01
        o.labelSmoothing = 0.1
        o.clipNorm = 1
        let trainer = Trainer(model: model)
        _ = try trainer.fit(data, options: o, generator: generator, log: RecordingTrainingLog())
        let optimizer = try #require(trainer.optimizer)
        let head = Set(model.nodes.filter(\.isHead).flatMap { $0.layer.parameters.map { ObjectIdentifier($0.parameter) } })
        for (parameter, scale) in zip(optimizer.parameters, optimizer.rateScales) {
            #expect(abs(scale - (head.contains(ObjectIdentifier(parameter)) ? 1 : 0.1)) < 1e-6)
        }
    }

    @Test func badSettingsAndDataAreRefusedBeforeTraining() throws {
        let data = try smallMNIST(perClass: 8)
        let generator = Generator(seed: 11)
        let model = try Architecture.resnet18.build(classes: 5, generator: generator)
        let trainer = Trainer(model: model)
        #expect(Fixture.message { try trainer.fit(data, options: options(), generator: generator, log: RecordingTrainingLog()) }
                == "resnet18: dataset mnist has samples 1×28×28, the model expects 3×224×224 (load the data with size=224 and 3 channels, or build the model with input=1x28x28)")
        let small = try Architecture.mnistCNN.build(classes: 3, generator: generator)
        #expect(Fixture.message { try Trainer(model: small).fit(data, options: options(), generator: generator, log: RecordingTrainingLog()) }
                == "mnist-cnn: dataset mnist has 5 classes (0, 1, 2, 3, 4), the model outputs 3 (0, 1, 2): graft a new head for them (head classes=5), or say classes=index to train and score label i as output i")
        var bad = options()
        bad.patience = 2
        #expect(Fixture.message { try Trainer(model: small).fit(data, options: bad, generator: generator, log: RecordingTrainingLog()) }
                == "patience: early stopping needs a validation split (val=F)")
        let frozen = try Architecture.mnistCNN.build(classes: 5, generator: generator)
        try frozen.setTrainable(false, ["all"])
        #expect(Fixture.message { try Trainer(model: frozen).fit(data, options: options(), generator: generator, log: RecordingTrainingLog()) }
                == "train: no trainable parameters; unfreeze some layers first (unfreeze last=1)")
    }

    @Test func evaluationFigures() throws {
        // Two classes, hand-made logits: confusion, precision, recall, top-k.
        let logits = try Tensor(shape: [4, 3], scalars: [3, 1, 0,  0, 2, 1,  1, 3, 0,  0, 1, 2])
        #expect(Evaluation.correct(logits, [0, 1, 0, 2], topK: 1) == 3)
        #expect(Evaluation.correct(logits, [0, 1, 0, 2], topK: 2) == 4)
        let probabilities = try logits.softmax(axis: 1)
        let top = Evaluation.top(probabilities, k: 2, classNames: ["a", "b", "c"])
        #expect(top[0].top.map(\.name) == ["a", "b"])
        #expect(abs(top[0].top[0].probability - 0.8438) < 1e-3)
        let result = EvaluationResult(loss: 0, accuracy: 0.75, topK: nil, confusion: [[1, 1, 0], [0, 1, 0], [0, 0, 1]], classNames: ["a", "b", "c"], count: 4)
        let perClass = result.perClass
        #expect(perClass[0].precision == 1 && perClass[0].recall == 0.5)
        #expect(perClass[1].precision == 0.5 && perClass[1].recall == 1)
        #expect(abs(perClass[0].f1 - 2.0 / 3.0) < 1e-6)
    }
}
