"""W3 in Keras 3 on TensorFlow (oneDNN on, 2 threads): training images/s of the MNIST CNN
(conv32-conv32-pool-dropout-dense128-dropout-dense10), batch 128, SGD momentum 0.9, one epoch over
the 5,000 digits graft-bench W8 exported to Benchmarks/out/mnist-splits, median of repeated epochs
after a warm-up epoch (which also traces the training function).

Usage: python keras_mnist.py [repeats]. Prints RESULT lines in graft-bench's format.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
import statistics
import sys
import time

import numpy as np
import tensorflow as tf

tf.config.threading.set_intra_op_parallelism_threads(2)
tf.config.threading.set_inter_op_parallelism_threads(1)
import keras  # noqa: E402

repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
splits = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "out", "mnist-splits")


def load(name):
    x = np.load(os.path.join(splits, f"{name}_x.npy")).astype(np.float32)
    y = np.load(os.path.join(splits, f"{name}_y.npy")).astype(np.int64)
    return x.transpose(0, 2, 3, 1), y  # NCHW → NHWC, Keras's layout


parts = [load("low_train"), load("high_train"), load("high_test")]
x = np.concatenate([p[0] for p in parts])
y = np.concatenate([parts[0][1], parts[1][1] + 5, parts[2][1] + 5])
keras.utils.set_random_seed(3)
model = keras.Sequential([
    keras.Input((28, 28, 1)),
    keras.layers.Conv2D(32, 3, activation="relu"),
    keras.layers.Conv2D(32, 3, activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Dropout(0.25),
    keras.layers.Flatten(),
    keras.layers.Dense(128, activation="relu"),
    keras.layers.Dropout(0.5),
    keras.layers.Dense(10),
])
model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(x, y, batch_size=128, epochs=1, shuffle=True, verbose=0)  # warm-up and tracing
rates = []
for _ in range(max(3, repeats)):
    start = time.perf_counter()
    model.fit(x, y, batch_size=128, epochs=1, shuffle=True, verbose=0)
    rates.append(len(y) / (time.perf_counter() - start))
print(f"RESULT W3 mnist-cnn-train images/s {statistics.median(rates)} {min(rates)} {max(rates)}")
