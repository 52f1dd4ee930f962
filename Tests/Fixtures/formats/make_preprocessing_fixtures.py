"""Fixtures for KerasPreprocessingTests: Keras layers people put in their own models — the Random*
augmentation layers (identity at inference), CenterCrop and UnitNormalization — in a Keras 3 model
saved as .keras and .h5, with an input and Keras's inference output; two small models for training,
one whose RandomZoom graft cannot reproduce and one whose flip and rotation it can; and PyTorch's F.normalize as torch.onnx.export
writes it (ReduceL2, Clip, Expand, Div; opset 17). Random weights (seeded); nothing is downloaded.

    python Tests/Fixtures/formats/make_preprocessing_fixtures.py
(with torch, onnxruntime and keras 3 on tensorflow: scripts/check-zoo.sh's virtual environment has
them all). Written with torch 2.15, keras 3; seeds 7 and 8."""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import onnxruntime as ort
import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
torch.manual_seed(7)


def save(name, array):
    np.save(os.path.join(here, name), np.ascontiguousarray(array, dtype=np.float32))


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        x = F.normalize(self.conv(x), dim=1)
        return F.normalize(self.fc(x.mean((2, 3))), dim=1, eps=1e-6)


net = Net().eval()
x = rng.normal(0, 1, (2, 3, 6, 5)).astype(np.float32)
x[1, :, 0, 0] = 0  # the conv's bias keeps its output off zero; the head's normalize sees real vectors
with torch.no_grad():
    y = net(torch.from_numpy(x)).numpy()
save("normalize_input.npy", x)
save("normalize_torch_output.npy", y)
path = os.path.join(here, "normalize_torch17.onnx")
torch.onnx.export(net, torch.from_numpy(x), path, opset_version=17, input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, dynamo=False)
assert np.allclose(ort.InferenceSession(path).run(None, {"input": x})[0], y, atol=1e-6)

import keras  # noqa: E402
from keras import layers  # noqa: E402

keras.utils.set_random_seed(8)
inputs = keras.Input((12, 15, 3))
h = layers.RandomFlip("horizontal_and_vertical", name="flip")(inputs)
h = layers.RandomRotation(0.1, fill_mode="constant", name="rotate")(h)
h = layers.RandomTranslation(0.125, 0.125, fill_mode="constant", name="shift")(h)
h = layers.CenterCrop(9, 10, name="crop")(h)
h = layers.Conv2D(6, 3, name="conv")(h)
h = layers.UnitNormalization(name="unit")(h)
h = layers.GlobalAveragePooling2D(name="pool")(h)
outputs = layers.Dense(4, name="dense")(h)
model = keras.Model(inputs, outputs)
xk = rng.uniform(0, 1, (2, 12, 15, 3)).astype(np.float32)
yk = model.predict(xk, verbose=0)
model.save(os.path.join(here, "preprocessing_keras.keras"))
model.save(os.path.join(here, "preprocessing_keras.h5"))
save("preprocessing_keras_input.npy", xk.transpose(0, 3, 1, 2))
save("preprocessing_keras_output.npy", yk)

zoom = keras.Sequential([keras.Input((8, 8, 3)), layers.RandomZoom(0.2, name="zoom"), layers.RandomFlip("horizontal", name="flip"),
                         layers.Flatten(), layers.Dense(2, name="dense")])
zoom.save(os.path.join(here, "preprocessing_zoom.keras"))
flip = keras.Sequential([keras.Input((8, 8, 3)), layers.RandomFlip("horizontal", name="flip"),
                         layers.RandomRotation((-0.05, 0.05), fill_mode="constant", name="rotate"),
                         layers.Flatten(), layers.Dense(2, name="dense")])
flip.save(os.path.join(here, "preprocessing_flip.keras"))
print("torch", y.shape, "keras", yk.shape)
