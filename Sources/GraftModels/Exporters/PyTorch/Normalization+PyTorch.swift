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
