"""W9 (loading a checkpoint) and W10 (inference) for the torchvision / Keras models graft opens, in the
reference frameworks, timed like graft-bench: one warm-up, then median (min, max).

    python models.py make-torch DIR    # torchvision ResNet-50, MobileNetV3-Large, ConvNeXt-Tiny, ViT-B/16 and
                                       # timm's ViT-S/16 with random weights: DIR/NAME.pth, .safetensors,
                                       # .onnx (torch.onnx.export)
    python models.py make-keras DIR    # keras.applications.ResNet50 (weights=None): DIR/resnet50.keras
    python models.py torch DIR [repeats]   # torch.load + load_state_dict; inference, batch 8, 224×224
    python models.py ort DIR [repeats]     # onnxruntime.InferenceSession; inference, batch 8, 224×224
    python models.py keras DIR [repeats]   # keras.models.load_model
    python models.py peak FRAMEWORK FILE   # (internal) memory a load adds, in a fresh process

TensorFlow and PyTorch cannot share a process, so each peer runs on its own. Two threads everywhere.
Prints RESULT lines in graft-bench's format for Benchmarks/compare.sh. Never downloads anything.
"""
import os
import statistics
import subprocess
import sys

from timing import measure

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("OMP_NUM_THREADS", "2")

# The CNNs, then the transformers of issue 27: torchvision's ViT-B/16 and timm's ViT-S/16.
MODELS = ["resnet50", "mobilenet_v3_large", "convnext_tiny", "vit_b_16", "vit_small_patch16_224"]
LOADED = "resnet50"  # the model W9 loads in every format
BATCH = 8


def report_ms(workload, case, times):
    ms = [1e3 * t for t in times]
    print(f"RESULT {workload} {case} ms {statistics.median(ms)} {min(ms)} {max(ms)}", flush=True)


def report_rate(workload, case, times):
    rates = [BATCH / t for t in times]
    print(f"RESULT {workload} {case} images/s {statistics.median(rates)} {min(rates)} {max(rates)}", flush=True)


def status(field):
    """A /proc/self/status figure in bytes (VmRSS, VmHWM)."""
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def report_peak(workload, case, framework, path):
    """Runs one load in a fresh process: the high-water mark of its memory minus what it held before."""
    done = subprocess.run([sys.executable, __file__, "peak", framework, path], capture_output=True, text=True, check=True)
    added = int(done.stdout.split()[-1])
    mb = added / 1048576
    print(f"RESULT {workload} {case} MB {mb} {mb} {mb}", flush=True)


def torch_model(name):
    if name.startswith("vit_small"):
        import timm
        return timm.create_model(name, pretrained=False).eval()
    import torchvision
    return getattr(torchvision.models, name)(weights=None).eval()


def make_torch(out):
    import torch
    from safetensors.torch import save_file
    torch.manual_seed(0)
    for name in MODELS:
        model = torch_model(name)
        state = model.state_dict()
        torch.save(state, os.path.join(out, f"{name}.pth"))
        save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(out, f"{name}.safetensors"))
        x = torch.rand(BATCH, 3, 224, 224)
        torch.onnx.export(model, (x,), os.path.join(out, f"{name}.onnx"), opset_version=17, dynamo=False,
                          input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
        print(f"made {name}", file=sys.stderr)


def make_keras(out):
    import keras
    keras.utils.set_random_seed(0)
    keras.applications.ResNet50(weights=None).save(os.path.join(out, f"{LOADED}.keras"))
    print(f"made {LOADED}.keras", file=sys.stderr)


def torch_peer(out, repeats):
    import torch
    torch.set_num_threads(2)
    path = os.path.join(out, f"{LOADED}.pth")
    built = torch_model(LOADED)

    def load_into_built():
        built.load_state_dict(torch.load(path, map_location="cpu"))

    def build_and_load():
        torch_model(LOADED).load_state_dict(torch.load(path, map_location="cpu"))

    report_ms("W9", f"{LOADED}-load-pth", measure(build_and_load, repeats))
    report_ms("W9", f"{LOADED}-load-pth-prebuilt", measure(load_into_built, repeats))
    report_peak("W9", f"{LOADED}-load-pth-memory", "torch", path)
    # GRAFT_PEER_CHANNELS_LAST=1: inference in channels-last (W9's loading is timed the same either way).
    layout = torch.channels_last if os.environ.get("GRAFT_PEER_CHANNELS_LAST") == "1" else torch.contiguous_format
    x = (torch.rand(BATCH, 3, 224, 224, generator=torch.Generator().manual_seed(4)) * 2 - 1).to(memory_format=layout)
    for name in MODELS:
        model = torch_model(name)
        model.load_state_dict(torch.load(os.path.join(out, f"{name}.pth"), map_location="cpu"))
        model = model.to(memory_format=layout)
        with torch.no_grad():
            report_rate("W10", f"{name}-b{BATCH}", measure(lambda: model(x), repeats))


def ort_session(path):
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def ort_peer(out, repeats):
    import numpy as np
    path = os.path.join(out, f"{LOADED}.onnx")
    report_ms("W9", f"{LOADED}-load-onnx", measure(lambda: ort_session(path), repeats))
    report_peak("W9", f"{LOADED}-load-onnx-memory", "ort", path)
    x = (np.random.default_rng(4).uniform(-1, 1, (BATCH, 3, 224, 224))).astype(np.float32)
    for name in MODELS:
        session = ort_session(os.path.join(out, f"{name}.onnx"))
        report_rate("W10", f"{name}-b{BATCH}", measure(lambda: session.run(None, {"input": x}), repeats))


def keras_peer(out, repeats):
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    path = os.path.join(out, f"{LOADED}.keras")
    report_ms("W9", f"{LOADED}-load-keras", measure(lambda: keras.models.load_model(path), repeats))
    report_peak("W9", f"{LOADED}-load-keras-memory", "keras", path)


def peak(framework, path):
    if framework == "torch":
        import torch
        import torchvision  # noqa: F401 (imported before the baseline)
        before = status("VmRSS")
        torch_model(LOADED).load_state_dict(torch.load(path, map_location="cpu"))
    elif framework == "ort":
        import onnxruntime  # noqa: F401
        before = status("VmRSS")
        ort_session(path)
    else:
        import keras
        before = status("VmRSS")
        keras.models.load_model(path)
    print(status("VmHWM") - before)


def main():
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "peak":
        return peak(rest[0], rest[1])
    out = rest[0]
    repeats = int(rest[1]) if len(rest) > 1 else 5
    os.makedirs(out, exist_ok=True)
    {"make-torch": lambda: make_torch(out), "make-keras": lambda: make_keras(out),
     "torch": lambda: torch_peer(out, repeats), "ort": lambda: ort_peer(out, repeats),
     "keras": lambda: keras_peer(out, repeats)}[command]()


if __name__ == "__main__":
    main()
