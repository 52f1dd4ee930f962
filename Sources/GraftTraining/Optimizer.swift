import Foundation
import GraftNN
import GraftTensor

/// An optimizer's algorithm and hyperparameters (the state lives in ``Optimizer``).
public enum OptimizerKind: Sendable, Equatable, CustomStringConvertible {
    /// PyTorch's SGD: d = g + wd·p; buf = μ·buf + d; step along buf (or d + μ·buf with Nesterov).
    case sgd(momentum: Float, nesterov: Bool)
    /// Adam with L2 weight decay added to the gradient (PyTorch's `Adam`).
    case adam(beta1: Float, beta2: Float, epsilon: Float)
    /// Adam with decoupled weight decay (PyTorch's `AdamW`): p ← p − lr·wd·p before the Adam step.
    case adamW(beta1: Float, beta2: Float, epsilon: Float)
    /// PyTorch's RMSprop: v = α·v + (1 − α)·g²; p ← p − lr·g/(√v + ε), optional momentum.
    case rmsprop(alpha: Float, epsilon: Float, momentum: Float)

    public static let adamDefaults = OptimizerKind.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
    public static let adamWDefaults = OptimizerKind.adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)

    public var description: String {
        switch self {
        case let .sgd(momentum, nesterov): return "sgd (momentum \(momentum)\(nesterov ? ", nesterov" : ""))"
        case .adam: return "adam"
        case .adamW: return "adamw"
        case let .rmsprop(_, _, momentum): return "rmsprop" + (momentum > 0 ? " (momentum \(momentum))" : "")
        }
    }
}

/// Updates a fixed set of trainable parameters and keeps their per-parameter state (momentum
/// buffers, moments). Built for exactly one trainable set: when the set changes, the trainer
/// builds a new one and says so.
public final class Optimizer {
    public let kind: OptimizerKind
    public let weightDecay: Float
    public let parameters: [Parameter]
    /// Learning-rate multiplier per parameter (discriminative rates: backbone < head).
    public var rateScales: [Float]
    private var first: [[Float]?]   // momentum buffer or first moment
    private var second: [[Float]?]  // second moment / square average
    public private(set) var steps = 0

    public init(_ kind: OptimizerKind, parameters: [Parameter], weightDecay: Float = 0) {
        self.kind = kind
        self.parameters = parameters
        self.weightDecay = weightDecay
        rateScales = [Float](repeating: 1, count: parameters.count)
        first = [[Float]?](repeating: nil, count: parameters.count)
        second = [[Float]?](repeating: nil, count: parameters.count)
    }

    /// An independent copy of the state (for parameters that are the same objects), to roll back to.
    public func copy() -> Optimizer {
        let copy = Optimizer(kind, parameters: parameters, weightDecay: weightDecay)
        copy.rateScales = rateScales
        copy.first = first
        copy.second = second
        copy.steps = steps
        return copy
    }

    /// The per-parameter state, by position in ``parameters``: the momentum buffer or first moment,
    /// and the second moment (nil: the parameter has not been stepped yet).
    public var moments: (first: [[Float]?], second: [[Float]?]) { (first, second) }

    /// Puts back a saved state (`save model optimizer=yes`, a checkpoint): a step count and each
    /// parameter's moments, which must have its size.
    public func restore(steps: Int, first: [[Float]?], second: [[Float]?]) throws(ModelError) {
        guard steps >= 0, first.count == parameters.count, second.count == parameters.count else {
            throw .invalidArgument(what: "optimizer state", reason: "it is for \(first.count) tensors, the optimizer has \(parameters.count)")
        }
        for (index, parameter) in parameters.enumerated() {
            let count = parameter.value.count
            if let m = first[index], m.count != count {
                throw .invalidArgument(what: "optimizer state", reason: "tensor \(index)'s first moment has \(m.count) values, the parameter \(count)")
            }
            if let v = second[index], v.count != count && !(v.isEmpty && !usesSecondMoment) {
                throw .invalidArgument(what: "optimizer state", reason: "tensor \(index)'s second moment has \(v.count) values, the parameter \(count)")
            }
        }
        (self.steps, self.first, self.second) = (steps, first, second)
    }

    /// Whether this optimizer was built for exactly these parameters (by identity).
    public func covers(_ set: [Parameter]) -> Bool {
        set.count == parameters.count && zip(set, parameters).allSatisfy { $0 === $1 }
    }

    /// One update with learning rate `rate` (times each parameter's scale) from the accumulated gradients.
    public func step(rate: Float) {
        steps += 1
        let t = Float(steps)
        for (index, parameter) in parameters.enumerated() {
            guard let grad = parameter.grad else { continue }
            let lr = rate * rateScales[index]
            let wd = weightDecay
            let isFirstStep = first[index] == nil
            // The moments leave their slots while they change, so each is updated in place (no copy on write).
            var m = first[index] ?? [Float](repeating: 0, count: grad.count)
            var v = second[index] ?? (usesSecondMoment ? [Float](repeating: 0, count: grad.count) : [])
            (first[index], second[index]) = (nil, nil)
            let kind = kind
            grad.withUnsafeBufferPointer { g in parameter.update { p in
                m.withUnsafeMutableBufferPointer { mb in v.withUnsafeMutableBufferPointer { vb in
                    guard let gBase = g.baseAddress, let pBase = p.baseAddress, let mBase = mb.baseAddress, p.count == g.count else { return }
                    nonisolated(unsafe) let (gp, pp, mp, vp) = (gBase, pBase, mBase, vb.baseAddress)
                    // Each element alone, in chunks over the threads: the same bits as one loop.
                    Threads.forEachChunk(p.count, grain: 1 << 15) { range in
                        Self.update(kind, range, p: pp, g: gp, m: mp, v: vp, lr: lr, wd: wd, firstStep: isFirstStep, step: t)
                    }
                } }
            } }
            first[index] = m
            second[index] = v
        }
    }

    /// One step on the elements `range` of one parameter `p` with gradient `g`, first moment (or
    /// momentum buffer) `m` and second moment `v` (nil for SGD).
    @inline(__always)
    private static func update(_ kind: OptimizerKind, _ range: Range<Int>, p: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>,
                               m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>?, lr: Float, wd: Float,
                               firstStep isFirstStep: Bool, step t: Float) {
        switch kind {
        case let .sgd(momentum, nesterov):
            for i in range {
                var d = g[i] + wd * p[i]
                if momentum != 0 {
                    m[i] = isFirstStep ? d : momentum * m[i] + d
                    d = nesterov ? d + momentum * m[i] : m[i]
                }
                p[i] -= lr * d
            }
        case let .adam(b1, b2, eps), let .adamW(b1, b2, eps):
            guard let v else { return }
            let decoupled: Bool
            if case .adamW = kind { decoupled = true } else { decoupled = false }
            let correction1 = 1 - Foundation.pow(b1, t), correction2 = 1 - Foundation.pow(b2, t)
            for i in range {
                var gi = g[i]
                if decoupled { p[i] -= lr * wd * p[i] } else { gi += wd * p[i] }
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                let denominator = (v[i] / correction2).squareRoot() + eps
                p[i] -= lr * (m[i] / correction1) / denominator
            }
        case let .rmsprop(alpha, eps, momentum):
            guard let v else { return }
            for i in range {
                let gi = g[i] + wd * p[i]
                v[i] = alpha * v[i] + (1 - alpha) * gi * gi
                let update = gi / (v[i].squareRoot() + eps)
                if momentum > 0 {
                    m[i] = momentum * m[i] + update
                    p[i] -= lr * m[i]
                } else {
                    p[i] -= lr * update
                }
            }
        }
    }

    /// Adam, AdamW and RMSprop keep a second moment; SGD does not.
    private var usesSecondMoment: Bool {
        if case .sgd = kind { return false }
        return true
    }

    public func zeroGrad() { for parameter in parameters { parameter.zeroGrad() } }
}

/// How the learning rate moves over a run (per step), with an optional linear warm-up.
public enum Schedule: Sendable, Equatable, CustomStringConvertible {
    case constant
    /// Multiply by `gamma` every `every` epochs.
    case step(every: Int, gamma: Float)
    /// Cosine from the base rate to 0 over the run.
    case cosine
    /// PyTorch's OneCycleLR (cosine): from base/25 up to base over the first 30 % of steps, then down to base/(25·10⁴).
    case oneCycle

    public init(name: String) throws(ModelError) {
        switch name {
        case "constant": self = .constant
        case "cosine": self = .cosine
        case "onecycle": self = .oneCycle
        case "step": self = .step(every: 1, gamma: 0.1)
        default: throw .invalidArgument(what: "schedule", reason: "unknown schedule '\(name)' (constant, step, cosine, onecycle)")
        }
    }

    /// The rate at `step` (0-based) of `total` steps, `stepsPerEpoch` per epoch, after `warmup` warm-up steps.
    public func rate(base: Float, step: Int, total: Int, stepsPerEpoch: Int, warmup: Int = 0) -> Float {
        if step < warmup { return base * Float(step + 1) / Float(warmup) }
        let s = step - warmup, n = Swift.max(total - warmup, 1)
        switch self {
        case .constant: return base
        case let .step(every, gamma): return base * Foundation.pow(gamma, Float(s / Swift.max(every * stepsPerEpoch, 1)))
        case .cosine: return base * 0.5 * (1 + Foundation.cos(Float.pi * Float(s) / Float(n)))
        case .oneCycle:
            let initial = base / 25, final = initial / 1e4
            let peak = Swift.max(Int(0.3 * Float(n)) - 1, 1)
            func anneal(_ from: Float, _ to: Float, _ fraction: Float) -> Float { to + (from - to) / 2 * (1 + Foundation.cos(Float.pi * fraction)) }
            if s <= peak { return anneal(initial, base, Float(s) / Float(peak)) }
            return anneal(base, final, Float(s - peak) / Float(Swift.max(n - 1 - peak, 1)))
        }
    }

    public var description: String {
        switch self {
        case .constant: return "constant"
        case let .step(every, gamma): return "step (×\(gamma) every \(every) epochs)"
        case .cosine: return "cosine"
        case .oneCycle: return "onecycle"
        }
    }
}
