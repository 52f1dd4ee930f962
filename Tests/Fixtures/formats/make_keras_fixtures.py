"""Parity fixtures for graft's Keras importer and HDF5 reader, made with tf-keras and h5py.

Run from the repository root with tensorflow-cpu, tf_keras, h5py and numpy installed:
    Benchmarks/.venv/bin/python Tests/Fixtures/formats/make_keras_fixtures.py
Writes, under Tests/Fixtures/formats/ (inputs in graft's NCHW layout; Keras ran on NHWC):
  fer_input.npy, fer_output.npy       fer-emotion.h5 on a fixed input (seed 7): softmax probabilities
  keras_layers.h5                     a small functional model using every layer type graft imports,
  keras_layers_input.npy/_output.npy  saved by tf-keras 2 (variable-length strings), and its output
  h5_chunked.h5                       h5py datasets: chunked + deflate + shuffle, compact, int, float64
and under Tests/Fixtures/malformed/: keras_lambda.h5 (a Lambda layer), h5_external.h5 (external storage).
"""
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import h5py
import numpy as np
import tensorflow as tf
import tf_keras as keras

here = os.path.dirname(os.path.abspath(__file__))
malformed = os.path.join(here, "..", "malformed")
models = os.path.join(here, "..", "..", "..", "Examples", "models")
rng = np.random.default_rng(7)
tf.random.set_seed(7)

# 1. The real model.
fer = keras.models.load_model(os.path.join(models, "fer-emotion.h5"), compile=False)
x = rng.uniform(-1, 1, (2, 64, 64, 1)).astype(np.float32)
np.save(os.path.join(here, "fer_input.npy"), x.transpose(0, 3, 1, 2).copy())
np.save(os.path.join(here, "fer_output.npy"), fer.predict(x, verbose=0).astype(np.float32))

# 2. Every layer type graft imports, in one functional model.
inputs = keras.Input((12, 10, 3), name="image")
h = keras.layers.Rescaling(1 / 127.5, offset=-1, name="rescale")(inputs)
h = keras.layers.ZeroPadding2D(((1, 0), (2, 1)), name="pad")(h)
h = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="conv")(h)
h = keras.layers.BatchNormalization(name="bn")(h)
d = keras.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, use_bias=False, name="depthwise")(h)
d = keras.layers.ReLU(max_value=6, name="relu6")(d)
s = keras.layers.SeparableConv2D(16, 3, padding="same", name="separable")(h)
s = keras.layers.LeakyReLU(0.2, name="leaky")(s)
j = keras.layers.Concatenate(name="concat")([d, s])
squeeze = keras.layers.GlobalAveragePooling2D(name="se_pool")(j)
squeeze = keras.layers.Dense(32, activation="sigmoid", name="se_gate")(squeeze)
squeeze = keras.layers.Reshape((1, 1, 32), name="se_reshape")(squeeze)
j = keras.layers.Multiply(name="se_scale")([j, squeeze])
a = keras.layers.AveragePooling2D(3, strides=2, padding="same", name="avgpool")(j)
m = keras.layers.MaxPooling2D(2, name="maxpool")(j)
g = keras.layers.GlobalMaxPooling2D(name="gmp")(a)
f = keras.layers.Flatten(name="flatten")(m)
f = keras.layers.Dense(16, activation="tanh", name="dense_flat")(f)
z = keras.layers.Concatenate(name="join")([g, f])
z = keras.layers.Dropout(0.3, name="drop")(z)
z = keras.layers.Dense(24, name="dense")(z)
z = keras.layers.BatchNormalization(name="bn_dense")(z)
z = keras.layers.Activation("swish", name="swish")(z)
z = keras.layers.Add(name="add")([z, keras.layers.Dense(24, name="skip")(g)])
outputs = keras.layers.Dense(5, activation="softmax", name="probabilities")(z)
model = keras.Model(inputs, outputs, name="layers")
for layer in model.layers:  # non-trivial weights and statistics everywhere
    for weight in layer.weights:
        weight.assign(rng.normal(0, 0.5, weight.shape).astype(np.float32) if "variance" not in weight.name
                      else rng.uniform(0.5, 2, weight.shape).astype(np.float32))
model.save(os.path.join(here, "keras_layers.h5"))
x = rng.uniform(0, 255, (3, 12, 10, 3)).astype(np.float32)
np.save(os.path.join(here, "keras_layers_input.npy"), x.transpose(0, 3, 1, 2).copy())
np.save(os.path.join(here, "keras_layers_output.npy"), model.predict(x, verbose=0).astype(np.float32))

# 3. HDF5 storage variants.
with h5py.File(os.path.join(here, "h5_chunked.h5"), "w") as f:
    f.create_dataset("chunked", data=np.arange(150, dtype=np.float32).reshape(10, 15) / 7, chunks=(4, 6),
                     compression="gzip", shuffle=True)
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    space = h5py.h5s.create_simple((3,))
    dataset = h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)
    dataset.write(h5py.h5s.ALL, h5py.h5s.ALL, np.array([1.5, -2.5, 3.25], dtype=np.float32))
    f.create_dataset("integers", data=np.array([[1, -2], [300, 4]], dtype=np.int32))
    f.create_dataset("doubles", data=np.array([0.1, 0.2], dtype=np.float64))
    group = f.create_group("group/nested")
    group.attrs["note"] = "variable-length string"
    group.attrs["names"] = np.array([b"alpha", b"beta"], dtype="S8")

# 4. Hostile Keras files.
lambda_input = keras.Input((4,))
lambda_model = keras.Model(lambda_input, keras.layers.Lambda(lambda t: t * 2, name="double")(lambda_input))
lambda_model.save(os.path.join(malformed, "keras_lambda.h5"))
with h5py.File(os.path.join(malformed, "h5_external.h5"), "w") as f:
    f.create_dataset("outside", shape=(4,), dtype=np.float32, external=[("/etc/passwd", 0, 16)])
print("wrote Keras fixtures")
