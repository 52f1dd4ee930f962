/// How pixel values in [0, 1] become a model's input: x' = (x − mean[c]) / std[c].
public enum Normalization: Sendable, Equatable, CustomStringConvertible {
    /// Values stay in [0, 1].
    case unit
    /// [−1, 1]: (x − 0.5) / 0.5.
    case symmetric
    /// ImageNet's channel statistics (torchvision): mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).
    case imagenet
    /// Explicit per-channel mean and standard deviation (one value applies to every channel).
    case custom(mean: [Float], std: [Float])

    public init(name: String) throws(DataError) {
        switch name {
        case "unit": self = .unit
        case "symmetric": self = .symmetric
        case "imagenet": self = .imagenet
        default: throw .invalidArgument(what: "normalization", reason: "unknown preset '\(name)' (unit, symmetric, imagenet)")
        }
    }

    /// Checks a custom normalization against a channel count: one value or one per channel, std > 0.
    public func validated(channels: Int) throws(DataError) -> Normalization {
        guard case let .custom(mean, std) = self else { return self }
        guard [1, channels].contains(mean.count), [1, channels].contains(std.count) else {
            throw .invalidArgument(what: "normalization", reason: "mean and std need 1 or \(channels) values")
        }
        guard std.allSatisfy({ $0 > 0 }) else { throw .invalidArgument(what: "normalization", reason: "std must be positive") }
        return self
    }

    /// (mean, std) for channel `c`.
    func parameters(channel c: Int) -> (Float, Float) {
        switch self {
        case .unit: return (0, 1)
        case .symmetric: return (0.5, 0.5)
        case .imagenet: return ([0.485, 0.456, 0.406][c % 3], [0.229, 0.224, 0.225][c % 3])
        case let .custom(mean, std): return (mean.count == 1 ? mean[0] : mean[c], std.count == 1 ? std[0] : std[c])
        }
    }

    /// Normalizes one sample of `channels` planes in place.
    /// Per-channel mean and standard deviation for `channels` channels.
    public func meanAndStd(channels: Int) -> (mean: [Float], std: [Float]) {
        let pairs = (0..<channels).map(parameters(channel:))
        return (pairs.map(\.0), pairs.map(\.1))
    }

    public func apply(_ sample: UnsafeMutablePointer<Float>, channels: Int, plane: Int) {
        if self == .unit { return }
        for c in 0..<channels {
            let (mean, std) = parameters(channel: c)
            let p = sample + c * plane, inverse = 1 / std
            for i in 0..<plane { p[i] = (p[i] - mean) * inverse }
        }
    }

    public var description: String {
        switch self {
        case .unit: return "unit"
        case .symmetric: return "symmetric"
        case .imagenet: return "imagenet"
        case let .custom(mean, std): return "mean=\(mean) std=\(std)"
        }
    }
}
