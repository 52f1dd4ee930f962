import GraftNN

extension SeparableConv2d: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        PyTorchModule("SeparableConv2d(\(inChannels), \(outChannels), \(Py.ints([kernel.0, kernel.1])), stride=\(Py.ints([stride.0, stride.1])), pad=\(Py.padding(padding)), "
            + "dilation=\(Py.ints([dilation.0, dilation.1])), multiplier=\(depthMultiplier), bias=\(Py.bool(bias != nil)))", helpers: [.separableConv2d])
    }
}

// The Python classes these kinds' modules need in model.py's prelude.
extension PyTorchHelper {
    static let separableConv2d = PyTorchHelper("separableConv2d", needs: [.samePadding], source: #"""
class SeparableConv2d(nn.Module):
    """Keras's SeparableConv2D: a depthwise convolution (depth multiplier M), then a 1×1 convolution."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1), multiplier=1, bias=True):
        super().__init__()
        self.in_channels, self.stride, self.pad, self.dilation = in_channels, stride, pad, dilation
        self.kernel_size = kernel_size
        self.depthwise_weight = nn.Parameter(torch.empty(in_channels * multiplier, 1, *kernel_size))
        self.pointwise_weight = nn.Parameter(torch.empty(out_channels, in_channels * multiplier, 1, 1))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.kaiming_normal_(self.depthwise_weight, mode="fan_out")
        nn.init.kaiming_normal_(self.pointwise_weight, mode="fan_out")

    def forward(self, x):
        pad = same_padding(x.shape[-2:], self.kernel_size, self.stride, self.dilation) if self.pad == "same" else self.pad
        x = F.conv2d(F.pad(x, pad), self.depthwise_weight, None, self.stride, 0, self.dilation, self.in_channels)
        return F.conv2d(x, self.pointwise_weight, self.bias)
"""#)
}
