import GraftNN
import Foundation

/// How the loss weighs classes (`train … class-weights=balanced|auto|w0,w1,…`).
public enum ClassWeights: Sendable, Equatable, CustomStringConvertible {
    /// n / (C · n_c) for a class of n_c of the split's n samples (scikit-learn's and Keras's
    /// "balanced"): every class contributes as much to the loss as if the classes were equal.
    case balanced
    /// `balanced` when the largest class has more than 1.5× the samples of the smallest, else none.
    case auto
    /// One weight per class, in class order.
    case given([Float])

    /// The weights for a split with these per-class counts (nil: unweighted). A class without
    /// samples weighs 0 under `balanced` (it contributes nothing either way).
    public func weights(counts: [Int]) -> [Float]? {
        switch self {
        case let .given(weights): return weights
        case .auto:
            let present = counts.filter { $0 > 0 }
            guard let low = present.min(), let high = present.max(), Double(high) > 1.5 * Double(low) else { return nil }
            return ClassWeights.balanced.weights(counts: counts)
        case .balanced:
            let total = Double(counts.reduce(0, +)), classes = Double(counts.count)
            return counts.map { $0 > 0 ? Float(total / (classes * Double($0))) : 0 }
        }
    }

    /// Parses `balanced`, `auto` or comma-separated non-negative numbers.
    public init?(_ text: String) {
        switch text {
        case "balanced": self = .balanced
        case "auto": self = .auto
        default:
            let values = text.split(separator: ",", omittingEmptySubsequences: false).map { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.isEmpty, values.count <= 100_000, values.allSatisfy({ $0.map { $0 >= 0 && $0.isFinite } == true }) else { return nil }
            self = .given(values.compactMap { $0 })
        }
    }

    public var description: String {
        switch self {
        case .balanced: return "balanced"
        case .auto: return "auto: balanced"
        case let .given(weights): return "given: \(weights.count)"
        }
    }
}

/// How a training epoch orders its samples (`train … sampler=shuffle|balanced`).
public enum Sampler: String, Sendable, Equatable {
    case shuffle, balanced
}
