"""timm CNN fixtures for TimmCNNTests: small ConvNeXts as timm builds them, under timm's key names
(random weights, seeded; nothing downloaded), each saved as its state dict (safetensors) with an
input and timm's output:

- timm_convnext_convmlp: ConvNeXt with conv_mlp=True (the MLP as 1×1 convolutions; convnext_atto…nano);
- timm_convnext_linear: conv_mlp=False (Linear layers on channels-last values; convnext_tiny and up);
- timm_efficientnet: efficientnet_b0's definition at a quarter of its width and a third of its depth
  (squeeze-excite, SiLU, padding k/2, BatchNorm eps 1e-5);
- timm_tf_efficientnet_lite: tf_efficientnet_lite0's at the same multipliers (no squeeze-excite,
  ReLU6, TensorFlow's "same" padding, eps 1e-3), also run on a 63×63 input (odd: the padding is
  asymmetric);
- timm_ghostnet: GhostNet V1 with five of ghostnet_100's stages at half width (ghost modules,
  strided depthwise convolutions and shortcuts with 3×3 and 5×5 kernels, hard-sigmoid
  squeeze-excite), also at 63×63;
- timm_rexnet: ReXNet at half width (sixteen linear bottlenecks, squeeze-excite with BatchNorm, the
  input added to a block's first channels), also at 63×63.

    python Tests/Fixtures/formats/make_timm_cnn_fixtures.py
(with torch, timm and safetensors: scripts/check-zoo.sh's virtual environment has them). Written
with torch 2.15, timm 1.0; seed 13."""
import os

import numpy as np
import torch
from safetensors.torch import save_file
from timm.models.convnext import ConvNeXt

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(13)
torch.set_num_threads(1)
rng = np.random.default_rng(13)
x = rng.normal(0, 1, (2, 3, 64, 64)).astype(np.float32)
np.save(os.path.join(here, "timm_cnn_input.npy"), x)
for name, conv_mlp in [("timm_convnext_convmlp", True), ("timm_convnext_linear", False)]:
    model = ConvNeXt(depths=(1, 1, 2, 1), dims=(16, 32, 48, 64), conv_mlp=conv_mlp, num_classes=5).eval()
    with torch.no_grad():
        for key, p in model.named_parameters():
            if "norm" in key and key.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif key.endswith("gamma"):
                p.copy_(0.5 + 0.3 * torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))
        y = model(torch.from_numpy(x)).numpy()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(here, f"{name}.safetensors"))
    np.save(os.path.join(here, f"{name}_output.npy"), y)
    print(name, sum(p.numel() for p in model.parameters()), np.abs(y).max())

# Built after the ConvNeXts, so their weights and outputs stay what they were.
from timm.models.efficientnet import _gen_efficientnet, _gen_efficientnet_lite

odd = rng.normal(0, 1, (2, 3, 63, 63)).astype(np.float32)
np.save(os.path.join(here, "timm_cnn_input_63.npy"), odd)
efficientnets = [
    ("timm_efficientnet", _gen_efficientnet("efficientnet_b0", channel_multiplier=0.25, depth_multiplier=0.34, num_classes=5)),
    ("timm_tf_efficientnet_lite", _gen_efficientnet_lite("tf_efficientnet_lite0", channel_multiplier=0.25, depth_multiplier=0.34,
                                                         bn_eps=1e-3, pad_type="same", num_classes=5)),
]
for name, model in efficientnets:
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.copy_(0.1 * torch.randn_like(module.running_mean))
                module.running_var.copy_(0.5 + torch.rand_like(module.running_var))
                module.weight.copy_(0.6 + 0.3 * torch.rand_like(module.weight))
                module.bias.copy_(0.1 * torch.randn_like(module.bias))
        for key, p in model.named_parameters():
            if "bn" not in key:
                p.copy_(torch.randn_like(p) * (2.0 / max(1, p[0].numel())) ** 0.5)
        model.eval()
        y = model(torch.from_numpy(x)).numpy()
        np.save(os.path.join(here, f"{name}_output.npy"), y)
        if "lite" in name:
            np.save(os.path.join(here, f"{name}_63_output.npy"), model(torch.from_numpy(odd)).numpy())
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(here, f"{name}.safetensors"))
    print(name, sum(p.numel() for p in model.parameters()), np.abs(y).max())

# Built after the EfficientNets, so theirs stay what they were.
from timm.models.ghostnet import GhostNet
from timm.models.rexnet import RexNet


def randomized(model):
    """BatchNorm statistics and affine maps drawn away from their inits, other weights He-scaled."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.copy_(0.1 * torch.randn_like(module.running_mean))
                module.running_var.copy_(0.5 + torch.rand_like(module.running_var))
                module.weight.copy_(0.6 + 0.3 * torch.rand_like(module.weight))
                module.bias.copy_(0.1 * torch.randn_like(module.bias))
            elif isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                module.weight.copy_(torch.randn_like(module.weight) * (2.0 / max(1, module.weight[0].numel())) ** 0.5)
                if module.bias is not None:
                    module.bias.copy_(0.1 * torch.randn_like(module.bias))
    return model.eval()


ghost_cfgs = [[[3, 16, 16, 0, 1]], [[3, 48, 24, 0, 2]], [[5, 72, 40, 0.25, 2]], [[3, 200, 80, 0, 1], [3, 480, 112, 0.25, 1]],
              [[5, 672, 160, 0.25, 2]]]
for name, model in [("timm_ghostnet", GhostNet(ghost_cfgs, width=0.5, num_classes=5)), ("timm_rexnet", RexNet(width_mult=0.5, num_classes=5))]:
    model = randomized(model)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
        np.save(os.path.join(here, f"{name}_output.npy"), y)
        np.save(os.path.join(here, f"{name}_63_output.npy"), model(torch.from_numpy(odd)).numpy())
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(here, f"{name}.safetensors"))
    print(name, sum(p.numel() for p in model.parameters()), np.abs(y).max())
