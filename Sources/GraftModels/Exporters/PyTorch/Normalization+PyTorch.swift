import GraftNN

extension LayerNorm: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        var arguments = ["\(channels)", "eps=\(Py.float(epsilon))"]
        if axis != 0 { arguments.append("axis=\(axis)") }
        if weight == nil { arguments.append("scale=False") }
        if bias == nil { arguments.append("center=False") }
        return PyTorchModule("LayerNorm(\(arguments.joined(separator: ", ")))", helpers: [.layerNorm])
    }
}

// The Python classes these kinds' modules need in model.py's prelude.
extension PyTorchHelper {
    static let layerNorm = PyTorchHelper("layerNorm", source: #"""
class LayerNorm(nn.Module):
    """Normalizes over one sample axis (axis 0: the channels, as ConvNeXt's LayerNorm2d), with γ and β
    along that axis."""

    def __init__(self, channels, eps=1e-5, axis=0, scale=True, center=True):
        super().__init__()
        self.eps, self.axis = eps, axis
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None

    def forward(self, x):
        a = self.axis + 1
        centered = x - x.mean(a, keepdim=True)
        y = centered / torch.sqrt((centered * centered).mean(a, keepdim=True) + self.eps)
        shape = (-1,) + (1,) * (x.dim() - 2 - self.axis)
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y
"""#)
}
