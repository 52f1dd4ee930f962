"""Optimizer steps and learning-rate schedules from PyTorch, for graft's GraftNN tests.

Run from the repository root with torch installed:
    Benchmarks/.venv/bin/python Tests/Fixtures/nn/make_fixtures.py
Writes Tests/Fixtures/nn/optimizers.json: for each optimizer setting, the starting parameter, the
gradient fed at each of 4 steps, and the parameter after each step; and schedule values.
"""
import json
import os

import numpy as np
import torch

rng = np.random.default_rng(77)
start = rng.uniform(-1, 1, 6).astype(np.float32)
grads = [rng.uniform(-1, 1, 6).astype(np.float32) for _ in range(4)]
settings = {
    "sgd": (torch.optim.SGD, dict(lr=0.1)),
    "sgd_momentum_wd": (torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    "sgd_nesterov": (torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    "adam_wd": (torch.optim.Adam, dict(lr=0.01, weight_decay=0.1)),
    "adamw": (torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1)),
    "rmsprop": (torch.optim.RMSprop, dict(lr=0.01)),
    "rmsprop_momentum": (torch.optim.RMSprop, dict(lr=0.01, momentum=0.9)),
}
out = {"torch": torch.__version__, "start": start.tolist(), "grads": [g.tolist() for g in grads], "optimizers": {}, "schedules": {}}
for name, (cls, options) in settings.items():
    p = torch.nn.Parameter(torch.tensor(start))
    optimizer = cls([p], **options)
    after = []
    for g in grads:
        optimizer.zero_grad()
        p.grad = torch.tensor(g)
        optimizer.step()
        after.append(p.detach().numpy().copy().tolist())
    out["optimizers"][name] = {"options": options, "after": after}

# Schedules over 20 steps from base rate 0.1.
def rates(make):
    p = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([p], lr=0.1)
    scheduler = make(optimizer)
    values = []
    for _ in range(20):
        values.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return values

out["schedules"]["onecycle"] = rates(lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=20, anneal_strategy="cos", cycle_momentum=False))
out["schedules"]["cosine"] = rates(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=20))
out["schedules"]["step_every_5_gamma_0.5"] = rates(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=5, gamma=0.5))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizers.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path)
