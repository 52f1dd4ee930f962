"""W4 (and W5) in PyTorch, 2 threads: EfficientNet-Lite0 from the same checkpoint graft loads,
with the reference model code (PyPI efficientnet-lite-pytorch).

W4: loading the checkpoint into the model (torch.load + load_state_dict, ms), then inference, batch 8 at 224×224, images/s (median of the repeats after a warm-up).
W5: frozen backbone + new Linear(10), 512 images, 5 epochs, batch 32: wall seconds, naive (the
    backbone runs every epoch) and with features cached once.
Usage: python torch_pretrained.py [repeats] [ort]. Prints RESULT lines in graft-bench's format.
With GRAFT_PEER_CHANNELS_LAST=1 the model and its inputs are channels-last. With `ort`, the model is
exported with torch.onnx.export (opset 17) into Benchmarks/out/models/efficientnet-lite0.onnx and
W4's inference runs in onnxruntime instead (ORT_ENABLE_ALL, 2 intra-op threads).
"""
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from efficientnet_lite_pytorch import EfficientNet

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
use_ort = len(sys.argv) > 2 and sys.argv[2] == "ort"
layout = torch.channels_last if os.environ.get("GRAFT_PEER_CHANNELS_LAST") == "1" else torch.contiguous_format
torch.set_num_threads(2)
torch.manual_seed(0)
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
checkpoint = os.path.join(root, "Examples", "models", "efficientnet-lite0.pth")


def load():
    loaded = EfficientNet.from_name("efficientnet-lite0")
    loaded.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    return loaded.eval().to(memory_format=layout)


model = load()
x = (torch.rand(8, 3, 224, 224) * 2 - 1).to(memory_format=layout)
if use_ort:
    import numpy as np
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from models import ort_session
    from timing import measure
    path = os.path.join(root, "Benchmarks", "out", "models", "efficientnet-lite0.onnx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(model, (x,), path, opset_version=17, dynamo=False, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    session = ort_session(path)
    feed = {"input": x.contiguous().numpy()}
    rates = [8 / t for t in measure(lambda: session.run(None, feed), repeats)]
    print(f"RESULT W4 efficientnet-lite0-b8 images/s {statistics.median(rates)} {min(rates)} {max(rates)}")
    sys.exit(0)
load_ms = []
for _ in range(repeats):
    start = time.perf_counter()
    load()
    load_ms.append(1e3 * (time.perf_counter() - start))
print(f"RESULT W4 efficientnet-lite0-load ms {statistics.median(load_ms)} {min(load_ms)} {max(load_ms)}")

with torch.no_grad():
    model(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - start)
rates = [8 / t for t in times]
print(f"RESULT W4 efficientnet-lite0-b8 images/s {statistics.median(rates)} {min(rates)} {max(rates)}")

images = (torch.rand(512, 3, 224, 224) * 2 - 1).to(memory_format=layout)
labels = torch.randint(0, 10, (512,))
for p in model.parameters():
    p.requires_grad_(False)


def features(batch):
    return model.extract_features(batch).mean(dim=(2, 3))


def train(cached):
    head = torch.nn.Linear(1280, 10)
    optimizer = torch.optim.SGD(head.parameters(), lr=0.01, momentum=0.9)
    start = time.perf_counter()
    with torch.no_grad():
        stored = torch.cat([features(images[i:i + 32]) for i in range(0, 512, 32)]) if cached else None
    for _ in range(5):
        order = torch.randperm(512)
        for i in range(0, 512, 32):
            index = order[i:i + 32]
            with torch.no_grad():
                f = stored[index] if cached else features(images[index])
            optimizer.zero_grad()
            F.cross_entropy(head(f), labels[index]).backward()
            optimizer.step()
    return time.perf_counter() - start


# The naive loop is timed once, in the stock run (the tuned variants are compared on the cached loop).
if not os.environ.get("GRAFT_PEER_VARIANT"):
    naive = train(False)
    print(f"RESULT W5 frozen-backbone-naive s {naive} {naive} {naive}")
cached = train(True)
print(f"RESULT W5 frozen-backbone s {cached} {cached} {cached}")
