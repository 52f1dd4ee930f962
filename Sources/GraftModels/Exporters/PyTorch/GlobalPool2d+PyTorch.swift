import GraftNN

extension GlobalPool2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("GlobalPool2d(\(Py.string(function == .max ? "max" : "avg"))\(keepsDimensions ? ", keepdim=True" : ""))", helpers: [.globalPool2d])
    }
}
