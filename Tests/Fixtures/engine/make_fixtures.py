"""Reference outputs for graft's engine tests, computed with PyTorch.

Run from the repository root with a Python that has torch and numpy:
    Benchmarks/.venv/bin/python Tests/Fixtures/engine/make_fixtures.py
It rewrites Tests/Fixtures/engine/reference.json. Inputs come from a seeded NumPy generator,
so the file is reproducible for a given torch version (recorded in the file).
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
rng = np.random.default_rng(20261129)


def array(*shape, low=-1.0, high=1.0):
    return rng.uniform(low, high, size=shape).astype(np.float32)


def encode(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "data": [float(v) for v in a.reshape(-1)]}


def run(inputs, fn):
    """Applies fn to leaf tensors, backpropagates a fixed random upstream gradient, returns outputs and grads."""
    leaves = {k: torch.tensor(v, requires_grad=True) for k, v in inputs.items()}
    out = fn(**leaves)
    upstream = array(*out.shape)
    out.backward(torch.tensor(upstream))
    grads = {k: encode(t.grad.numpy()) for k, t in leaves.items()}
    return {"output": encode(out.detach().numpy()), "upstream": encode(upstream), "grads": grads}


cases = {}


def case(name, params, inputs, fn):
    result = run(inputs, fn)
    cases[name] = {"params": params, "inputs": {k: encode(v) for k, v in inputs.items()}, **result}


case("conv2d_stride2_pad1_bias", {"stride": [2, 2], "padding": [1, 1, 1, 1], "dilation": [1, 1], "groups": 1},
     {"x": array(2, 3, 7, 6), "weight": array(4, 3, 3, 3), "bias": array(4)},
     lambda x, weight, bias: F.conv2d(x, weight, bias, stride=2, padding=1))
case("conv2d_groups2_dilation2", {"stride": [1, 1], "padding": [2, 2, 2, 2], "dilation": [2, 2], "groups": 2},
     {"x": array(2, 4, 6, 6), "weight": array(6, 2, 3, 3)},
     lambda x, weight: F.conv2d(x, weight, stride=1, padding=2, dilation=2, groups=2))
# TensorFlow "SAME" on a stride-2 layer pads only bottom/right: F.pad then a valid convolution.
case("conv2d_depthwise_same_stride2", {"stride": [2, 2], "padding": [0, 1, 0, 1], "dilation": [1, 1], "groups": 5},
     {"x": array(1, 5, 8, 8), "weight": array(5, 1, 3, 3)},
     lambda x, weight: F.conv2d(F.pad(x, (0, 1, 0, 1)), weight, stride=2, groups=5))
# 3×3 stride-1 convolutions with at least 16 channels take graft's Winograd F(2×2, 3×3) path.
case("conv2d_3x3_winograd_pad1_bias", {"stride": [1, 1], "padding": [1, 1, 1, 1], "dilation": [1, 1], "groups": 1},
     {"x": array(2, 16, 9, 7), "weight": array(16, 16, 3, 3), "bias": array(16)},
     lambda x, weight, bias: F.conv2d(x, weight, bias, padding=1))
case("conv2d_3x3_winograd_asymmetric", {"stride": [1, 1], "padding": [0, 1, 2, 0], "dilation": [1, 1], "groups": 1},
     {"x": array(1, 24, 8, 10), "weight": array(16, 24, 3, 3)},
     lambda x, weight: F.conv2d(F.pad(x, (2, 0, 0, 1)), weight))
case("maxpool2d_k3_s2_p1", {"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1, 1, 1]},
     {"x": array(2, 3, 7, 7)},
     lambda x: F.max_pool2d(x, 3, 2, 1))
case("avgpool2d_k3_s2_p1_count_pad", {"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1, 1, 1], "count_padding": True},
     {"x": array(2, 3, 7, 6)},
     lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=True))
case("avgpool2d_k3_s2_p1_exclude_pad", {"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1, 1, 1], "count_padding": False},
     {"x": array(2, 3, 7, 6)},
     lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False))

running_mean, running_var = array(3, low=-0.5, high=0.5), array(3, low=0.5, high=2.0)
for training in (True, False):
    rm, rv = torch.tensor(running_mean), torch.tensor(running_var)
    name = "batchnorm_train" if training else "batchnorm_eval"
    case(name, {"training": training, "momentum": 0.1, "epsilon": 1e-3,
                "running_mean": encode(running_mean), "running_var": encode(running_var)},
         {"x": array(4, 3, 5, 5, low=-2, high=3), "weight": array(3, low=0.5, high=1.5), "bias": array(3)},
         lambda x, weight, bias, rm=rm, rv=rv, training=training:
             F.batch_norm(x, rm, rv, weight, bias, training=training, momentum=0.1, eps=1e-3))
    cases[name]["params"]["running_mean_after"] = encode(rm.numpy())
    cases[name]["params"]["running_var_after"] = encode(rv.numpy())

labels = [int(v) for v in rng.integers(0, 5, size=6)]
for smoothing in (0.0, 0.1):
    case(f"cross_entropy_smoothing{smoothing}", {"labels": labels, "label_smoothing": smoothing},
         {"logits": array(6, 5, low=-3, high=3)},
         lambda logits, s=smoothing: F.cross_entropy(logits, torch.tensor(labels), label_smoothing=s))

case("matmul_batched_by_matrix", {}, {"a": array(3, 4, 5), "b": array(5, 6)}, lambda a, b: a @ b)
case("matmul_batched", {}, {"a": array(2, 3, 4), "b": array(2, 4, 5)}, lambda a, b: a @ b)
case("softmax_axis1", {"axis": 1}, {"x": array(2, 4, 3, low=-4, high=4)}, lambda x: F.softmax(x, dim=1))
case("log_softmax_last", {"axis": -1}, {"x": array(3, 7, low=-4, high=4)}, lambda x: F.log_softmax(x, dim=-1))

activations = {
    "relu": F.relu, "relu6": F.relu6, "leaky_relu": lambda x: F.leaky_relu(x, 0.1), "sigmoid": torch.sigmoid,
    "tanh": torch.tanh, "gelu": F.gelu, "silu": F.silu, "hardsigmoid": F.hardsigmoid, "hardswish": F.hardswish,
}
for name, fn in activations.items():
    case(f"activation_{name}", {}, {"x": array(4, 9, low=-7, high=8)}, lambda x, fn=fn: fn(x))

# Class weights (CrossEntropyLoss(weight=)), with and without smoothing; a class weighing 0 among them.
weighted_labels = [int(v) for v in rng.integers(0, 4, size=7)]
class_weights = [0.5, 2.0, 0.0, 1.25]
for smoothing in (0.0, 0.2):
    case(f"cross_entropy_weighted_smoothing{smoothing}",
         {"labels": weighted_labels, "label_smoothing": smoothing, "class_weights": class_weights},
         {"logits": array(7, 4, low=-3, high=3)},
         lambda logits, s=smoothing: F.cross_entropy(logits, torch.tensor(weighted_labels),
                                                     weight=torch.tensor(class_weights), label_smoothing=s))



def self_attention(qkv, heads):
    """timm's Attention after its qkv linear: q, k, v each [N, T, D], head h in columns h·d…(h+1)·d."""
    n, t, width = qkv.shape[0], qkv.shape[1], qkv.shape[2] // 3
    q, k, v = (part.reshape(n, t, heads, width // heads).transpose(1, 2) for part in qkv.split(width, dim=-1))
    return F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(n, t, width)


case("self_attention_2heads", {"heads": 2}, {"qkv": array(2, 7, 24, low=-2, high=2)}, lambda qkv: self_attention(qkv, 2))
case("self_attention_3heads_long", {"heads": 3}, {"qkv": array(1, 40, 36, low=-3, high=3)}, lambda qkv: self_attention(qkv, 3))
case("activation_gelu_tanh", {}, {"x": array(4, 9, low=-7, high=8)}, lambda x: F.gelu(x, approximate="tanh"))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")
with open(path + ".tmp", "w") as f:
    json.dump({"generator": "Tests/Fixtures/engine/make_fixtures.py", "torch": torch.__version__,
               "numpy_seed": 20261129, "cases": cases}, f, separators=(",", ":"))
os.replace(path + ".tmp", path)
print(f"wrote {len(cases)} cases to {path}")
