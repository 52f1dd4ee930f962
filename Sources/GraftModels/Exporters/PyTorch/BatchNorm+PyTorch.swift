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
