import Foundation
import GraftFormats
import GraftNN
import GraftTensor
import GraftTraining

/// A training run's checkpoint: a graft model file (graph, weights, buffers) that also carries the
/// optimizer's state and ``TrainingProgress``, plus what the shell needs to continue the command:
/// the command itself, the session before it, the generator when it started, and a digest of the
/// data it trained on.
public struct Checkpoint {
    /// Names the run (its session and command): a folder holds the checkpoints of one run.
    public var run: String
    /// The training command as typed (without `steps=` or `resume=`), and for `fine-tune` the phase (1 or 2).
    public var command: String
    public var phase: Int
    /// The model and dataset, by their names in the session.
    public var model: String
    public var dataset: String
    /// The session's commands before this one (what rebuilds the model and the data in a fresh shell).
    public var session: [String]
    public var numerics: String
    public var graftVersion: String
    /// The session generator when the command started (before `val=` drew its split).
    public var startGenerator: Generator.State
    /// The training and validation splits' digest (labels and values), to refuse other data.
    public var dataDigest: String
    public var progress: TrainingProgress
    /// `fine-tune`: the phases finished before this one, for the recipe.
    public var completed: [TrainingPhase]

    public init(run: String, command: String, phase: Int, model: String, dataset: String, session: [String], numerics: String,
                graftVersion: String, startGenerator: Generator.State, dataDigest: String, progress: TrainingProgress, completed: [TrainingPhase] = []) {
        (self.run, self.command, self.phase, self.model, self.dataset, self.session) = (run, command, phase, model, dataset, session)
        (self.numerics, self.graftVersion, self.startGenerator, self.dataDigest, self.progress, self.completed) = (numerics, graftVersion, startGenerator, dataDigest, progress, completed)
    }

    static let metadataKey = "graft.checkpoint", prefix = "graft.checkpoint/", format = "graft-checkpoint-1"

    /// The file's JSON: floats and doubles by their bits, so every sum comes back exactly.
    struct Record: Codable {
        var epoch: Int, loss: UInt32, accuracy: UInt32, validationLoss: UInt32?, validationAccuracy: UInt32?
        var learningRate: UInt32, backboneLearningRate: UInt32?, seconds: Double, imagesPerSecond: Double
        var samples: Int, lossStandardError: UInt64, validationSamples: Int, validationLossStandardError: UInt64

        init(_ r: EpochRecord) {
            (epoch, loss, accuracy, validationLoss, validationAccuracy) = (r.epoch, r.loss.bitPattern, r.accuracy.bitPattern, r.validationLoss?.bitPattern, r.validationAccuracy?.bitPattern)
            (learningRate, backboneLearningRate, seconds, imagesPerSecond) = (r.learningRate.bitPattern, r.backboneLearningRate?.bitPattern, r.seconds, r.imagesPerSecond)
            (samples, lossStandardError, validationSamples, validationLossStandardError) = (r.samples, r.lossStandardError.bitPattern, r.validationSamples, r.validationLossStandardError.bitPattern)
        }

        var record: EpochRecord {
            var r = EpochRecord(epoch: epoch, loss: Float(bitPattern: loss), accuracy: Float(bitPattern: accuracy), validationLoss: validationLoss.map(Float.init(bitPattern:)),
                                validationAccuracy: validationAccuracy.map(Float.init(bitPattern:)), learningRate: Float(bitPattern: learningRate),
                                backboneLearningRate: backboneLearningRate.map(Float.init(bitPattern:)), seconds: seconds.isFinite ? seconds : 0,
                                imagesPerSecond: imagesPerSecond.isFinite ? imagesPerSecond : 0)
            (r.samples, r.lossStandardError) = (samples, Double(bitPattern: lossStandardError))
            (r.validationSamples, r.validationLossStandardError) = (validationSamples, Double(bitPattern: validationLossStandardError))
            return r
        }
    }

    struct Phase: Codable {
        var trainable: [String], trainMode: [String], head: [String]
        var orders: [[Int]], stepLosses: [UInt32], epochs: [Record], batchesPerEpoch: Int, classWeights: [UInt32]?
    }

    struct Contents: Codable {
        var format: String
        var run: String, command: String, phase: Int, model: String, dataset: String, session: [String]
        var numerics: String, graft: String
        var startGenerator: [UInt64], startSpare: UInt64?
        var dataDigest: String
        var epoch: Int, batch: Int, batchesPerEpoch: Int, epochs: Int, step: Int
        var order: [Int]
        /// lossSum, batchLossSum, batchLossSquares (bits); correct, seen, lossBatches, imagesSeen.
        var sums: [UInt64], counts: [Int]
        var records: [Record], orders: [[Int]], stepLosses: [UInt32]
        var bestLoss: UInt32?, bestTensors: Int, epochsWithoutImprovement: Int
        var generator: [UInt64], spare: UInt64?
        var finished: Bool
        var completed: [Phase]
    }

    func encode(into state: inout StateDict) throws(ModelError) {
        let p = progress
        let contents = Contents(
            format: Self.format, run: run, command: command, phase: phase, model: model, dataset: dataset, session: session,
            numerics: numerics, graft: graftVersion, startGenerator: startGenerator.words, startSpare: startGenerator.spareNormal?.bitPattern,
            dataDigest: dataDigest, epoch: p.epoch, batch: p.batch, batchesPerEpoch: p.batchesPerEpoch, epochs: p.epochs, step: p.step,
            order: p.order, sums: [p.sums.lossSum, p.sums.batchLossSum, p.sums.batchLossSquares].map(\.bitPattern), counts: [p.sums.correct, p.sums.seen, p.sums.lossBatches, p.imagesSeen],
            records: p.records.map(Record.init), orders: p.orders, stepLosses: p.stepLosses.map(\.bitPattern),
            bestLoss: p.bestLoss?.bitPattern, bestTensors: p.bestSnapshot.count, epochsWithoutImprovement: p.epochsWithoutImprovement,
            generator: p.generator.words, spare: p.generator.spareNormal?.bitPattern, finished: p.finished,
            completed: completed.map { Phase(trainable: $0.trainable, trainMode: $0.trainMode, head: $0.head, orders: $0.orders,
                                             stepLosses: $0.stepLosses.map(\.bitPattern), epochs: $0.epochs.map(Record.init),
                                             batchesPerEpoch: $0.batchesPerEpoch, classWeights: $0.classWeights?.map(\.bitPattern)) })
        do {
            state.metadata[Self.metadataKey] = String(decoding: try JSONEncoder().encode(contents), as: UTF8.self)
            for (index, tensor) in p.bestSnapshot.enumerated() { state.tensors.append((Self.prefix + "best/\(index)", tensor)) }
        } catch { throw .invalidArgument(what: "checkpoint", reason: "\(error)") }
    }

    /// The checkpoint a file carries (nil: none), its tensors taken out of `state`. Every count and
    /// index is checked here or where it is used (``Trainer/fit`` checks the progress against its run).
    static func decode(from state: inout StateDict, path: String) throws(ModelError) -> Checkpoint? {
        guard let (c, tensors) = try state.takeSection(Contents.self, prefix: prefix, metadataKey: metadataKey, path: path, what: "checkpoint") else { return nil }
        let bad = { (why: String) in ModelError.invalidArgument(what: "cannot load \(path)", reason: "its checkpoint is not valid: \(why)") }
        guard c.format == format else { throw bad("format '\(c.format)', this graft reads \(format)") }
        // Its text reaches the terminal and is run as commands: no control characters (escape sequences, newlines).
        let texts = [c.run, c.command, c.model, c.dataset, c.numerics, c.graft] + c.session + c.completed.flatMap { $0.trainable + $0.trainMode + $0.head }
        if texts.contains(where: { $0.unicodeScalars.contains { $0.properties.generalCategory == .control } }) {
            throw bad("a name or command holds a control character")
        }
        guard c.startGenerator.count == 4, c.generator.count == 4, c.sums.count == 3, c.counts.count == 4 else { throw bad("a generator or sum has the wrong number of words") }
        let limit = 1 << 48  // far above any run, far below overflow
        guard (1...100_000).contains(c.epochs), (1...limit).contains(c.batchesPerEpoch), c.step < limit, c.counts.allSatisfy({ $0 < limit }),
              c.records.allSatisfy({ (1...c.epochs).contains($0.epoch) && (0..<limit).contains($0.samples) && (0..<limit).contains($0.validationSamples) }),
              c.completed.allSatisfy({ $0.epochs.allSatisfy { (1...100_000).contains($0.epoch) && (0..<limit).contains($0.samples) && (0..<limit).contains($0.validationSamples) } && (0..<limit).contains($0.batchesPerEpoch) }) else {
            throw bad("a count is out of range")
        }
        guard (1...c.epochs + 1).contains(c.epoch), (0...c.batchesPerEpoch).contains(c.batch), c.step >= 0,
              c.counts.allSatisfy({ $0 >= 0 }), c.records.count <= c.epochs, c.stepLosses.count == c.step, c.bestTensors >= 0, c.phase >= 1 else {
            throw bad("its position (epoch \(c.epoch) of \(c.epochs), batch \(c.batch) of \(c.batchesPerEpoch), step \(c.step)) does not add up")
        }
        var best: [Tensor] = []
        for index in 0..<c.bestTensors {
            guard let tensor = tensors[prefix + "best/\(index)"] else { throw bad("best-weights tensor \(index) is missing") }
            best.append(tensor)
        }
        guard tensors.count == best.count else { throw bad("it holds tensors it does not describe") }
        var p = TrainingProgress(epoch: c.epoch, batch: c.batch, batchesPerEpoch: c.batchesPerEpoch, epochs: c.epochs, step: c.step,
                                 generator: Generator.State(words: c.generator, spareNormal: c.spare.map(Double.init(bitPattern:))))
        p.order = c.order
        (p.sums.lossSum, p.sums.batchLossSum, p.sums.batchLossSquares) = (Double(bitPattern: c.sums[0]), Double(bitPattern: c.sums[1]), Double(bitPattern: c.sums[2]))
        (p.sums.correct, p.sums.seen, p.sums.lossBatches, p.imagesSeen) = (c.counts[0], c.counts[1], c.counts[2], c.counts[3])
        (p.records, p.orders, p.stepLosses) = (c.records.map(\.record), c.orders, c.stepLosses.map(Float.init(bitPattern:)))
        (p.bestLoss, p.bestSnapshot, p.epochsWithoutImprovement, p.finished) = (c.bestLoss.map(Float.init(bitPattern:)), best, c.epochsWithoutImprovement, c.finished)
        let completed = c.completed.map { phase in
            var done = TrainingPhase(options: TrainingOptions(), trainable: phase.trainable, trainMode: phase.trainMode, head: phase.head, orders: phase.orders,
                                     stepLosses: phase.stepLosses.map(Float.init(bitPattern:)), epochs: phase.epochs.map(\.record), batchesPerEpoch: phase.batchesPerEpoch)
            done.classWeights = phase.classWeights?.map(Float.init(bitPattern:))
            return done
        }
        let checkpoint = Checkpoint(run: c.run, command: c.command, phase: c.phase, model: c.model, dataset: c.dataset, session: c.session,
                                    numerics: c.numerics, graftVersion: c.graft,
                                    startGenerator: Generator.State(words: c.startGenerator, spareNormal: c.startSpare.map(Double.init(bitPattern:))),
                                    dataDigest: c.dataDigest, progress: p, completed: completed)
        return checkpoint
    }
}
