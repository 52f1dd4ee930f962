"""timm CNN fixtures for TimmCNNTests: small ConvNeXts as timm builds them, under timm's key names
(random weights, seeded; nothing downloaded), each saved as its state dict (safetensors) with an
input and timm's output:

- timm_convnext_convmlp: ConvNeXt with conv_mlp=True (the MLP as 1×1 convolutions; convnext_atto…nano);
- timm_convnext_linear: conv_mlp=False (Linear layers on channels-last values; convnext_tiny and up).

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
