"""Keras 3 fixtures for KerasTests: one small functional model with the layers Keras 3 archives of
keras.applications use, saved as a .keras archive and as a Keras 3 .h5, with an input and Keras's
output. Random weights and BatchNorm statistics (seeded); nothing is downloaded.

    KERAS_BACKEND=tensorflow python Tests/Fixtures/formats/make_keras3_fixtures.py
(with keras 3 and tensorflow; scripts/check-zoo.sh's virtual environment has both)."""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import numpy as np
import keras
from keras import layers

here = os.path.dirname(os.path.abspath(__file__))
keras.utils.set_random_seed(5)
rng = np.random.default_rng(5)

inputs = keras.Input((12, 10, 3))
x = layers.Rescaling(1 / 255.0)(inputs)
x = layers.Normalization(mean=[0.4, 0.5, 0.6], variance=[0.05, 0.06, 0.07])(x)
x = layers.ZeroPadding2D(((1, 0), (0, 1)))(x)
x = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(x)
x = layers.BatchNormalization(scale=False)(x)
x = layers.Activation("hard_silu")(x)
stem = keras.Sequential([layers.Conv2D(8, 1), layers.LayerNormalization(epsilon=1e-6)], name="nested")
x = stem(x)
y = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", use_bias=True)(x)
y = layers.BatchNormalization()(y)
se = layers.GlobalAveragePooling2D(keepdims=True)(y)
se = layers.Conv2D(4, 1, activation="relu")(se)
se = layers.Conv2D(16, 1)(se)
se = layers.Activation("hard_sigmoid")(se)
y = layers.Multiply()([y, se])
y = y + 3.0
y = layers.Cropping2D(((1, 0), (0, 1)))(y)
z = layers.SeparableConv2D(6, 3, padding="same")(y)
z = layers.Concatenate()([z, y])
z = layers.GlobalAveragePooling2D()(z)
outputs = layers.Dense(5)(z)
model = keras.Model(inputs, outputs)
for layer in model.layers + stem.layers:
    if isinstance(layer, layers.BatchNormalization):
        for w in layer.weights:
            if "moving_mean" in w.path:
                w.assign(rng.normal(0, 0.2, w.shape).astype(np.float32))
            elif "moving_variance" in w.path:
                w.assign(rng.uniform(0.5, 1.5, w.shape).astype(np.float32))
x = rng.uniform(0, 255, (2, 12, 10, 3)).astype(np.float32)
y = model(x, training=False).numpy()
model.save(os.path.join(here, "keras3_layers.keras"))
model.save(os.path.join(here, "keras3_layers.h5"))
np.save(os.path.join(here, "keras3_layers_input.npy"), x.transpose(0, 3, 1, 2))
np.save(os.path.join(here, "keras3_layers_output.npy"), y)
print("parameters", model.count_params(), "output", y.shape)
