"""Parity fixtures for graft's PyTorch importer, made with PyTorch itself.

Run from the repository root with torch, numpy and efficientnet-lite-pytorch installed:
    Benchmarks/.venv/bin/python Tests/Fixtures/formats/make_pytorch_fixtures.py
Writes, under Tests/Fixtures/formats/:
  lite0_input.npy, lite0_logits.npy  a fixed input (seed 5) and EfficientNet-Lite0's logits for it,
                                     computed by the reference model code from efficientnet-lite0.pth
  tiny_zip.pth                       a small model saved by torch.save (zip format) with a permuted,
                                     non-contiguous weight and a non-zero storage offset, and its
                                     expected tensors in tiny_zip_expected.npz-like .npy files
"""
import os

import numpy as np
import torch
from efficientnet_lite_pytorch import EfficientNet

here = os.path.dirname(os.path.abspath(__file__))
assets = os.path.join(here, "..", "..", "..", "Examples", "models")
torch.manual_seed(0)
rng = np.random.default_rng(5)

model = EfficientNet.from_name("efficientnet-lite0")
state = torch.load(os.path.join(assets, "efficientnet-lite0.pth"), map_location="cpu")
model.load_state_dict(state, strict=True)
model.eval()
x = rng.uniform(-1, 1, (2, 3, 224, 224)).astype(np.float32)
with torch.no_grad():
    logits = model(torch.from_numpy(x)).numpy()
np.save(os.path.join(here, "lite0_input.npy"), x)
np.save(os.path.join(here, "lite0_logits.npy"), logits.astype(np.float32))
print("lite0 logits", logits.shape, "top-1", logits.argmax(1))

# A small state dict in the zip format with the traps real checkpoints have.
base = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
tiny = {
    "permuted.weight": base.permute(2, 0, 1),              # non-contiguous view, strides (1, 12, 4)
    "offset.weight": torch.arange(10, dtype=torch.float32)[3:7],  # storage offset 3
    "half.weight": torch.tensor([0.5, -2.0, 1024.0], dtype=torch.float16),
    "counter": torch.tensor(7, dtype=torch.int64),            # 0-d int64 (like num_batches_tracked)
}
torch.save(tiny, os.path.join(here, "tiny_zip.pth"))
for key, value in tiny.items():
    np.save(os.path.join(here, f"tiny_zip.{key}.npy"), value.to(torch.float32).contiguous().numpy())
print("wrote tiny_zip.pth")

# A safetensors file as other tools write it (the safetensors library): half and bfloat16 weights
# with MNIST-CNN parameter names, to load with arch=mnist-cnn.
from safetensors.torch import save_file

torch.manual_seed(1)
shapes = {"conv1.weight": (32, 1, 3, 3), "conv1.bias": (32,), "conv2.weight": (32, 32, 3, 3), "conv2.bias": (32,),
          "fc1.weight": (128, 4608), "fc1.bias": (128,), "fc2.weight": (5, 128), "fc2.bias": (5,)}
tensors = {k: (torch.randn(s) * 0.1).to(torch.float16 if k.endswith("weight") else torch.bfloat16) for k, s in shapes.items()}
save_file(tensors, os.path.join(here, "mnist_cnn_half.safetensors"), metadata={"format": "pt"})
for key, value in tensors.items():
    if key in ("fc2.weight", "fc2.bias"):
        np.save(os.path.join(here, f"mnist_cnn_half.{key}.npy"), value.to(torch.float32).numpy())
print("wrote mnist_cnn_half.safetensors")
