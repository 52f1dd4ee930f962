import GraftNN

// The layers that only move values: flatten, reshape, permute, pad, crop, slice.

extension Flatten: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("nn.Flatten()") }
}

extension Reshape: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Reshape(\(Py.ints(target))\(trailing > 0 ? ", trailing=\(trailing)" : ""))", helpers: [.reshape])
    }
}

extension Permute: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("Permute(\(Py.ints(order)))", helpers: [.permute]) }
}

extension ZeroPadding2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("nn.ZeroPad2d(\(Py.ints([padding.left, padding.right, padding.top, padding.bottom])))")
    }
}

extension Cropping2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Crop2d(\(Py.ints([cropping.left, cropping.right, cropping.top, cropping.bottom])))", helpers: [.crop])
    }
}

extension Slice: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Slice(\(axis), \(start), \(end)\(step == 1 ? "" : ", \(step)"))", helpers: [.slice])
    }
}

// The Python classes these kinds' modules need in model.py's prelude.
extension PyTorchHelper {
    static let reshape = PyTorchHelper("reshape", source: #"""
class Reshape(nn.Module):
    """Reshapes each sample to `target` (one size may be -1); the last `trailing` sizes come from the input."""

    def __init__(self, target, trailing=0):
        super().__init__()
        self.target, self.trailing = tuple(target), trailing

    def forward(self, x):
        target = self.target
        if self.trailing:
            target = target[: len(target) - self.trailing] + tuple(x.shape[x.dim() - self.trailing:])
        return x.reshape((x.shape[0],) + target)
"""#)

    static let permute = PyTorchHelper("permute", source: #"""
class Permute(nn.Module):
    """Reorders the sample axes (Keras's Permute; the batch axis stays first)."""

    def __init__(self, order):
        super().__init__()
        self.order = tuple(order)

    def forward(self, x):
        return x.permute((0,) + tuple(a + 1 for a in self.order))
"""#)

    static let crop = PyTorchHelper("crop", source: #"""
class Crop2d(nn.Module):
    """Removes rows and columns at the edges: (left, right, top, bottom)."""

    def __init__(self, crop):
        super().__init__()
        self.crop = crop

    def forward(self, x):
        left, right, top, bottom = self.crop
        return x[..., top: x.shape[-2] - bottom, left: x.shape[-1] - right]
"""#)

    static let slice = PyTorchHelper("slice", source: #"""
class Slice(nn.Module):
    """start:end:step along one sample axis."""

    def __init__(self, axis, start, end, step=1):
        super().__init__()
        self.axis, self.start, self.end, self.step = axis + 1, start, end, step

    def forward(self, x):
        index = [slice(None)] * x.dim()
        index[self.axis] = slice(self.start, min(self.end, x.shape[self.axis]), self.step)
        return x[tuple(index)]
"""#)
}
