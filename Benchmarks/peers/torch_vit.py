"""W11 in PyTorch, 2 threads: one fine-tuning step of timm's vit_small_patch16_224 (10 classes) at
224×224, batch 32, with the last four blocks, the final norm and the head trainable — forward,
cross-entropy, backward, SGD with momentum 0.9 — timed like graft-bench: one warm-up, then median
(min, max) ms.

Usage: python torch_vit.py [repeats]. Prints RESULT lines in graft-bench's format for
Benchmarks/compare.sh.
"""
import statistics
import sys

import timm
import torch
import torch.nn.functional as F

from timing import measure

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 10
torch.set_num_threads(2)
torch.manual_seed(11)
model = timm.create_model("vit_small_patch16_224", pretrained=False, num_classes=10).train()
for name, p in model.named_parameters():
    p.requires_grad = name.startswith(("blocks.8.", "blocks.9.", "blocks.10.", "blocks.11.", "norm.", "head."))
x = torch.rand(32, 3, 224, 224) * 2 - 1
labels = torch.arange(32) % 10
optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)


def step():
    optimizer.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), labels).backward()
    optimizer.step()


ms = [1e3 * t for t in measure(step, repeats)]
print(f"RESULT W11 vit_s16-step-b32-last4 ms {statistics.median(ms)} {min(ms)} {max(ms)}")
