import GraftNN

extension Dropout: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("nn.Dropout(\(Py.float(p)))") }
}

extension DropPath: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("DropPath(\(Py.float(p)))", helpers: [.dropPath]) }
}
