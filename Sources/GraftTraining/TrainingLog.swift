import GraftNN
@preconcurrency import Foundation

/// One epoch's figures.
public struct EpochRecord: Sendable, Equatable {
    public let epoch: Int
    public let loss: Float
    public let accuracy: Float
    public let validationLoss: Float?
    public let validationAccuracy: Float?
    public let learningRate: Float
    /// The backbone's rate with discriminative rates (nil: one rate for all).
    public var backboneLearningRate: Float? = nil
    public let seconds: Double
    public let imagesPerSecond: Double
    /// Training samples the epoch's figures are over, and the standard error of its loss (the batch
    /// losses' spread / √batches); the validation split's size and its loss's standard error. Replays
    /// on machines whose rounding differs compare the figures against these.
    public var samples = 0
    public var lossStandardError = 0.0
    public var validationSamples = 0
    public var validationLossStandardError = 0.0

    public init(epoch: Int, loss: Float, accuracy: Float, validationLoss: Float?, validationAccuracy: Float?, learningRate: Float,
                backboneLearningRate: Float? = nil, seconds: Double, imagesPerSecond: Double) {
        (self.epoch, self.loss, self.accuracy, self.validationLoss, self.validationAccuracy) = (epoch, loss, accuracy, validationLoss, validationAccuracy)
        (self.learningRate, self.backboneLearningRate, self.seconds, self.imagesPerSecond) = (learningRate, backboneLearningRate, seconds, imagesPerSecond)
    }

    /// The same record under another epoch number (runs in phases shown as one).
    public func renumbered(_ epoch: Int) -> EpochRecord {
        var record = EpochRecord(epoch: epoch, loss: loss, accuracy: accuracy, validationLoss: validationLoss, validationAccuracy: validationAccuracy,
                                 learningRate: learningRate, backboneLearningRate: backboneLearningRate, seconds: seconds, imagesPerSecond: imagesPerSecond)
        (record.samples, record.lossStandardError) = (samples, lossStandardError)
        (record.validationSamples, record.validationLossStandardError) = (validationSamples, validationLossStandardError)
        return record
    }
}

/// What the trainer reports as it goes; the shell renders it (progress bar, chart, transcript).
public enum TrainingEvent: Sendable {
    /// A line to show as it is (`caching features …`, `frozen: 42 tensors unchanged`).
    case message(String)
    /// Progress within an epoch.
    case batch(epoch: Int, epochs: Int, batch: Int, batches: Int, loss: Float, accuracy: Float, imagesPerSecond: Double, secondsLeft: Double)
    /// An epoch finished.
    case epoch(EpochRecord, epochs: Int)
    /// Progress of other long work (caching features, evaluating): shown as a bar on a terminal only.
    case progress(task: String, done: Int, total: Int, secondsLeft: Double)
}

public protocol TrainingLog: AnyObject {
    func record(_ event: TrainingEvent)
}

/// Writes events to standard output: a bar updating in place on a terminal, one line per epoch otherwise.
public final class ConsoleTrainingLog: TrainingLog {
    let interactive: Bool
    private var lastDraw = 0.0

    public init(interactive: Bool = isatty(STDOUT_FILENO) != 0) { self.interactive = interactive }

    public func record(_ event: TrainingEvent) {
        switch event {
        case let .message(text):
            print(text)
        case let .batch(epoch, epochs, batch, batches, loss, accuracy, rate, left):
            guard interactive else { return }
            let now = Date().timeIntervalSinceReferenceDate
            guard now - lastDraw > 0.1 || batch == batches else { return }
            lastDraw = now
            let width = 24, filled = width * batch / Swift.max(batches, 1)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let line = String(format: "epoch %d/%d %@ %d/%d  loss %.4f  acc %.4f  %.0f img/s  ETA %.0fs",
                              epoch, epochs, bar, batch, batches, loss, accuracy, rate, left)
            print("\r\u{1B}[2K" + line, terminator: "")
            fflush(stdout)
        case let .epoch(record, epochs):
            if interactive { print("\r\u{1B}[2K", terminator: "") }
            print(Self.line(record, epochs: epochs))
        case let .progress(task, done, total, left):
            guard interactive else { return }
            let now = Date().timeIntervalSinceReferenceDate
            guard now - lastDraw > 0.1 || done == total else { return }
            lastDraw = now
            print("\r\u{1B}[2K" + Self.progressLine(task, done: done, total: total, secondsLeft: left), terminator: done == total ? "\r\u{1B}[2K" : "")
            fflush(stdout)
        }
    }

    /// `caching features ████████····· 640/1000  ETA 3s`
    public static func progressLine(_ task: String, done: Int, total: Int, secondsLeft: Double) -> String {
        let width = 24, filled = width * done / Swift.max(total, 1)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        return String(format: "%@ %@ %d/%d  ETA %.0fs", task, bar, done, total, secondsLeft.isFinite ? secondsLeft : 0)
    }

    /// `epoch 3/5  loss 0.1234  accuracy 0.9612  val_loss …  lr 0.01  1.2s  2,345 img/s`
    public static func line(_ r: EpochRecord, epochs: Int) -> String {
        var parts = [String(format: "epoch %d/%d  loss %.4f  accuracy %.4f", r.epoch, epochs, r.loss, r.accuracy)]
        if let vl = r.validationLoss, let va = r.validationAccuracy { parts.append(String(format: "val_loss %.4f  val_accuracy %.4f", vl, va)) }
        parts.append(String(format: "lr %.3g", r.learningRate) + (r.backboneLearningRate.map { String(format: " (backbone %.3g)", $0) } ?? ""))
        return parts.joined(separator: "  ")
    }
}

/// Keeps every event (for tests and transcripts).
public final class RecordingTrainingLog: TrainingLog {
    public private(set) var events: [TrainingEvent] = []
    public init() {}
    public func record(_ event: TrainingEvent) { events.append(event) }
    public var messages: [String] { events.compactMap { if case let .message(m) = $0 { return m } else { return nil } } }
    /// How many batches have been logged (finished optimizer steps).
    public var batches: Int { events.count { if case .batch = $0 { true } else { false } } }
}
