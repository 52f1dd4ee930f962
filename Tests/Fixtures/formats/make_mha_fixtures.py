"""Fixtures for the ONNX import of nn.MultiheadAttention (VisionTransformerTests): a small
torchvision VisionTransformer, whose attention keeps the tokens first and the batch second
([T, N, C], then [T, N·heads, d] and [T·N, C]), as torch.onnx.export writes it with the TorchScript
exporter (opset 17) and the dynamo exporter (opset 18), with an input of two samples and PyTorch's
output. Random weights (seeded); nothing is downloaded.

    python Tests/Fixtures/formats/make_mha_fixtures.py
(with torch, torchvision and onnxruntime: scripts/check-zoo.sh's virtual environment has them).
Written with torch 2.15, torchvision 0.29; seed 13."""
import os

import numpy as np
import onnxruntime as ort
import torch
import torchvision

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(13)
torch.set_num_threads(1)
rng = np.random.default_rng(13)


def save(name, array):
    np.save(os.path.join(here, name), np.ascontiguousarray(array, dtype=np.float32))


model = torchvision.models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=96, num_classes=5)
with torch.no_grad():
    for name, p in model.named_parameters():
        # Norm scales near 1, everything else large enough that a wrong order or scale shows.
        p.copy_(1 + 0.2 * torch.randn_like(p) if "ln" in name and name.endswith("weight") else 0.08 * torch.randn_like(p))
model.eval()
x = rng.normal(0, 1, (2, 3, 32, 32)).astype(np.float32)
with torch.no_grad():
    y = model(torch.from_numpy(x)).numpy()
save("mha_vit_input.npy", x)
save("mha_vit_output.npy", y)
for name, dynamo, opset in [("mha_vit_torch17.onnx", False, 17), ("mha_vit_dynamo18.onnx", True, 18)]:
    path = os.path.join(here, name)
    options = dict(dynamic_shapes={"x": {0: torch.export.Dim("N", min=1, max=64)}}, external_data=False) if dynamo else \
        dict(input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    torch.onnx.export(model, (torch.from_numpy(x),), path, opset_version=opset, dynamo=dynamo, **options)
    session = ort.InferenceSession(path)
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert np.abs(got - y).max() < 1e-5, (name, np.abs(got - y).max())
    print(name, os.path.getsize(path), "bytes")
