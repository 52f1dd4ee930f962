"""Parity fixtures for graft's ONNX importer and the ResNet-18 checkpoints, made with onnxruntime and PyTorch.

Run from the repository root with torch, torchvision, onnx, onnxruntime and numpy installed:
    Benchmarks/.venv/bin/python Tests/Fixtures/formats/make_onnx_fixtures.py
Writes, under Tests/Fixtures/formats/:
  ppocr_input.npy, ppocr_output.npy        ppocr-cls.onnx on a fixed input (seed 11), by onnxruntime
  resnet18.pth.gz, resnet18.onnx.gz        torchvision ResNet-18 (10 classes, seed 0), saved by torch.save
                                           (zip) and exported by torch.onnx.export (opset 17, BatchNorm kept),
                                           each gzipped; the tests inflate them. Weights lie on a per-tensor
                                           power-of-two grid of about 128 steps so that the files compress
                                           below 20 MB (45 MB each inflated).
  resnet18_input.npy, resnet18_logits.npy  a fixed input (seed 12) and PyTorch's logits
  resnet18_onnx_logits.npy                 onnxruntime's logits for the exported file
"""
import gzip
import os

import numpy as np
import onnxruntime as ort
import torch
import torchvision

here = os.path.dirname(os.path.abspath(__file__))
models = os.path.join(here, "..", "..", "..", "Examples", "models")
options = ort.SessionOptions()
options.intra_op_num_threads = 1

session = ort.InferenceSession(os.path.join(models, "ppocr-cls.onnx"), options)
x = np.random.default_rng(11).uniform(-1, 1, (2, 3, 48, 192)).astype(np.float32)
np.save(os.path.join(here, "ppocr_input.npy"), x)
np.save(os.path.join(here, "ppocr_output.npy"), session.run(None, {"x": x})[0].astype(np.float32))

torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=10)
with torch.no_grad():
    for p in model.parameters():
        largest = p.abs().max().item()
        if largest > 0:  # BatchNorm biases start at zero
            step = 2.0 ** np.floor(np.log2(largest / 64))
            p.copy_(torch.round(p / step) * step)
    # Realistic BatchNorm statistics: a few training-mode passes over random images.
    model.train()
    for _ in range(5):
        model(torch.rand(16, 3, 64, 64) * 2 - 1)
    for name, b in model.named_buffers():
        if b.dtype == torch.float32:
            b.copy_(b.half().float())
model.eval()
pth = os.path.join(here, "resnet18.pth")
torch.save(model.state_dict(), pth)
x = np.random.default_rng(12).uniform(-1, 1, (2, 3, 64, 64)).astype(np.float32)
with torch.no_grad():
    logits = model(torch.from_numpy(x)).numpy()
np.save(os.path.join(here, "resnet18_input.npy"), x)
np.save(os.path.join(here, "resnet18_logits.npy"), logits)
torch.onnx.export(model, torch.from_numpy(x), os.path.join(here, "resnet18.onnx"), opset_version=17, dynamo=False,
                  input_names=["image"], output_names=["logits"], dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                  do_constant_folding=False)  # keeps BatchNormalization nodes and the grid weights
session = ort.InferenceSession(os.path.join(here, "resnet18.onnx"), options)
np.save(os.path.join(here, "resnet18_onnx_logits.npy"), session.run(None, {"image": x})[0].astype(np.float32))
for name in ["resnet18.pth", "resnet18.onnx"]:
    path = os.path.join(here, name)
    with open(path, "rb") as raw, open(path + ".gz", "wb") as packed:
        packed.write(gzip.compress(raw.read(), compresslevel=9, mtime=0))
    os.remove(path)
print("wrote ONNX fixtures")
