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

extension GroupNorm: PyTorchExportable {
    /// `nn.GroupNorm` (γ and β both or neither), or graft's `GroupNorm` with one of them (Keras's
    /// `scale` and `center` are separate).
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        if (weight == nil) == (bias == nil) {
            return PyTorchModule("nn.GroupNorm(\(groups), \(channels), eps=\(Py.float(epsilon))\(weight == nil ? ", affine=False" : ""))")
        }
        return PyTorchModule("GroupNorm(\(groups), \(channels), eps=\(Py.float(epsilon)), scale=\(Py.bool(weight != nil)), center=\(Py.bool(bias != nil)))",
                             helpers: [.groupNorm])
    }
}

// The Python classes these kinds' modules need in model.py's prelude.
extension PyTorchHelper {
    static let groupNorm = PyTorchHelper("groupNorm", source: #"""
class GroupNorm(nn.Module):
    """nn.GroupNorm with γ (weight) and β (bias) each optional, as Keras's scale and center make them."""

    def __init__(self, groups, channels, eps=1e-5, scale=True, center=True):
        super().__init__()
        self.groups, self.eps = groups, eps
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None

    def forward(self, x):
        return F.group_norm(x, self.groups, self.weight, self.bias, self.eps)
"""#)

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
