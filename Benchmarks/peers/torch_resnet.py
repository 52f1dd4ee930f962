"""W6 in PyTorch, 2 threads: one full fine-tuning step of torchvision's ResNet-18 (10 classes) on
3×64×64 inputs, batch 32 — forward in training mode (BatchNorm on batch statistics), cross-entropy,
backward, SGD with momentum 0.9 — timed like graft-bench: one warm-up, then median (min, max) ms.

Usage: python torch_resnet.py [repeats]. With GRAFT_PEER_CHANNELS_LAST=1 the model and the batch
are channels-last. Prints RESULT lines in graft-bench's format for Benchmarks/compare.sh.
"""
import os
import statistics
import sys

import torch
import torch.nn.functional as F
import torchvision

from timing import measure

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 10
torch.set_num_threads(2)
torch.manual_seed(6)
layout = torch.channels_last if os.environ.get("GRAFT_PEER_CHANNELS_LAST") == "1" else torch.contiguous_format
model = torchvision.models.resnet18(weights=None, num_classes=10).to(memory_format=layout).train()
x = (torch.rand(32, 3, 64, 64) * 2 - 1).to(memory_format=layout)
labels = torch.arange(32) % 10
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def step():
    optimizer.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), labels).backward()
    optimizer.step()


ms = [1e3 * t for t in measure(step, repeats)]
print(f"RESULT W6 resnet18-step-b32-64px ms {statistics.median(ms)} {min(ms)} {max(ms)}")
