"""ONNX fixtures for TimmCNNTests: a small EfficientViT (timm's MIT EfficientViT-B definition: widths
8-8-16-16-32, one block per stage, head width 8, random weights, seeded) as torch.onnx.export writes
it, with the TorchScript exporter (opset 17) and the dynamo exporter (opset 18). Its linear attention
(LiteMLA) splits q, k and v off a [N, heads, H·W, 3·d] view, pads v with a column of ones
(F.pad(v, (0, 1), value=1)), multiplies kᵀ·v and q·(kᵀv), and divides by the last column. On 48x48
images. Each file is checked against onnxruntime here; the tests compare graft with PyTorch's
outputs, saved beside.

    python Tests/Fixtures/formats/make_efficientvit_onnx_fixtures.py
(with torch, timm and onnxruntime: scripts/check-zoo.sh's virtual environment has them). Written
with torch 2.15, timm 1.0; seed 19. Nothing is downloaded."""
import os

import numpy as np
import onnxruntime as ort
import torch
from timm.models.efficientvit_mit import EfficientVit

here = os.path.dirname(os.path.abspath(__file__))
torch.set_num_threads(1)
torch.manual_seed(19)
rng = np.random.default_rng(19)
x = rng.uniform(-1, 1, (2, 3, 48, 48)).astype(np.float32)
np.save(os.path.join(here, "efficientvit_onnx_input.npy"), x)

model = EfficientVit(widths=(8, 8, 16, 16, 32), depths=(1, 1, 1, 1, 1), head_dim=8, head_widths=(48, 64), num_classes=5)
with torch.no_grad():
    for name, p in model.named_parameters():
        if name.endswith("weight") and p.dim() == 1:
            p.copy_(1 + 0.2 * torch.randn_like(p))
        else:
            p.copy_(0.3 * torch.randn_like(p))
    for name, b in model.named_buffers():
        if name.endswith("running_var"):
            b.copy_(0.5 + torch.rand_like(b))
        elif name.endswith("running_mean"):
            b.copy_(0.1 * torch.randn_like(b))
model.eval()
with torch.no_grad():
    want = model(torch.from_numpy(x)).numpy()
np.save(os.path.join(here, "efficientvit_onnx_output.npy"), want)
print("output scale", np.abs(want).max(), "parameters", sum(p.numel() for p in model.parameters()))
for suffix, dynamo, opset in [("torch17", False, 17), ("dynamo18", True, 18)]:
    path = os.path.join(here, f"efficientvit_{suffix}.onnx")
    options = dict(dynamic_shapes={"x": {0: torch.export.Dim("N", min=1, max=64)}}, external_data=False) if dynamo else \
        dict(input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    torch.onnx.export(model, (torch.from_numpy(x),), path, opset_version=opset, dynamo=dynamo, **options)
    session = ort.InferenceSession(path)
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max(), (path, np.abs(got - want).max())
    print(os.path.basename(path), os.path.getsize(path), "bytes")
