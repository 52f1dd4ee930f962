"""Training steps from PyTorch for graft's trainer tests (issue 9: softmax outputs, fine-tuning BatchNorm).

Run from the repository root with torch installed (torch 2.x):
    Benchmarks/.venv/bin/python Tests/Fixtures/nn/make_training_fixtures.py
Writes Tests/Fixtures/nn/training.json:
- "softmax": a Dense(4→16)-ReLU-Dense(16→3) classifier. PyTorch trains its logits with cross-entropy
  (one SGD step, lr 0.1, momentum 0.9); graft must give the same loss and weights whether or not the
  model ends in a softmax layer.
- "bn_finetune": Conv2d(2→3, 3×3, pad 1)-BatchNorm2d-ReLU-global average pool-Linear(3→2) with
  pretrained-like BatchNorm statistics, every parameter requiring grad but the BatchNorm module in
  eval mode (the Keras fine-tuning rule), two SGD steps (lr 0.05, momentum 0.9).
Seeds: numpy default_rng(2026) for data, torch.manual_seed(9) for weights.
"""
import json
import os

import numpy as np
import torch

torch.manual_seed(9)
rng = np.random.default_rng(2026)
out = {"torch": torch.__version__}


def tensor_list(module):
    return {k: v.detach().numpy().astype(np.float64).ravel().tolist() for k, v in module.state_dict().items()}


# Softmax output: the loss is cross-entropy on the logits (what graft must compute on a softmax model).
net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
x = rng.normal(size=(8, 4)).astype(np.float32)
y = np.array([0, 1, 2, 0, 1, 2, 2, 1])
before = tensor_list(net)
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
logits = net(torch.tensor(x))
loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y))
opt.zero_grad()
loss.backward()
opt.step()
with torch.no_grad():
    probabilities = torch.softmax(net(torch.tensor(x)), dim=1)
    loss_after = torch.nn.functional.cross_entropy(net(torch.tensor(x)), torch.tensor(y)).item()
out["softmax"] = {"x": x.ravel().tolist(), "y": y.tolist(), "before": before, "loss": loss.item(), "after": tensor_list(net),
                  "loss_after": loss_after, "probabilities_after": probabilities.numpy().ravel().tolist()}

# Fine-tuning with BatchNorm in inference mode: γ and β train, the running statistics stay.
net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.BatchNorm2d(3), torch.nn.ReLU(),
                          torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, 2))
with torch.no_grad():
    net[1].running_mean.copy_(torch.tensor(rng.normal(size=3).astype(np.float32)))
    net[1].running_var.copy_(torch.tensor(rng.uniform(0.5, 2, size=3).astype(np.float32)))
    net[1].weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, size=3).astype(np.float32)))
    net[1].bias.copy_(torch.tensor(rng.normal(size=3).astype(np.float32) * 0.1))
x = rng.normal(size=(4, 2, 5, 5)).astype(np.float32)
y = np.array([0, 1, 1, 0])
before = tensor_list(net)
net.train()
net[1].eval()
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
losses = []
for _ in range(2):
    loss = torch.nn.functional.cross_entropy(net(torch.tensor(x)), torch.tensor(y))
    opt.zero_grad()
    loss.backward()
    opt.step()
    losses.append(loss.item())
out["bn_finetune"] = {"x": x.ravel().tolist(), "y": y.tolist(), "before": before, "losses": losses, "after": tensor_list(net)}

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "training.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path)
