"""W3 and W8 in PyTorch (2 threads), the same network and recipe as graft-bench.

W3: training images/s of the MNIST CNN (conv32-conv32-pool-dropout-dense128-dropout-dense10),
batch 128, SGD momentum 0.9, one epoch over the 5,000 digits, median of repeated epochs.
W8: the transfer recipe on the exact splits graft-bench W8 exported to Benchmarks/out/mnist-splits.
Usage: python torch_mnist.py [repeats]. Prints RESULT lines in graft-bench's format.
"""
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(42)
repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
splits = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "out", "mnist-splits")


def load(name):
    x = np.load(os.path.join(splits, f"{name}_x.npy")).astype(np.float32)
    y = np.load(os.path.join(splits, f"{name}_y.npy")).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


class MNISTCNN(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 32, 3)
        self.dropout1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 12 * 12, 128)
        self.dropout2 = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, classes)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        return torch.flatten(self.dropout1(x), 1)

    def forward(self, x):
        return self.fc2(self.dropout2(F.relu(self.fc1(self.features(x)))))


def fit(model, parameters, x, y, epochs, batch=64, lr=0.01):
    optimizer = torch.optim.SGD(parameters, lr=lr, momentum=0.9)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(y))
        for start in range(0, len(y), batch):
            index = order[start:start + batch]
            optimizer.zero_grad()
            F.cross_entropy(model(x[index]), y[index]).backward()
            optimizer.step()


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def report(workload, name, unit, values):
    print(f"RESULT {workload} {name} {unit} {statistics.median(values)} {min(values)} {max(values)}")


# W3: throughput on all 5,000 digits (the train splits together), batch 128.
x_all = torch.cat([load("low_train")[0], load("high_train")[0], load("high_test")[0]])
y_all = torch.cat([load("low_train")[1], load("high_train")[1] + 5, load("high_test")[1] + 5])
model = MNISTCNN(10)
fit(model, model.parameters(), x_all, y_all, 1, batch=128)  # warm-up
rates = []
for _ in range(max(3, repeats)):
    start = time.perf_counter()
    fit(model, model.parameters(), x_all, y_all, 1, batch=128)
    rates.append(len(y_all) / (time.perf_counter() - start))
report("W3", "mnist-cnn-train", "images/s", rates)

# W8: the recipe.
low_x, low_y = load("low_train")
high_x, high_y = load("high_train")
test_x, test_y = load("high_test")
few_x, few_y = load("few_train")


def timed(body):
    start = time.perf_counter()
    result = body()
    return result, time.perf_counter() - start


base = MNISTCNN(5)
_, base_seconds = timed(lambda: fit(base, base.parameters(), low_x, low_y, 5))


def transfer(x, y):
    model = MNISTCNN(5)
    model.load_state_dict(base.state_dict())
    for p in list(model.conv1.parameters()) + list(model.conv2.parameters()):
        p.requires_grad_(False)
    head = nn.Linear(32 * 12 * 12, 5)
    forward = lambda inputs: head(model.features(inputs))
    class Transferred(nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.head = model, head
        def forward(self, inputs):
            return forward(inputs)
    transferred = Transferred()
    fit(transferred, head.parameters(), x, y, 5)
    return transferred


transferred, transfer_seconds = timed(lambda: transfer(high_x, high_y))
few_transferred, few_seconds = timed(lambda: transfer(few_x, few_y))
scratch = MNISTCNN(5)
_, scratch_seconds = timed(lambda: fit(scratch, scratch.parameters(), few_x, few_y, 5))
low_test_note = "(base accuracy is on the 5-9 test split for the peer; graft reports 0-4)"
for name, model_, seconds in [("transfer-5-9", transferred, transfer_seconds), ("fewshot-transfer-5-9", few_transferred, few_seconds),
                              ("fewshot-scratch-5-9", scratch, scratch_seconds)]:
    acc = accuracy(model_, test_x, test_y)
    report("W8", name, "accuracy", [acc])
    report("W8", name, "s", [seconds])
report("W8", "base-0-4", "s", [base_seconds])
