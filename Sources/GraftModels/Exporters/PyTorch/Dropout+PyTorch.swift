import GraftNN

extension Dropout: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("nn.Dropout(\(Py.float(p)))") }
}

extension DropPath: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("DropPath(\(Py.float(p)))", helpers: [.dropPath]) }
}

// The Python classes these kinds' modules need in model.py's prelude.
extension PyTorchHelper {
    static let dropPath = PyTorchHelper("dropPath", source: #"""
class DropPath(nn.Module):
    """Stochastic depth (torchvision's StochasticDepth, mode "row"): while training, each sample's
    branch is dropped with probability p and the others scaled by 1 / (1 - p)."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = (torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device) >= self.p).to(x.dtype)
        return x * keep / (1 - self.p)
"""#)
}
