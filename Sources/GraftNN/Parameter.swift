import GraftTensor

/// A learnable tensor and its trainable flag.
///
/// A trainable parameter's tensor is a leaf of the gradient graph; a frozen one's is not, so ops
/// that read it record nothing and it never receives a gradient or an update.
public final class Parameter {
    /// The current values (a gradient leaf when trainable).
    public private(set) var value: Tensor
    public var shape: [Int] { value.shape }
    public var count: Int { value.count }

    public var trainable: Bool {
        didSet { if trainable != oldValue { value = trainable ? value.detached().requiringGrad() : value.detached() } }
    }

    public init(_ value: Tensor, trainable: Bool = true) {
        self.trainable = trainable
        self.value = trainable ? value.detached().requiringGrad() : value.detached()
    }

    /// The accumulated gradient (nil when none has been computed since the last `zeroGrad`).
    public var grad: Tensor? { value.grad }
    public func zeroGrad() { value.zeroGrad() }

    /// Replaces the values (a copy of `tensor`, whose shape must match), keeping the flag.
    public func assign(_ tensor: Tensor, name: String) throws(ModelError) {
        guard tensor.shape == shape else {
            throw .shapeMismatch(layer: name, reason: "model expects \(formatShape(shape)), got \(formatShape(tensor.shape))")
        }
        let copy = tensor.copied()
        value = trainable ? copy.requiringGrad() : copy
    }

    /// Takes `tensor` itself as the values, without a copy, keeping the flag: for tensors nothing
    /// else holds (those just read from a file), so loading needs no second copy of the weights.
    public func adopt(_ tensor: Tensor, name: String) throws(ModelError) {
        guard tensor.shape == shape else {
            throw .shapeMismatch(layer: name, reason: "model expects \(formatShape(shape)), got \(formatShape(tensor.shape))")
        }
        value = trainable ? tensor.detached().requiringGrad() : tensor.detached()
    }

    /// Writes into the values in place (optimizers); the gradient leaf stays the same.
    public func update(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        value.withUnsafeMutableBufferPointer(body)
    }
}

extension Parameter {
    /// Gives each parameter its tensor, from a file just read: adopted (no copy) unless an earlier
    /// parameter took the same memory, then copied, so no two parameters ever share their values.
    public static func adoptAll(_ assignments: [(parameter: Parameter, tensor: Tensor, name: String)]) throws(ModelError) {
        var taken = Set<ObjectIdentifier>()
        for (parameter, tensor, name) in assignments {
            if taken.insert(tensor.storageIdentity).inserted {
                try parameter.adopt(tensor, name: name)
            } else {
                try parameter.assign(tensor, name: name)
            }
        }
    }
}
