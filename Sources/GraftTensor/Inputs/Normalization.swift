/// How pixel values in [0, 1] become a model's input: x' = (x − mean[c]) / std[c]. A dataset and a
/// model both carry one (the model's wins).
public enum Normalization: Sendable, Equatable, CustomStringConvertible {
    /// Values stay in [0, 1].
    case unit
    /// [−1, 1]: (x − 0.5) / 0.5.
    case symmetric
    /// ImageNet's channel statistics (torchvision): mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).
    case imagenet
    /// Explicit per-channel mean and standard deviation (one value applies to every channel).
    case custom(mean: [Float], std: [Float])

    /// The names of the presets.
    public static let presets = ["unit", "symmetric", "imagenet"]

    /// A preset by name (nil for an unknown one).
    public init?(preset name: String) {
        switch name {
        case "unit": self = .unit
        case "symmetric": self = .symmetric
        case "imagenet": self = .imagenet
        default: return nil
        }
    }

    /// Why a custom normalization does not fit `channels` channels (one value or one per channel,
    /// std > 0), or nil when it fits.
    public func problem(channels: Int) -> String? {
        guard case let .custom(mean, std) = self else { return nil }
        guard [1, channels].contains(mean.count), [1, channels].contains(std.count) else { return "mean and std need 1 or \(channels) values" }
        guard std.allSatisfy({ $0 > 0 }) else { return "std must be positive" }
        return nil
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

    /// Per-channel mean and standard deviation for `channels` channels.
    public func meanAndStd(channels: Int) -> (mean: [Float], std: [Float]) {
        let pairs = (0..<channels).map(parameters(channel:))
        return (pairs.map(\.0), pairs.map(\.1))
    }

    /// Normalizes one sample of `channels` planes in place.
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
