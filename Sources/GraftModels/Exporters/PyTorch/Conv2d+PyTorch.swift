import GraftNN

extension Conv2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        var arguments = ["\(inChannels)", "\(outChannels)", Py.pair(kernel)]
        if stride != (1, 1) { arguments.append("stride=\(Py.pair(stride))") }
        let symmetric = Py.symmetric(padding)
        if let symmetric, symmetric != (0, 0) { arguments.append("padding=\(Py.pair(symmetric))") }
        if dilation != (1, 1) { arguments.append("dilation=\(Py.pair(dilation))") }
        if groups != 1 { arguments.append("groups=\(groups)") }
        if bias == nil { arguments.append("bias=False") }
        guard symmetric == nil else { return PyTorchModule("nn.Conv2d(\(arguments.joined(separator: ", ")))") }
        return PyTorchModule("PaddedConv2d(\(arguments.joined(separator: ", ")), pad=\(Py.padding(padding)))", helpers: [.paddedConv2d])
    }
}

// The Python classes these kinds' modules need in model.py's prelude.
extension PyTorchHelper {
    static let paddedConv2d = PyTorchHelper("paddedConv2d", needs: [.samePadding], source: #"""
class PaddedConv2d(nn.Conv2d):
    """nn.Conv2d with padding it cannot express: TensorFlow's "same" (computed from each input's
    size) or uneven amounts (left, right, top, bottom), applied with F.pad before the convolution."""

    def __init__(self, *args, pad, **kwargs):
        super().__init__(*args, **kwargs)
        self.pad = pad

    def forward(self, x):
        pad = same_padding(x.shape[-2:], self.kernel_size, self.stride, self.dilation) if self.pad == "same" else self.pad
        return super().forward(F.pad(x, pad))
"""#)
}
