import GraftNN

// The layers that only move values: flatten, reshape, permute, pad, crop, slice.

extension Flatten: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("nn.Flatten()") }
}

extension Reshape: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Reshape(\(Py.ints(target))\(trailing > 0 ? ", trailing=\(trailing)" : ""))", helpers: [.reshape])
    }
}

extension Permute: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule { PyTorchModule("Permute(\(Py.ints(order)))", helpers: [.permute]) }
}

extension ZeroPadding2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("nn.ZeroPad2d(\(Py.ints([padding.left, padding.right, padding.top, padding.bottom])))")
    }
}

extension Cropping2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Crop2d(\(Py.ints([cropping.left, cropping.right, cropping.top, cropping.bottom])))", helpers: [.crop])
    }
}

extension Slice: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("Slice(\(axis), \(start), \(end)\(step == 1 ? "" : ", \(step)"))", helpers: [.slice])
    }
}
