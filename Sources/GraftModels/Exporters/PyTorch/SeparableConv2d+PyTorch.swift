import GraftNN

extension SeparableConv2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("SeparableConv2d(\(inChannels), \(outChannels), \(Py.ints([kernel.0, kernel.1])), stride=\(Py.ints([stride.0, stride.1])), pad=\(Py.padding(padding)), "
            + "dilation=\(Py.ints([dilation.0, dilation.1])), multiplier=\(depthMultiplier), bias=\(Py.bool(bias != nil)))", helpers: [.separableConv2d])
    }
}
