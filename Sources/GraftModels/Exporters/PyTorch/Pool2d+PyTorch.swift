import GraftNN

extension Pool2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        // nn.MaxPool2d and nn.AvgPool2d where they mean the same (even padding of at most half the window).
        if let (h, w) = Py.symmetric(padding), h <= kernel.0 / 2, w <= kernel.1 / 2 {
            var arguments = [Py.pair(kernel)]
            if stride != kernel { arguments.append("stride=\(Py.pair(stride))") }
            if (h, w) != (0, 0) { arguments.append("padding=\(Py.pair((h, w)))") }
            if ceilMode { arguments.append("ceil_mode=True") }
            if function == .average, !countPadding, (h, w) != (0, 0) { arguments.append("count_include_pad=False") }
            return PyTorchModule("nn.\(function == .max ? "MaxPool2d" : "AvgPool2d")(\(arguments.joined(separator: ", ")))")
        }
        return PyTorchModule("Pool2d(\(Py.string(function == .max ? "max" : "avg")), \(Py.ints([kernel.0, kernel.1])), \(Py.ints([stride.0, stride.1])), "
            + "\(Py.padding(padding)), ceil_mode=\(Py.bool(ceilMode)), count_pad=\(Py.bool(countPadding)))", helpers: [.pool2d])
    }
}
