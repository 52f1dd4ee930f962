import GraftTensor

extension Normalization {
    /// A preset by name (`normalize=imagenet`).
    public init(name: String) throws(DataError) {
        guard let preset = Normalization(preset: name) else {
            throw .invalidArgument(what: "normalization", reason: "unknown preset '\(name)' (\(Normalization.presets.joined(separator: ", ")))")
        }
        self = preset
    }

    /// Checks a custom normalization against a channel count: one value or one per channel, std > 0.
    public func validated(channels: Int) throws(DataError) -> Normalization {
        if let problem = problem(channels: channels) { throw .invalidArgument(what: "normalization", reason: problem) }
        return self
    }
}
