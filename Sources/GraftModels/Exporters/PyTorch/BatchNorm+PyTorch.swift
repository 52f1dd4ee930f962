import GraftNN

extension BatchNorm: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        var arguments = ["\(channels)", "eps=\(Py.float(epsilon))", "momentum=\(Py.float(momentum))"]
        if weight == nil { arguments.append("scale=False") }
        if bias == nil { arguments.append("center=False") }
        let name = node.inputShape.count == 3 ? "BatchNorm2d" : "BatchNorm1d"
        return PyTorchModule("\(name)(\(arguments.joined(separator: ", ")))", helpers: [.batchNorm])
    }
}

// The Python classes these kinds' modules need in model.py's prelude.
extension PyTorchHelper {
    static let batchNorm = PyTorchHelper("batchNorm", source: #"""
class _GraftNorm:
    """BatchNorm as graft keeps it: no num_batches_tracked counter (the momentum is fixed), and γ or β
    optional (Keras's scale=False, center=False), so state_dict keys are graft's."""

    def __init__(self, channels, eps=1e-5, momentum=0.1, scale=True, center=True):
        super().__init__(channels, eps=eps, momentum=momentum, affine=scale or center)
        self.num_batches_tracked = None
        if self.affine and not scale:
            self.weight = None
        if self.affine and not center:
            self.bias = None

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
        # Version 2 tells _BatchNorm not to add a num_batches_tracked key of its own.
        super()._load_from_state_dict(state_dict, prefix, {**local_metadata, "version": 2}, *args)


class BatchNorm1d(_GraftNorm, nn.BatchNorm1d):
    pass


class BatchNorm2d(_GraftNorm, nn.BatchNorm2d):
    pass
"""#)
}
