"""GroupNorm fixtures for GroupNormTests: the same small network as PyTorch writes it to ONNX
(opset 17: Reshape, InstanceNormalization, Reshape, Mul, Add) and hand-built ONNX graphs of opset 18's
and 21's GroupNormalization (per-group and per-channel scale), and as Keras 3 saves it with
GroupNormalization (.keras and .h5); each with an input and the framework's output. Random weights
(seeded); nothing is downloaded.

    python Tests/Fixtures/formats/make_groupnorm_fixtures.py
(with torch, onnx, onnxruntime and keras 3 on tensorflow: scripts/check-zoo.sh's virtual environment
has them all). Written with torch 2.x, onnx 1.x, onnxruntime 1.x, keras 3.x; seeds 7 and 8."""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
torch.manual_seed(7)


def save(name, array):
    np.save(os.path.join(here, name), np.ascontiguousarray(array, dtype=np.float32))


# PyTorch: GroupNorm in 4 groups, one group per channel (instance norm) and one group for all.
net = torch.nn.Sequential(
    torch.nn.Conv2d(3, 8, 3, padding=1),
    torch.nn.GroupNorm(4, 8, eps=1e-5),
    torch.nn.ReLU(),
    torch.nn.Conv2d(8, 6, 1),
    torch.nn.GroupNorm(6, 6, eps=1e-4),
    torch.nn.GroupNorm(1, 6, eps=1e-5, affine=False),
).eval()
with torch.no_grad():
    for module in net:
        if isinstance(module, torch.nn.GroupNorm) and module.affine:
            module.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, module.num_channels), dtype=torch.float32))
            module.bias.copy_(torch.tensor(rng.normal(0, 0.3, module.num_channels), dtype=torch.float32))
x = rng.normal(0, 1, (2, 3, 9, 7)).astype(np.float32)
with torch.no_grad():
    y = net(torch.from_numpy(x)).numpy()
save("groupnorm_input.npy", x)
save("groupnorm_torch_output.npy", y)
torch.onnx.export(net, torch.from_numpy(x), os.path.join(here, "groupnorm_torch17.onnx"), opset_version=17,
                  input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, dynamo=False)
session = ort.InferenceSession(os.path.join(here, "groupnorm_torch17.onnx"))
assert np.allclose(session.run(None, {"input": x})[0], y, atol=1e-5)


# ONNX GroupNormalization, hand-built: opset 18 (scale and bias per group) and 21 (per channel).
def group_norm_graph(opset, scale, bias, groups):
    node = helper.make_node("GroupNormalization", ["x", "scale", "bias"], ["y"], name="gn", num_groups=groups, epsilon=1e-5)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6, 5, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 6, 5, 4])],
        [numpy_helper.from_array(scale, "scale"), numpy_helper.from_array(bias, "bias")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8 if opset < 21 else 10
    if opset >= 21:  # the checker calls opset 18's form deprecated; exporters of its time wrote it all the same
        onnx.checker.check_model(model)
    return model


def reference(x, scale, bias, groups, eps=1e-5):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1).astype(np.float64)
    normalized = ((g - g.mean(axis=2, keepdims=True)) / np.sqrt(g.var(axis=2, keepdims=True) + eps)).reshape(x.shape)
    return normalized * scale.reshape(1, c, 1, 1) + bias.reshape(1, c, 1, 1)


x2 = rng.normal(0.5, 2, (2, 6, 5, 4)).astype(np.float32)
save("groupnorm_onnx_input.npy", x2)
group_scale, group_bias = rng.uniform(0.5, 1.5, 3).astype(np.float32), rng.normal(0, 0.5, 3).astype(np.float32)
channel_scale, channel_bias = rng.uniform(0.5, 1.5, 6).astype(np.float32), rng.normal(0, 0.5, 6).astype(np.float32)
for opset, scale, bias, per_channel in [(18, group_scale, group_bias, np.repeat(group_scale, 2)), (21, channel_scale, channel_bias, channel_scale)]:
    model = group_norm_graph(opset, scale, bias, 3)
    path = os.path.join(here, f"groupnorm_opset{opset}.onnx")
    onnx.save(model, path)
    expected = reference(x2, per_channel, np.repeat(bias, 2) if opset == 18 else bias, 3)
    try:  # onnxruntime, where it runs the opset; the float64 reference above either way
        got = ort.InferenceSession(path).run(None, {"x": x2})[0]
        assert np.allclose(got, expected, atol=1e-5), f"opset {opset}: onnxruntime disagrees with the definition"
    except Exception as error:  # noqa: BLE001
        print(f"opset {opset}: onnxruntime did not run it ({str(error)[:120]}); the reference stands")
    save(f"groupnorm_opset{opset}_output.npy", expected)


# Keras 3: GroupNormalization in 4 groups, one per channel (groups=-1) without β.
import keras  # noqa: E402
from keras import layers  # noqa: E402

keras.utils.set_random_seed(8)
inputs = keras.Input((9, 7, 3))
h = layers.Conv2D(8, 3, padding="same")(inputs)
h = layers.GroupNormalization(groups=4, epsilon=1e-3)(h)
h = layers.Activation("relu")(h)
h = layers.Conv2D(6, 1)(h)
outputs = layers.GroupNormalization(groups=-1, center=False)(h)
model = keras.Model(inputs, outputs)
for layer in model.layers:
    if isinstance(layer, layers.GroupNormalization):
        for w in layer.weights:
            w.assign(rng.uniform(0.5, 1.5, w.shape).astype(np.float32) if "gamma" in w.path else rng.normal(0, 0.3, w.shape).astype(np.float32))
xk = rng.uniform(-1, 1, (2, 9, 7, 3)).astype(np.float32)
yk = model(xk, training=False).numpy()
model.save(os.path.join(here, "groupnorm_keras.keras"))
model.save(os.path.join(here, "groupnorm_keras.h5"))
# graft's layout: NCHW.
save("groupnorm_keras_input.npy", xk.transpose(0, 3, 1, 2))
save("groupnorm_keras_output.npy", yk.transpose(0, 3, 1, 2))
print("written:", sorted(f for f in os.listdir(here) if f.startswith("groupnorm")))
