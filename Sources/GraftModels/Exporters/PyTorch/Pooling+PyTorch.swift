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
