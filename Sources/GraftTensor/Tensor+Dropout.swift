extension Tensor {
    /// Inverted dropout: in training, zeroes each element with probability `p` (drawn from
    /// `generator`, in element order) and scales the rest by 1/(1−p); otherwise the identity.
    public func dropout(_ p: Float, training: Bool, generator: Generator) throws(TensorError) -> Tensor {
        guard (0...1).contains(p) else { throw .invalidArgument(op: "dropout", reason: "probability must be in 0...1, got \(p)") }
        guard training, p > 0 else { return self }
        let keep: Float = p >= 1 ? 0 : 1 / (1 - p)
        let mask = Tensor(uninitializedShape: shape)
        for i in 0..<count { mask.storage.pointer[i] = generator.nextFloat() < p ? 0 : keep }
        let y = Tensor.zipSameShape(self, mask) { $0 * $1 }
        // d dropout(x)/dx = mask
        return y.recorded(from: [self]) { g in [Tensor.zipSameShape(g, mask) { $0 * $1 }] }
    }
}
