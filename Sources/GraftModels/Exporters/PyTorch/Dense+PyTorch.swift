import GraftNN

extension Dense: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("nn.Linear(\(inFeatures), \(outFeatures)\(bias == nil ? ", bias=False" : ""))")
    }
}
