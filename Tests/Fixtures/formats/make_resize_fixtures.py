"""Resize fixtures for ResizeTests: the same kinds of resizing as PyTorch writes them to ONNX (opset 17:
F.interpolate nearest by 2, bilinear to a size with align_corners False and True) and as Keras 3
saves them (Resizing bilinear and nearest, UpSampling2D nearest and bilinear; .keras and .h5); each
with an input and the framework's output. Random weights (seeded); nothing is downloaded.

    python Tests/Fixtures/formats/make_resize_fixtures.py
(with torch, onnxruntime and keras 3 on tensorflow: scripts/check-zoo.sh's virtual environment has
them all). Written with torch 2.15, keras 3; seeds 5 and 6."""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(5)
torch.manual_seed(5)


def save(name, array):
    np.save(os.path.join(here, name), np.ascontiguousarray(array, dtype=np.float32))


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.head = torch.nn.Conv2d(12, 5, 1)

    def forward(self, x):
        x = self.conv(x)
        a = F.interpolate(x, scale_factor=2, mode="nearest")
        b = F.interpolate(a, size=(11, 9), mode="bilinear", align_corners=False)
        c = F.interpolate(a, size=(11, 9), mode="bilinear", align_corners=True)
        d = F.interpolate(x, size=(11, 9), mode="bilinear", align_corners=False)
        return self.head(torch.cat([b, c, d], 1))


net = Net().eval()
x = rng.normal(0, 1, (2, 3, 7, 6)).astype(np.float32)
with torch.no_grad():
    y = net(torch.from_numpy(x)).numpy()
save("resize_input.npy", x)
save("resize_torch_output.npy", y)
path = os.path.join(here, "resize_torch17.onnx")
torch.onnx.export(net, torch.from_numpy(x), path, opset_version=17, input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, dynamo=False)
assert np.allclose(ort.InferenceSession(path).run(None, {"input": x})[0], y, atol=1e-5)

import keras  # noqa: E402
from keras import layers  # noqa: E402

keras.utils.set_random_seed(6)
inputs = keras.Input((10, 12, 3))
h = layers.Conv2D(4, 3, padding="same")(inputs)
a = layers.Resizing(13, 17, interpolation="bilinear")(h)
b = layers.Resizing(7, 5, interpolation="nearest")(a)
c = layers.UpSampling2D((2, 3))(b)
d = layers.UpSampling2D(2, interpolation="bilinear")(h)
d = layers.Resizing(14, 15)(d)
outputs = layers.Conv2D(3, 1)(layers.Concatenate()([c, d]))
model = keras.Model(inputs, outputs)
xk = rng.normal(0, 1, (2, 10, 12, 3)).astype(np.float32)
yk = model.predict(xk, verbose=0)
model.save(os.path.join(here, "resize_keras.keras"))
model.save(os.path.join(here, "resize_keras.h5"))
save("resize_keras_input.npy", xk.transpose(0, 3, 1, 2))
save("resize_keras_output.npy", yk.transpose(0, 3, 1, 2))
print("torch", y.shape, "keras", yk.shape)
