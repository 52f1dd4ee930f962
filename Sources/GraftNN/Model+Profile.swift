import GraftTensor

/// Each step's time in forward passes (see ``ForwardContext/times``): a step is one layer, or a group
/// that ran as one pass (a convolution with its BatchNorm and activation, a separable block), filed
/// under its first node with the nodes it computed besides it.
public final class StepTimes {
    struct Step { var covering: Set<Int>; var seconds: [Double] }
    private(set) var steps: [Int: Step] = [:]

    public init() {}

    func add(_ node: Int, covering: Set<Int>, _ duration: Duration) {
        let (whole, atto) = duration.components
        let seconds = Double(whole) + Double(atto) * 1e-18
        steps[node, default: Step(covering: covering, seconds: [])].seconds.append(seconds)
    }
}

/// Where an inference pass spends its time, step by step (``Model/profile(_:repeats:shouldStop:)``).
public struct LayerProfile: Sendable {
    public struct Row: Sendable {
        /// The step's nodes in order: the first ran it, the rest were fused into it.
        public let nodes: [Int]
        /// The median over the passes, in seconds.
        public let seconds: Double
    }
    /// In node order.
    public let rows: [Row]
    public let batch: Int
    /// The median whole pass (with what happens outside the layers: the input check, the last layout change).
    public let passSeconds: Double

    public var imagesPerSecond: Double { passSeconds > 0 ? Double(batch) / passSeconds : 0 }
}

extension Model {
    /// Times `repeats` inference passes on `x`, as ``predict(_:)`` runs them (fused groups, channels-last
    /// chains, separable blocks), after one untimed warm-up: each step's median time and the median pass.
    public func profile(_ x: Tensor, repeats: Int, shouldStop: @escaping () -> Bool = { false }) throws(ModelError) -> LayerProfile {
        guard repeats > 0 else { throw .invalidArgument(what: "repeats", reason: "must be at least 1, got \(repeats)") }
        let times = StepTimes()
        var passes: [Double] = []
        for pass in 0...repeats {
            let context = ForwardContext(training: false, shouldStop: shouldStop, times: pass == 0 ? nil : times)
            let started = ContinuousClock.now
            _ = try withoutGradients { () throws(ModelError) in try forward(x, context) }
            let (whole, atto) = (ContinuousClock.now - started).components
            if pass > 0 { passes.append(Double(whole) + Double(atto) * 1e-18) }
        }
        let rows = times.steps.sorted { $0.key < $1.key }.map { node, step in
            LayerProfile.Row(nodes: [node] + step.covering.sorted(), seconds: Self.median(step.seconds))
        }
        return LayerProfile(rows: rows, batch: x.shape.first ?? 0, passSeconds: Self.median(passes))
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
