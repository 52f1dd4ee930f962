import GraftNN

// Elementwise arithmetic: merges of branches, constants, rescaling, clamping, learned scales.

extension Merge: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Merge(\(Py.string(function == .concatenate ? "concat" : function.rawValue)))", helpers: [.merge])
    }
}

extension ConstantOp: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        let value = scalar.map { "scalar=\(Py.float($0))" } ?? "shape=\(Py.ints(constant.shape))"
        return PyTorchModule("ConstantOp(\(Py.string(function.rawValue)), \(value))", helpers: [.constantOp])
    }
}

extension Affine: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Rescale(\(Py.floats(scale)), \(Py.floats(offset)))", helpers: [.rescale])
    }
}

extension Clamp: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Clamp(\(Py.float(low)), \(Py.float(high)))", helpers: [.clamp])
    }
}

extension LayerScale: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("LayerScale(\(channels), \(Py.float(initial)))", helpers: [.layerScale])
    }
}
