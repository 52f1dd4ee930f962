import GraftNN

extension AdaptiveAvgPool2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("nn.AdaptiveAvgPool2d(\(Py.pair(output)))") }
}

extension ReduceMean: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("ReduceMean(\(Py.ints(axes)), keepdim=\(Py.bool(keepDims)))", helpers: [.reduceMean])
    }
}

extension GlobalPool2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("GlobalPool2d(\(Py.string(function == .max ? "max" : "avg"))\(keepsDimensions ? ", keepdim=True" : ""))", helpers: [.globalPool2d])
    }
}

// The Python classes these kinds' modules need in model.py's prelude.
extension PyTorchHelper {
    static let globalPool2d = PyTorchHelper("globalPool2d", source: #"""
class GlobalPool2d(nn.Module):
    """The mean (or maximum) of each channel over height and width."""

    def __init__(self, kind="avg", keepdim=False):
        super().__init__()
        self.kind, self.keepdim = kind, keepdim

    def forward(self, x):
        return x.amax((2, 3), keepdim=self.keepdim) if self.kind == "max" else x.mean((2, 3), keepdim=self.keepdim)
"""#)

    static let reduceMean = PyTorchHelper("reduceMean", source: #"""
class ReduceMean(nn.Module):
    """The mean over sample axes (0 = the first after the batch); a result of one value per sample keeps an axis."""

    def __init__(self, axes, keepdim):
        super().__init__()
        self.axes, self.keepdim = tuple(a + 1 for a in axes), keepdim

    def forward(self, x):
        y = x.mean(self.axes, keepdim=self.keepdim)
        return y.reshape(x.shape[0], 1) if y.dim() == 1 else y
"""#)
}
