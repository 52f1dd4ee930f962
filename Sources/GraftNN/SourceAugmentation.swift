/// The training augmentation a model brings from its source file: Keras's `Random*` layers, which
/// are identity at inference and augment only in `fit`. graft leaves them out of the graph and
/// keeps what they mean here; `train` and `fine-tune` apply it when the command names no
/// `augment=`, and refuse (naming the layer) when a layer has no graft equivalent.
public struct SourceAugmentation: Codable, Sendable, Equatable {
    /// graft's `augment=` text for the layers it reproduces (`flip,rotate=36`); empty when none.
    public var spec: String
    /// The layers it came from, each as `RandomFlip 'random_flip'`.
    public var layers: [String]
    /// The layers graft cannot reproduce, each with the reason.
    public var unsupported: [String]

    public init(spec: String = "", layers: [String] = [], unsupported: [String] = []) {
        (self.spec, self.layers, self.unsupported) = (spec, layers, unsupported)
    }

    /// Adds one layer: its `augment=` part when graft has one, else why not.
    public mutating func add(_ layer: String, part: String?, unsupported reason: String? = nil) {
        layers.append(layer)
        if let part { spec += (spec.isEmpty ? "" : ",") + part }
        if let reason { unsupported.append("\(layer): \(reason)") }
    }
}
