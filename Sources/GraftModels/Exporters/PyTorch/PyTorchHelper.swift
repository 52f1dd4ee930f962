/// The small classes `model.py` defines where `torch.nn` has no module with graft's exact meaning
/// (TensorFlow's "same" padding, Keras's separable convolution, graft's parameter names). Only
/// those a model uses are written, each once, after the ones it needs.
public enum PyTorchHelper: String, CaseIterable, Sendable {
    case samePadding, paddedConv2d, separableConv2d, batchNorm, pool2d, globalPool2d, erf, sqrt, dropPath, reshape, merge,
         permute, rescale, constantOp, clamp, layerNorm, crop, reduceMean, slice, layerScale

    /// Helpers this one calls.
    var needs: [PyTorchHelper] {
        switch self {
        case .paddedConv2d, .separableConv2d, .pool2d: return [.samePadding]
        default: return []
        }
    }

    var source: String {
        switch self {
        case .samePadding: return #"""
def same_padding(size, kernel, stride, dilation=(1, 1)):
    """TensorFlow's "same" padding for an input of size (height, width): the output is
    ceil(input / stride), the odd pixel goes to the bottom and right. As F.pad's (left, right, top, bottom)."""
    amounts = []
    for n, k, s, d in zip(size, kernel, stride, dilation):
        total = max(((n + s - 1) // s - 1) * s + (k - 1) * d + 1 - n, 0)
        amounts.append((total // 2, total - total // 2))
    (top, bottom), (left, right) = amounts
    return (left, right, top, bottom)


def ceil_overhang(size, before, after, kernel, stride):
    """Extra bottom/right padding that ceil mode amounts to (the last window must start inside)."""
    span = size + before + after - kernel
    if span < 0:
        return 0
    count = (span + stride - 1) // stride + 1
    if (count - 1) * stride >= size + before:
        count -= 1
    return max(0, (count - 1) * stride + kernel - (size + before + after))
"""#
        case .paddedConv2d: return #"""
class PaddedConv2d(nn.Conv2d):
    """nn.Conv2d with padding it cannot express: TensorFlow's "same" (computed from each input's
    size) or uneven amounts (left, right, top, bottom), applied with F.pad before the convolution."""

    def __init__(self, *args, pad, **kwargs):
        super().__init__(*args, **kwargs)
        self.pad = pad

    def forward(self, x):
        pad = same_padding(x.shape[-2:], self.kernel_size, self.stride, self.dilation) if self.pad == "same" else self.pad
        return super().forward(F.pad(x, pad))
"""#
        case .separableConv2d: return #"""
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
"""#
        case .batchNorm: return #"""
class _GraftNorm:
    """BatchNorm as graft keeps it: no num_batches_tracked counter (the momentum is fixed), and γ or β
    optional (Keras's scale=False, center=False), so state_dict keys are graft's."""

    def __init__(self, channels, eps=1e-5, momentum=0.1, scale=True, center=True):
        super().__init__(channels, eps=eps, momentum=momentum, affine=scale or center)
        self.num_batches_tracked = None
        if self.affine and not scale:
            self.weight = None
        if self.affine and not center:
            self.bias = None

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, *args):
        # Version 2 tells _BatchNorm not to add a num_batches_tracked key of its own.
        super()._load_from_state_dict(state_dict, prefix, {**local_metadata, "version": 2}, *args)


class BatchNorm1d(_GraftNorm, nn.BatchNorm1d):
    pass


class BatchNorm2d(_GraftNorm, nn.BatchNorm2d):
    pass
"""#
        case .pool2d: return #"""
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
"""#
        case .globalPool2d: return #"""
class GlobalPool2d(nn.Module):
    """The mean (or maximum) of each channel over height and width."""

    def __init__(self, kind="avg", keepdim=False):
        super().__init__()
        self.kind, self.keepdim = kind, keepdim

    def forward(self, x):
        return x.amax((2, 3), keepdim=self.keepdim) if self.kind == "max" else x.mean((2, 3), keepdim=self.keepdim)
"""#
        case .erf: return #"""
class Erf(nn.Module):
    def forward(self, x):
        return torch.erf(x)
"""#
        case .sqrt: return #"""
class Sqrt(nn.Module):
    def forward(self, x):
        return torch.sqrt(x)
"""#
        case .dropPath: return #"""
class DropPath(nn.Module):
    """Stochastic depth (torchvision's StochasticDepth, mode "row"): while training, each sample's
    branch is dropped with probability p and the others scaled by 1 / (1 - p)."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = (torch.rand((x.shape[0],) + (1,) * (x.dim() - 1), device=x.device) >= self.p).to(x.dtype)
        return x * keep / (1 - self.p)
"""#
        case .reshape: return #"""
class Reshape(nn.Module):
    """Reshapes each sample to `target` (one size may be -1); the last `trailing` sizes come from the input."""

    def __init__(self, target, trailing=0):
        super().__init__()
        self.target, self.trailing = tuple(target), trailing

    def forward(self, x):
        target = self.target
        if self.trailing:
            target = target[: len(target) - self.trailing] + tuple(x.shape[x.dim() - self.trailing:])
        return x.reshape((x.shape[0],) + target)
"""#
        case .merge: return #"""
class Merge(nn.Module):
    """Combines its inputs: add, subtract, multiply, divide (left to right, broadcasting) or concat (channels)."""

    def __init__(self, op):
        super().__init__()
        self.op = op

    def forward(self, *xs):
        if self.op == "concat":
            return torch.cat(xs, 1) if len(xs) > 1 else xs[0]
        out = xs[0]
        for x in xs[1:]:
            out = {"add": torch.add, "subtract": torch.sub, "multiply": torch.mul, "divide": torch.div}[self.op](out, x)
        return out
"""#
        case .permute: return #"""
class Permute(nn.Module):
    """Reorders the sample axes (Keras's Permute; the batch axis stays first)."""

    def __init__(self, order):
        super().__init__()
        self.order = tuple(order)

    def forward(self, x):
        return x.permute((0,) + tuple(a + 1 for a in self.order))
"""#
        case .rescale: return #"""
class Rescale(nn.Module):
    """x · scale + offset, per channel when given per channel (Keras's Rescaling and Normalization)."""

    def __init__(self, scale, offset):
        super().__init__()
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32), persistent=False)
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float32), persistent=False)

    def forward(self, x):
        def per_channel(v):
            return v[0] if v.numel() == 1 else v.reshape((-1,) + (1,) * (x.dim() - 2))
        return x * per_channel(self.scale) + per_channel(self.offset)
"""#
        case .constantOp: return #"""
class ConstantOp(nn.Module):
    """x with a constant: add, subtract, reverse_subtract (c - x), multiply, divide, reverse_divide.
    A constant that is not a single number is a parameter named `constant`."""

    def __init__(self, op, scalar=None, shape=None):
        super().__init__()
        self.op, self.scalar = op, scalar
        self.constant = nn.Parameter(torch.zeros(shape)) if scalar is None else None

    def forward(self, x):
        c = self.scalar if self.scalar is not None else self.constant
        return {"add": lambda: x + c, "subtract": lambda: x - c, "reverseSubtract": lambda: c - x,
                "multiply": lambda: x * c, "divide": lambda: x / c, "reverseDivide": lambda: c / x}[self.op]()
"""#
        case .clamp: return #"""
class Clamp(nn.Module):
    def __init__(self, low, high):
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x):
        return torch.clamp(x, self.low, self.high)
"""#
        case .layerNorm: return #"""
class LayerNorm(nn.Module):
    """Normalizes over one sample axis (axis 0: the channels, as ConvNeXt's LayerNorm2d), with γ and β
    along that axis."""

    def __init__(self, channels, eps=1e-5, axis=0, scale=True, center=True):
        super().__init__()
        self.eps, self.axis = eps, axis
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None

    def forward(self, x):
        a = self.axis + 1
        centered = x - x.mean(a, keepdim=True)
        y = centered / torch.sqrt((centered * centered).mean(a, keepdim=True) + self.eps)
        shape = (-1,) + (1,) * (x.dim() - 2 - self.axis)
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y
"""#
        case .crop: return #"""
class Crop2d(nn.Module):
    """Removes rows and columns at the edges: (left, right, top, bottom)."""

    def __init__(self, crop):
        super().__init__()
        self.crop = crop

    def forward(self, x):
        left, right, top, bottom = self.crop
        return x[..., top: x.shape[-2] - bottom, left: x.shape[-1] - right]
"""#
        case .reduceMean: return #"""
class ReduceMean(nn.Module):
    """The mean over sample axes (0 = the first after the batch); a result of one value per sample keeps an axis."""

    def __init__(self, axes, keepdim):
        super().__init__()
        self.axes, self.keepdim = tuple(a + 1 for a in axes), keepdim

    def forward(self, x):
        y = x.mean(self.axes, keepdim=self.keepdim)
        return y.reshape(x.shape[0], 1) if y.dim() == 1 else y
"""#
        case .slice: return #"""
class Slice(nn.Module):
    """start:end:step along one sample axis."""

    def __init__(self, axis, start, end, step=1):
        super().__init__()
        self.axis, self.start, self.end, self.step = axis + 1, start, end, step

    def forward(self, x):
        index = [slice(None)] * x.dim()
        index[self.axis] = slice(self.start, min(self.end, x.shape[self.axis]), self.step)
        return x[tuple(index)]
"""#
        case .layerScale: return #"""
class LayerScale(nn.Module):
    """Multiplies each channel by a learned scale (ConvNeXt), a parameter named layer_scale."""

    def __init__(self, channels, initial=1e-6):
        super().__init__()
        self.layer_scale = nn.Parameter(torch.full((channels, 1, 1), initial))

    def forward(self, x):
        return x * self.layer_scale.reshape((-1,) + (1,) * (x.dim() - 2))
"""#
        }
    }
}
