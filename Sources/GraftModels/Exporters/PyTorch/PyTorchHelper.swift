import GraftNN

/// A class or function `model.py` defines where `torch.nn` has no module with graft's exact meaning
/// (TensorFlow's "same" padding, Keras's separable convolution, graft's parameter names). Each is
/// declared beside the layer kinds that use it (`Conv2d+PyTorch.swift` holds `PaddedConv2d`); the
/// exporter writes those a model's modules name, each once, after the ones they need, in order of
/// name.
public struct PyTorchHelper: Hashable, Sendable {
    /// Its name (the order of the prelude).
    public let name: String
    /// Helpers its code calls.
    public let needs: [PyTorchHelper]
    /// Its Python source.
    public let source: String

    public init(_ name: String, needs: [PyTorchHelper] = [], source: String) {
        (self.name, self.needs, self.source) = (name, needs, source)
    }

    public static func == (a: PyTorchHelper, b: PyTorchHelper) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

// Shared by the kinds that take TensorFlow's "same" padding (convolutions, separable convolutions, pooling).
extension PyTorchHelper {
    static let samePadding = PyTorchHelper("samePadding", source: #"""
def same_padding(size, kernel, stride, dilation=(1, 1)):
    """TensorFlow's "same" padding for an input of size (height, width): the output is
    ceil(input / stride), the odd pixel goes to the bottom and right. As F.pad's (left, right, top, bottom)."""
    amounts = []
    for n, k, s, d in zip(size, kernel, stride, dilation):
        total = max(((n + s - 1) // s - 1) * s + (k - 1) * d + 1 - n, 0)
        amounts.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = amounts
    return (left, right, top, bottom)


def ceil_overhang(size, before, after, kernel, stride):
    """Extra bottom/right padding that ceil mode amounts to (the last window must start inside)."""
    span = size + before + after - kernel
    if span < 0:
        return 0
    count = (span + stride - 1) // stride + 1
    if (count - 1) * stride >= size + before:
        count -= 1
    return max(0, (count - 1) * stride + kernel - (size + before + after))
"""#)
}
