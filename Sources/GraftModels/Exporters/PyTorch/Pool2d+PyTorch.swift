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

// The Python classes these kinds' modules need in model.py's prelude.
extension PyTorchHelper {
    static let pool2d = PyTorchHelper("pool2d", needs: [.samePadding], source: #"""
class Pool2d(nn.Module):
    """Max or average pooling with padding nn.MaxPool2d and nn.AvgPool2d cannot express: TensorFlow's
    "same" or uneven amounts (left, right, top, bottom), ceil mode over them. An average divides by
    the pixels inside the input unless count_pad (and there is no ceil-mode overhang)."""

    def __init__(self, kind, kernel_size, stride, pad, ceil_mode=False, count_pad=False):
        super().__init__()
        self.kind, self.kernel_size, self.stride, self.pad, self.ceil_mode, self.count_pad = kind, kernel_size, stride, pad, ceil_mode, count_pad

    def forward(self, x):
        h, w = x.shape[-2:]
        left, right, top, bottom = same_padding((h, w), self.kernel_size, self.stride) if self.pad == "same" else self.pad
        extra_h = ceil_overhang(h, top, bottom, self.kernel_size[0], self.stride[0]) if self.ceil_mode else 0
        extra_w = ceil_overhang(w, left, right, self.kernel_size[1], self.stride[1]) if self.ceil_mode else 0
        pad = (left, right + extra_w, top, bottom + extra_h)
        if self.kind == "max":
            return F.max_pool2d(F.pad(x, pad, value=-math.inf), self.kernel_size, self.stride)
        total = F.avg_pool2d(F.pad(x, pad), self.kernel_size, self.stride)
        if self.count_pad and self.pad != "same" and extra_h == 0 and extra_w == 0:
            return total
        inside = F.avg_pool2d(F.pad(torch.ones_like(x[:1, :1]), pad), self.kernel_size, self.stride)
        return total / inside
"""#)
}
