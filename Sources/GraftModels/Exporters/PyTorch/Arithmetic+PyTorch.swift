import GraftNN

// Elementwise arithmetic: merges of branches, constants, rescaling, clamping, learned scales.

extension Merge: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Merge(\(Py.string(function == .concatenate ? "concat" : function.rawValue)))", helpers: [.merge])
    }
}

extension ConstantOp: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        let value = scalar.map { "scalar=\(Py.float($0))" } ?? "shape=\(Py.ints(constant.shape))"
        return PyTorchModule("ConstantOp(\(Py.string(function.rawValue)), \(value))", helpers: [.constantOp])
    }
}

extension Affine: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Rescale(\(Py.floats(scale)), \(Py.floats(offset)))", helpers: [.rescale])
    }
}

extension Clamp: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Clamp(\(Py.float(low)), \(Py.float(high)))", helpers: [.clamp])
    }
}

extension LayerScale: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("LayerScale(\(channels), \(Py.float(initial)))", helpers: [.layerScale])
    }
}

// The Python classes these kinds' modules need in model.py's prelude.
extension PyTorchHelper {
    static let merge = PyTorchHelper("merge", source: #"""
class Merge(nn.Module):
    """Combines its inputs: add, subtract, multiply, divide (left to right, broadcasting) or concat (channels)."""

    def __init__(self, op):
        super().__init__()
        self.op = op

    def forward(self, *xs):
        if self.op == "concat":
            return torch.cat(xs, 1) if len(xs) > 1 else xs[0]
        out = xs[0]
        for x in xs[1:]:
            out = {"add": torch.add, "subtract": torch.sub, "multiply": torch.mul, "divide": torch.div}[self.op](out, x)
        return out
"""#)

    static let rescale = PyTorchHelper("rescale", source: #"""
class Rescale(nn.Module):
    """x · scale + offset, per channel when given per channel (Keras's Rescaling and Normalization)."""

    def __init__(self, scale, offset):
        super().__init__()
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32), persistent=False)
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float32), persistent=False)

    def forward(self, x):
        def per_channel(v):
            return v[0] if v.numel() == 1 else v.reshape((-1,) + (1,) * (x.dim() - 2))
        return x * per_channel(self.scale) + per_channel(self.offset)
"""#)

    static let constantOp = PyTorchHelper("constantOp", source: #"""
class ConstantOp(nn.Module):
    """x with a constant: add, subtract, reverse_subtract (c - x), multiply, divide, reverse_divide.
    A constant that is not a single number is a parameter named `constant`."""

    def __init__(self, op, scalar=None, shape=None):
        super().__init__()
        self.op, self.scalar = op, scalar
        self.constant = nn.Parameter(torch.zeros(shape)) if scalar is None else None

    def forward(self, x):
        c = self.scalar if self.scalar is not None else self.constant
        return {"add": lambda: x + c, "subtract": lambda: x - c, "reverseSubtract": lambda: c - x,
                "multiply": lambda: x * c, "divide": lambda: x / c, "reverseDivide": lambda: c / x}[self.op]()
"""#)

    static let clamp = PyTorchHelper("clamp", source: #"""
class Clamp(nn.Module):
    def __init__(self, low, high):
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x):
        return torch.clamp(x, self.low, self.high)
"""#)

    static let layerScale = PyTorchHelper("layerScale", source: #"""
class LayerScale(nn.Module):
    """Multiplies each channel by a learned scale (ConvNeXt), a parameter named layer_scale."""

    def __init__(self, channels, initial=1e-6):
        super().__init__()
        self.layer_scale = nn.Parameter(torch.full((channels, 1, 1), initial))

    def forward(self, x):
        return x * self.layer_scale.reshape((-1,) + (1,) * (x.dim() - 2))
"""#)
}
