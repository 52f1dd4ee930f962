import GraftTensor

/// Normalization fusion: a BatchNorm followed by a ReLU, ReLU6, hardswish, hardsigmoid, SiLU, sigmoid
/// or GELU runs as one op that applies the activation as it writes each normalized value, in training
/// as in inference. The normalized values before the activation are never stored (the backward
/// recomputes them from the BatchNorm's input), and the bits, forward and backward, are those of the
/// two layers run one after the other (tested).
///
/// It applies where the normalized values are not asked for (not in `kept`, one consumer) and where
/// inference fusion has not already folded the BatchNorm into a convolution. `Model.fusesInference`
/// switches it off with the rest of fusion.
extension Model {
    /// The activation node the layer at `index` applies in its own pass, when both qualify.
    func fusedActivation(after index: Int, uses: [Int], end: Int, kept: Set<Int>) -> (node: Int, activation: FusedActivation)? {
        guard Model.fusesInference, nodes[index].layer is any FusesActivation,
              let next = onlyConsumer(of: index, uses: uses, end: end, kept: kept),
              let activation = nodes[next].layer.fusedActivation else { return nil }
        return (next, activation)
    }
}
