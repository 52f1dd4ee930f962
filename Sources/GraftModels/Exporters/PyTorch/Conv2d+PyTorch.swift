import GraftNN

extension Conv2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        var arguments = ["\(inChannels)", "\(outChannels)", Py.pair(kernel)]
        if stride != (1, 1) { arguments.append("stride=\(Py.pair(stride))") }
        let symmetric = Py.symmetric(padding)
        if let symmetric, symmetric != (0, 0) { arguments.append("padding=\(Py.pair(symmetric))") }
        if dilation != (1, 1) { arguments.append("dilation=\(Py.pair(dilation))") }
        if groups != 1 { arguments.append("groups=\(groups)") }
        if bias == nil { arguments.append("bias=False") }
        guard symmetric == nil else { return PyTorchModule("nn.Conv2d(\(arguments.joined(separator: ", ")))") }
        return PyTorchModule("PaddedConv2d(\(arguments.joined(separator: ", ")), pad=\(Py.padding(padding)))", helpers: [.paddedConv2d])
    }
}
