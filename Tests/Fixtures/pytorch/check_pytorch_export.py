"""The check of `export pytorch` (run by scripts/check-pytorch-export.sh, in CI):

1. Every built-in architecture, the shipped models (PyTorch, Keras, ONNX) and, when a zoo was built
   (.build/zoo, scripts/check-zoo.sh), one file of each graph in it (each framework's model, and its ONNX
   export): graft exports the model; the generated model.py loads weights.safetensors with strict=True and
   gives graft's outputs on a fixed batch to 1e-5 relative (max |Δ| over max |graft's output|; for a zoo
   model whose own float32 noise floor is higher, four times that floor, the zoo check's rule).
2. Recipes, end to end: the quickstart's transfer step (a frozen MNIST CNN, a new dense head),
   EfficientNet-Lite0's head-only then last-block fine-tune on a few hundred digits, and a recipe with
   every other option ((b) and (d) only); an augmented run must finish and load back:
   (a) model.py with the exported weights gives graft's outputs to 1e-5 relative;
   (b) the export's initial.safetensors is the weights graft's training started from, and one epoch of
       `train.py --deterministic` (which starts from it by default) gives graft's loss at every step to
       1e-4 relative;
   (c) `torchrun --nproc-per-node=2 train.py` (gloo, two processes) runs to the end: with --deterministic
       its test accuracy is within a point of the single process's; with DistributedSampler's shuffled
       shares within five points of one process shuffled alike (different orders, one short epoch);
   (d) the weights it writes load back into graft, whose `eval` gives the loss and accuracy PyTorch printed.

    python check_pytorch_export.py GRAFT [--all] [--work DIR]

Without --all, one architecture per family at its smallest variant, the zoo's tf-keras files only where
tf-keras builds other layers than Keras 3 (MobileNetV3, RegNet), the dynamo exporter's ONNX files only
where the TorchScript one is a known miss, and the DistributedSampler run for the
quickstart alone (what CI runs); --all takes every one.
"""
import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import torch
from safetensors.torch import load_file

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
OUTPUT_TOLERANCE = 1e-5
LOSS_TOLERANCE = 1e-4
failures = []


def check(condition, message):
    print(("ok    " if condition else "FAIL  ") + message, flush=True)
    if not condition:
        failures.append(message)


def graft_run(graft, script, path):
    with open(path, "w") as f:
        f.write(script)
    done = subprocess.run([graft, "run", path], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-2000:])
        raise SystemExit(f"graft failed on {path}")
    return done.stdout


def load_project(folder):
    """The exported GraftModel with its weights, loaded strictly."""
    name = "graft_export_" + re.sub(r"\W", "_", folder)
    spec = importlib.util.spec_from_file_location(name, os.path.join(folder, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.GraftModel()
    model.load_state_dict(load_file(os.path.join(folder, "weights.safetensors")), strict=True)
    return model.eval()


def relative(got, want):
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-12))


def compare_outputs(folder, inputs, graft_output, label, noisy=False, own_noise=0.0):
    model = load_project(folder)
    with torch.no_grad():
        got = model(torch.from_numpy(np.load(inputs))).numpy()
    want = np.load(graft_output)
    if got.shape != want.shape:
        check(False, f"{label}: output {got.shape}, graft {want.shape}")
        return None
    difference = relative(got, want)
    tolerance, note = OUTPUT_TOLERANCE, ""
    if difference > OUTPUT_TOLERANCE and noisy:
        # A deep model's own float32 noise floor (PyTorch float32 against float64) can exceed 1e-5, as the
        # zoo check found; there, four times it (the zoo check's rule).
        with torch.no_grad():
            exact = model.double()(torch.from_numpy(np.load(inputs)).double()).numpy()
        noise = relative(got, exact)
        tolerance, note = max(OUTPUT_TOLERANCE, 4 * noise), f", noise {noise:.0e}"
        if own_noise > tolerance:
            tolerance, note = own_noise, note + f", graft's own float32 error bounded at {own_noise:.0e}"
    check(difference <= tolerance, f"{label}: model.py (strict load) vs graft, max relative difference {difference:.2e}{note}")
    return difference


# --- 1. architectures and model files ---------------------------------------------------------------

FAMILIES = ["mnist-cnn", "resnet18", "resnext50_32x4d", "wide_resnet50_2", "mobilenetv2", "efficientnet-lite0", "efficientnet_b0",
            "efficientnet_v2_s", "mobilenet_v3_small", "mobilenet_v3_large", "convnext_tiny", "regnet_x_400mf", "regnet_y_400mf",
            "densenet121", "vgg11_bn", "alexnet", "squeezenet1_1", "mnasnet0_5", "shufflenet_v2_x0_5", "googlenet", "inception_v3",
            "vit_tiny_patch16_224", "deit_tiny_distilled_patch16_224", "swin_t", "swin_v2_t"]


def architectures(graft, work, every, names=None):
    names = names or FAMILIES
    if every and names is FAMILIES:
        listing = subprocess.run([graft, "run", "-"], input="new ?\n", capture_output=True, text=True).stdout
        names = re.search(r"known: ([^)]*)\)", listing).group(1).split(", ")
    rng = np.random.default_rng(3)
    np.save(f"{work}/x_mnist.npy", rng.uniform(-1, 1, (2, 1, 28, 28)).astype(np.float32))
    np.save(f"{work}/x_rgb.npy", rng.uniform(-1, 1, (2, 3, 96, 96)).astype(np.float32))
    for name in names:
        folder = f"{work}/arch-{name}"
        x = f"{work}/x_mnist.npy" if name == "mnist-cnn" else f"{work}/x_rgb.npy"
        shape = "" if name == "mnist-cnn" else " input=3x96x96"
        started = time.time()
        graft_run(graft, f'seed 5\nnew {name} as m classes=7{shape}\npredict "{x}" save="{folder}.out.npy"\nexport pytorch "{folder}" data=no\n',
                  f"{folder}.graft")
        compare_outputs(folder, x, f"{folder}.out.npy", f"new {name} ({time.time() - started:.1f} s)", noisy=True)
        shutil.rmtree(folder)


# Absolute: a session's relative paths are its own folder's, and these sessions are written in work folders.
EXAMPLES = os.path.abspath("Examples/models")
SHIPPED = [(f"{EXAMPLES}/efficientnet-lite0.pth", (1, 3, 224, 224)), (f"{EXAMPLES}/fer-emotion.h5", (2, 1, 48, 48)),
           (f"{EXAMPLES}/ppocr-cls.onnx", (2, 3, 48, 192))]
# GroupNorm as nn.GroupNorm and as model.py's GroupNorm (Keras's center=False), from the format fixtures.
FORMATS = os.path.abspath("Tests/Fixtures/formats")
SHIPPED += [(f"{FORMATS}/groupnorm_keras.keras", (2, 3, 9, 7)), (f"{FORMATS}/groupnorm_torch17.onnx", (2, 3, 9, 7))]
# Vision transformers as timm and torchvision build them (make_vit_fixtures.py): tokens, position tables,
# attention under each framework's names; the first also at 48x40 (its position table resized).
SHIPPED += [(f"{FORMATS}/{name}.safetensors", (2, 3, 32, 32)) for name in
            ["vit_timm", "vit_deit_distilled", "vit_dinov2_reg", "vit_clip", "vit_avg", "vit_torchvision"]]
SHIPPED += [(f"{FORMATS}/vit_timm.safetensors", (2, 3, 48, 40))]
# Swin V1 under torchvision's, timm's and Hugging Face's names, and torchvision's V2 (make_swin_fixtures.py);
# torchvision's also at 56x52 (maps padded to whole windows under the shifted mask).
SHIPPED += [(f"{FORMATS}/{name}", (2, 3, 96, 96)) for name in
            ["swin_torchvision.safetensors", "swin_timm.safetensors", "hf_swin", "swin_v2_torchvision.safetensors"]]
SHIPPED += [(f"{FORMATS}/{name}.safetensors", (2, 3, 56, 52)) for name in ["swin_torchvision", "swin_v2_torchvision"]]
# Where graft's own float32 error is the larger one, measured against model.py in float64, its bound
# (the rule above takes PyTorch's float32 noise, which depends on the CPU's kernels). Swin V2 at 56x52
# (the shifted mask's -100 added to logits scaled up to 100): graft 7.2e-5 from float64, PyTorch 7.8e-6
# on Zen 4 (AVX-512) and about 2e-5 or more on Zen 3, where the rule passed; graft's figure is the same
# on every machine (portable numerics). An export error is of order 1, far above either.
OWN_NOISE = {(f"{FORMATS}/swin_v2_torchvision.safetensors", (2, 3, 56, 52)): 1e-4}
# Resizing: F.interpolate's modes from ONNX, Keras's Resizing and UpSampling2D (make_resize_fixtures.py).
SHIPPED += [(f"{FORMATS}/resize_torch17.onnx", (2, 3, 7, 6)), (f"{FORMATS}/resize_keras.keras", (2, 3, 10, 12))]
# EfficientViT's linear attention from ONNX: v padded with ones (ConstantPad), kᵀv and q(kᵀv), the division by the last column.
SHIPPED += [(f"{FORMATS}/efficientvit_torch17.onnx", (2, 3, 48, 48))]


def model_files(graft, work, every):
    rng = np.random.default_rng(11)
    entries = [(os.path.join(ROOT, path), shape, None) for path, shape in SHIPPED]
    allowances = {os.path.join(ROOT, path): (shape, bound) for (path, shape), bound in OWN_NOISE.items()}
    zoo = os.path.join(ROOT, ".build", "zoo")
    known = set()
    known_path = os.path.join(ROOT, "Tests", "Fixtures", "zoo", "known_misses.txt")
    if os.path.exists(known_path):
        for line in open(known_path):
            parts = line.split()
            if len(parts) >= 2 and not line.startswith("#"):
                known.add((parts[0], parts[1]))
    if os.path.isdir(zoo):
        for manifest in sorted(n for n in os.listdir(zoo) if n.startswith("manifest") and n.endswith(".json")):
            seen = set()
            for entry in json.load(open(os.path.join(zoo, manifest))):
                if (f"{entry['framework']}:{entry['model']}", entry["format"]) in known:
                    continue
                # One file per graph graft builds: a framework's formats other than ONNX give the same graph;
                # each ONNX exporter (TorchScript's, dynamo's) its own.
                graph = (entry["framework"], entry["model"], entry["format"] if entry["format"].startswith("onnx") else "")
                if graph in seen or not entry.get("file"):
                    continue
                # CI: tf-keras builds Keras 3's graphs again, except where it writes arithmetic as TFOpLambda;
                # the dynamo exporter's graphs are left to --all where the model's TorchScript ONNX graph is
                # checked (CI keeps a dynamo file of each family whose TorchScript file graft refuses).
                if not every and entry["framework"] == "tfkeras" and not re.search("MobileNetV3|RegNet", entry["model"]):
                    continue
                if not every and entry["format"] == "onnx-dynamo" and (f"{entry['framework']}:{entry['model']}", "onnx") not in known:
                    continue
                seen.add(graph)
                entries.append((os.path.join(zoo, entry["file"]), None, os.path.join(zoo, entry["input"])))
    for index, (path, shape, given) in enumerate(entries):
        x = given or f"{work}/file{index}.npy"
        if given is None:
            np.save(x, rng.uniform(-1, 1, shape).astype(np.float32))
        folder = f"{work}/file{index}"
        graft_run(graft, f'load "{path}" as m\npredict "{x}" save="{folder}.out.npy"\nexport pytorch "{folder}" data=no\n', f"{folder}.graft")
        shape_bound = allowances.get(path)
        own = shape_bound[1] if shape_bound and shape_bound[0] == shape else 0.0
        compare_outputs(folder, x, f"{folder}.out.npy", os.path.relpath(path, ROOT), noisy=True, own_noise=own)
        shutil.rmtree(folder)


# --- 2. recipes: (a)–(d) ---------------------------------------------------------------------------

QUICKSTART = """seed 42
set threads=2
new mnist-cnn as base classes=5
data mnist digits=0-4 as low
train epochs=5 batch=64 lr=0.01
data mnist digits=5-9 as high
# The quickstart's transfer step; dropout1 (which the frozen convolutions feed) is frozen too, so
# graft's run makes no random draws that PyTorch's generator could not make the same.
freeze conv1 conv2 dropout1
head classes=5
save model "{w}/start.safetensors"
train epochs=1 batch=64 lr=0.01
predict "{w}/fixed.npy" save="{w}/graft_fixed.npy"
export pytorch "{w}/project"
"""

LITE0 = """seed 7
set threads=2
load {examples}/efficientnet-lite0.pth input=3x96x96 as lite0
data mnist per-class=30 size=96 channels=3 as digits
head classes=10
save model "{w}/start.safetensors"
# Head alone (phase 1), then the last block, the head convolution and its BatchNorm with the head
# (phase 2, discriminative rates, pretrained BatchNorm on its running statistics): Adam, one-cycle.
fine-tune epochs=1 freeze-epochs=1 unfreeze=_blocks.15,_conv_head,_bn1 lr=0.002 batch=30
predict "{w}/fixed.npy" save="{w}/graft_fixed.npy"
export pytorch "{w}/project"
"""

# Every other option of the recipe, with BatchNorm in training mode (EfficientNet-Lite0's last block and head
# convolution unfrozen with bn=train): discriminative rates, AdamW with weight decay, a step schedule after
# warm-up, clipping, label smoothing, a held-out validation split with early stopping and best-weights restore.
# (A fresh network is a poor subject for step-by-step parity: with batch statistics, a value that float
# rounding puts on the other side of a ReLU's kink changes a gradient, and training amplifies it.)
OPTIONS = """seed 11
set threads=2
load {examples}/efficientnet-lite0.pth input=3x64x64 as lite0
data mnist per-class=20 size=64 channels=3 as digits
head classes=10
freeze all
unfreeze head _blocks.15 _conv_head _bn1 bn=train
save model "{w}/start.safetensors"
train epochs=3 batch=20 lr=0.01 backbone-lr=0.001 optimizer=adamw wd=0.01 schedule=step step=1 gamma=0.5 warmup=1 clip=0.5 smoothing=0.1 val=0.2 patience=1
predict "{w}/fixed.npy" save="{w}/graft_fixed.npy"
export pytorch "{w}/project"
"""

# A vision transformer fine-tuned with layer-wise rate decay: each parameter group's rate in train.py is
# graft's, so --deterministic follows graft's loss step by step.
VIT_DECAY = """seed 17
set threads=2
load {formats}/vit_timm.safetensors as vit
data mnist per-class=12 size=32 channels=3 as digits
head classes=10
save model "{w}/start.safetensors"
train epochs=1 batch=20 lr=0.002 optimizer=adamw wd=0.05 layer-decay=0.6 schedule=cosine
predict "{w}/fixed.npy" save="{w}/graft_fixed.npy"
export pytorch "{w}/project"
"""

# Imbalance: class weights with label smoothing (CrossEntropyLoss(weight=, label_smoothing=)) and the
# balanced sampler (graft's draws replayed in --deterministic; WeightedRandomSampler otherwise).
IMBALANCE = """seed 13
set threads=2
new mnist-cnn as m classes=5
data mnist digits=0-4 per-class=30 as d
freeze conv1 conv2 dropout1
head classes=5
save model "{w}/start.safetensors"
train epochs=2 batch=25 lr=0.02 class-weights=1,2,0.5,1,3 smoothing=0.1 sampler=balanced
predict "{w}/fixed.npy" save="{w}/graft_fixed.npy"
export pytorch "{w}/project"
"""

# Augmentation has no deterministic twin (the draws differ): train.py must run it to the end.
AUGMENT = """seed 4
new mnist-cnn as m classes=5
data mnist digits=0-4 per-class=20 as d
train epochs=1 batch=25 augment=flip,crop=0.7,rotate=10,shift=0.1,brightness=0.2,contrast=0.2,saturation=0.2
export pytorch "{w}/project"
"""


def metrics(folder):
    lines = [json.loads(line) for line in open(os.path.join(folder, "metrics.jsonl"))]
    return [l for l in lines if not l.get("final")], next(l for l in lines if l.get("final"))


def recipe(graft, work, name, script, fixed_shape, dataset, processes=True, sampler=True):
    w = f"{work}/{name}"
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    np.save(f"{w}/fixed.npy", np.random.default_rng(23).uniform(-1, 1, fixed_shape).astype(np.float32))
    started = time.time()
    graft_run(graft, script.format(w=w, examples=EXAMPLES, formats=FORMATS), f"{w}/session.graft")
    print(f"== {name}: graft session and export {time.time() - started:.1f} s")
    project = f"{w}/project"
    # (a) outputs
    compare_outputs(project, f"{w}/fixed.npy", f"{w}/graft_fixed.npy", f"{name} (a) exported model and weights")
    # (b) the export's initial.safetensors holds the weights graft's training started from (the session
    # saved them just before), and train.py starts from it by default; step losses, one process, graft's order
    initial, start = load_file(f"{project}/initial.safetensors"), load_file(f"{w}/start.safetensors")
    differing = sorted(k for k in start if k not in initial or not torch.equal(initial[k], start[k]))
    check(initial.keys() == start.keys() and not differing,
          f"{name} (b) initial.safetensors is the weights training started from ({len(initial)} tensors"
          + (f"; differ: {', '.join(differing[:3])}" if differing else "") + ")")
    python, torchrun = sys.executable, os.path.join(os.path.dirname(sys.executable), "torchrun")
    started = time.time()
    subprocess.run([python, f"{project}/train.py", "--deterministic", "--out", f"{w}/single"], check=True, cwd=w)
    single_seconds = time.time() - started
    graft_losses = [l for phase in json.load(open(f"{project}/graft_run.json"))["phases"] for l in phase["step_losses"]]
    epochs, single_final = metrics(f"{w}/single")
    torch_losses = [l for record in epochs for l in record["step_losses"]]
    worst = max((abs(a - b) / abs(b) for a, b in zip(torch_losses, graft_losses)), default=float("inf"))
    check(len(torch_losses) == len(graft_losses) and worst <= LOSS_TOLERANCE,
          f"{name} (b) train.py --deterministic: {len(torch_losses)} steps (graft {len(graft_losses)}), "
          f"max relative loss difference {worst:.2e} ({single_seconds:.1f} s)")
    if not processes:
        check_back(graft, w, name, dataset, [("single", single_final)])
        return
    # (c) two processes: in graft's order (each takes half of every global batch: the single run's arithmetic),
    # and in the usual DDP pipeline (DistributedSampler's shuffled shares), beside one process shuffled alike.
    env = dict(os.environ, OMP_NUM_THREADS="1")
    finals = {}
    runs = [("ddp-deterministic", [torchrun, "--nproc-per-node=2", "--master-port=29517", f"{project}/train.py", "--deterministic"])]
    if sampler:  # the DistributedSampler pipeline is the same code for every model: CI runs it once
        runs += [("ddp", [torchrun, "--nproc-per-node=2", "--master-port=29518", f"{project}/train.py"]),
                 ("shuffled", [python, f"{project}/train.py"])]
    for run, command in runs:
        started = time.time()
        subprocess.run(command + ["--out", f"{w}/{run}"], check=True, cwd=w, env=env)
        finals[run] = (metrics(f"{w}/{run}")[1], time.time() - started)
    deterministic, seconds = finals["ddp-deterministic"]
    gap = abs(deterministic["test_accuracy"] - single_final["test_accuracy"]) * 100
    check(gap <= 1.0, f"{name} (c) torchrun --nproc-per-node=2 --deterministic: test accuracy {deterministic['test_accuracy']:.4f} vs one "
                      f"process {single_final['test_accuracy']:.4f} ({gap:.2f} points; {seconds:.1f} s)")
    back = [("single", single_final), ("ddp-deterministic", deterministic)]
    if sampler:
        (ddp, ddp_seconds), (shuffled, _) = finals["ddp"], finals["shuffled"]
        gap = abs(ddp["test_accuracy"] - shuffled["test_accuracy"]) * 100
        check(gap <= 5.0, f"{name} (c) torchrun --nproc-per-node=2 with DistributedSampler: test accuracy {ddp['test_accuracy']:.4f}, one "
                          f"process shuffled {shuffled['test_accuracy']:.4f} ({gap:.2f} points, orders differ; {ddp_seconds:.1f} s)")
        back.append(("ddp", ddp))
    check_back(graft, w, name, dataset, back)


def check_back(graft, w, name, dataset, runs):
    """(d): the weights train.py wrote, loaded by graft, evaluated on the test split."""
    for run, final in runs:
        text = graft_run(graft, f'load "{w}/{run}/weights.safetensors" as back\n{dataset}\neval\n', f"{w}/back-{run}.graft")
        found = re.search(r"loss ([\d.]+)\s+accuracy ([\d.]+)", text.split("> eval")[-1])
        loss, accuracy = float(found.group(1)), float(found.group(2))
        check(abs(loss - final["test_loss"]) <= 1e-4 * max(1, final["test_loss"]) + 5e-5 and abs(accuracy - final["test_accuracy"]) < 5e-5,
              f"{name} (d) {run} weights in graft: eval loss {loss:.4f} accuracy {accuracy:.4f}, PyTorch printed "
              f"{final['test_loss']:.4f} {final['test_accuracy']:.4f}")


# set precision=bf16 (CPUs with AVX-512 BF16): the recipe says so, and train.py runs its steps under
# torch.autocast with bfloat16. Its losses follow graft's within bfloat16's rounding, not float32's
# (autocast also rounds the products' outputs to bfloat16; graft keeps them float32).
BF16 = """seed 21
set threads=2
new mnist-cnn as m classes=5
data mnist digits=0-4 per-class=30 as d
freeze conv1 dropout1
head classes=5
save model "{w}/start.safetensors"
set precision=bf16
train epochs=2 batch=25 lr=0.02
export pytorch "{w}/project"
"""
BF16_LOSS_TOLERANCE = 5e-3


def bfloat16(graft, work):
    flags = open("/proc/cpuinfo").read()
    if "avx512_bf16" not in flags:
        print("skip  bf16: this CPU has no AVX-512 BF16 (graft refuses set precision=bf16 here)")
        return
    w = f"{work}/bf16"
    os.makedirs(w, exist_ok=True)
    graft_run(graft, BF16.format(w=w), f"{w}/session.graft")
    check('"precision": "bf16"' in open(f"{w}/project/train.py").read(), "bf16: the exported recipe's phase says precision bf16")
    graft_losses = [l for phase in json.load(open(f"{w}/project/graft_run.json"))["phases"] for l in phase["step_losses"]]
    worst = {}
    for precision in ("bf16", "float32"):
        subprocess.run([sys.executable, f"{w}/project/train.py", "--deterministic", "--precision", precision, "--out", f"{w}/{precision}"],
                       check=True, cwd=w, capture_output=True)
        losses = [l for record in metrics(f"{w}/{precision}")[0] for l in record["step_losses"]]
        worst[precision] = max((abs(a - b) / abs(b) for a, b in zip(losses, graft_losses)), default=float("inf"))
        check(len(losses) == len(graft_losses), f"bf16: train.py --precision {precision} ran graft's {len(graft_losses)} steps")
    check(worst["bf16"] <= BF16_LOSS_TOLERANCE,
          f"bf16: train.py --deterministic under autocast bfloat16 follows graft's bf16 losses, max relative difference {worst['bf16']:.2e} "
          f"(the same recipe in float32: {worst['float32']:.2e})")


def augmented(graft, work):
    w = f"{work}/augment"
    os.makedirs(w, exist_ok=True)
    graft_run(graft, AUGMENT.format(w=w, examples=EXAMPLES), f"{w}/session.graft")
    started = time.time()
    done = subprocess.run([sys.executable, f"{w}/project/train.py", "--out", f"{w}/run"], cwd=w, capture_output=True, text=True)
    ran = done.returncode == 0 and os.path.exists(f"{w}/run/weights.safetensors")
    if not ran:
        print(done.stdout[-2000:], done.stderr[-3000:])
    check(ran, f"augment: train.py with every augmentation (torchvision v2) runs to the end ({time.time() - started:.1f} s)")
    if ran:
        check_back(graft, w, "augment", "data mnist digits=0-4 per-class=20 as d", [("run", metrics(f"{w}/run")[1])])


def image_folder(graft, work):
    """train.py --image-folder: torchvision's ImageFolder with graft's resize and crop, to the end."""
    w = f"{work}/image-folder"
    os.makedirs(w, exist_ok=True)
    folder = os.path.join(ROOT, "Tests", "Fixtures", "data", "split_folder")
    graft_run(graft, f'seed 1\ndata images "{folder}" size=16 as f\nnew resnet18 classes=2 input=3x16x16\ntrain epochs=1 batch=4\n'
                     f'export pytorch "{w}/project"\n', f"{w}/session.graft")
    done = subprocess.run([sys.executable, f"{w}/project/train.py", "--image-folder", folder, "--out", f"{w}/run"], cwd=w,
                          capture_output=True, text=True)
    check(done.returncode == 0 and os.path.exists(f"{w}/run/weights.safetensors"), "image folder: train.py --image-folder runs to the end")
    sys.path.insert(0, f"{w}/project")
    spec = importlib.util.spec_from_file_location("exported_train", f"{w}/project/train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.path.pop(0)
    theirs = np.stack([x.numpy() for x, _ in module.load_image_folder(folder)["train"]]).astype(int)
    ours = np.load(f"{w}/project/data/train_x.npy").astype(int)
    levels = max(min(int(np.abs(a - b).max()) for b in ours) for a in theirs)
    check(levels <= 1, f"image folder: torchvision's Resize + CenterCrop within {levels} level(s) of 255 of graft's pixels")


# Text that breaks out of a Python string, comment or docstring if written raw (issue 25).
HOSTILE_LAYER = 'k""";__import__("os").system("touch PWNED5");"""'
HOSTILE_NAMES = [HOSTILE_LAYER, "'''x''';__import__('os').system('touch PWNED6')", "back\\slash\\", "line\nbreak # not a comment",
                 "nul\x00byte", "\u202eevil\u202c", "para\u2028graph", "esc\x1b[2J", "```\n<img src=x onerror=alert(1)>"]


def hostile(graft, work):
    """A graft file whose architecture, class names and layer names hold Python: the export imports
    in Python without running any of it, and every name comes back exactly."""
    import struct
    w = f"{work}/hostile"
    shutil.rmtree(w, ignore_errors=True)
    os.makedirs(w)
    graft_run(graft, f'new mnist-cnn as m classes={len(HOSTILE_NAMES)}\nsave model "{w}/plain.safetensors"\n', f"{w}/plain.graft")
    data = open(f"{w}/plain.safetensors", "rb").read()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    graph = json.loads(header["__metadata__"]["graft.graph"])
    graph["architecture"], graph["classNames"] = HOSTILE_NAMES[1] + HOSTILE_NAMES[8], HOSTILE_NAMES
    renames = {"conv1": HOSTILE_LAYER, "relu1": HOSTILE_NAMES[3], "conv2": HOSTILE_NAMES[2] + "." + HOSTILE_NAMES[4]}
    for node in graph["nodes"]:
        node["inputs"] = [renames.get(i, i) for i in node["inputs"]]
        node["name"] = renames.get(node["name"], node["name"])
    header["__metadata__"]["graft.graph"] = json.dumps(graph)
    tensors = {}
    for key, value in header.items():
        if key != "__metadata__":
            layer, _, leaf = key.rpartition(".")
            tensors[f"{renames.get(layer, layer)}.{leaf}"] = value
    tensors["__metadata__"] = header["__metadata__"]
    encoded = json.dumps(tensors).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(f"{w}/hostile.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(encoded)) + encoded + data[8 + size:])
    graft_run(graft, f'load "{w}/hostile.safetensors" as m\ndata mnist per-class=5 as d\nhead classes=10\ntrain epochs=1 batch=25\n'
                     f'export pytorch "{w}/project"\n', f"{w}/session.graft")
    probe = ("import json, model, torch; from safetensors.torch import load_file\n"
             "m = model.GraftModel(); m.load_state_dict(load_file('weights.safetensors'), strict=True); m.eval()\n"
             "y = m(torch.zeros(1, 1, 28, 28))\n"
             "print(json.dumps({'architecture': model.ARCHITECTURE, 'keys': sorted(m.state_dict()), 'shape': list(y.shape)}))\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=f"{w}/project", capture_output=True, text=True)
    ran = [name for name in ("PWNED5", "PWNED6") for folder in (w, f"{w}/project", ROOT) if os.path.exists(os.path.join(folder, name))]
    check(done.returncode == 0 and not ran, f"hostile names: model.py imports and runs, and none of the names ran as code (ran: {ran or 'nothing'})"
          + ("" if done.returncode == 0 else f"\n{done.stderr[-1500:]}"))
    if done.returncode == 0:
        got = json.loads(done.stdout.strip().splitlines()[-1])
        check(got["architecture"] == graph["architecture"] and f"{HOSTILE_LAYER}.weight" in got["keys"]
              and f"{HOSTILE_NAMES[2]}.{HOSTILE_NAMES[4]}.weight" in got["keys"] and got["shape"] == [1, 10],
              "hostile names: the architecture and layer names come back exactly from model.py and the weights")
    # The class names, before the new head: a second export of the file as it came.
    graft_run(graft, f'load "{w}/hostile.safetensors" as m\nexport pytorch "{w}/as-sent" data=no\n', f"{w}/as-sent.graft")
    done = subprocess.run([sys.executable, "-c", "import json, model; print(json.dumps(model.CLASSES))"], cwd=f"{w}/as-sent", capture_output=True, text=True)
    check(done.returncode == 0 and json.loads(done.stdout.strip().splitlines()[-1]) == HOSTILE_NAMES,
          "hostile names: the class names come back exactly from model.py")
    done = subprocess.run([sys.executable, "train.py", "--help"], cwd=f"{w}/project", capture_output=True, text=True)
    ran = [name for name in ("PWNED5", "PWNED6") for folder in (w, f"{w}/project", ROOT) if os.path.exists(os.path.join(folder, name))]
    check(done.returncode == 0 and not ran, "hostile names: train.py (its RECIPE and docstring) imports without running a name")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("graft")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--work", default=os.path.join(ROOT, ".build", "pytorch-export"))
    parser.add_argument("--only", choices=["architectures", "files", "recipes"])
    args = parser.parse_args()
    graft = os.path.abspath(args.graft)
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    torch.set_num_threads(2)
    started = time.time()
    if args.only in (None, "recipes"):
        recipe(graft, work, "quickstart-transfer", QUICKSTART, (4, 1, 28, 28), "data mnist digits=5-9 as high")
        recipe(graft, work, "lite0-fine-tune", LITE0, (2, 3, 96, 96), "data mnist per-class=30 size=96 channels=3 as digits", sampler=args.all)
        recipe(graft, work, "imbalance", IMBALANCE, (4, 1, 28, 28), "data mnist digits=0-4 per-class=30 as d", processes=False)
        recipe(graft, work, "options-lite0", OPTIONS, (2, 3, 64, 64), "data mnist per-class=20 size=64 channels=3 as digits", processes=False)
        recipe(graft, work, "vit-layer-decay", VIT_DECAY, (2, 3, 32, 32), "data mnist per-class=12 size=32 channels=3 as digits", processes=False)
        augmented(graft, work)
        bfloat16(graft, work)
        image_folder(graft, work)
        hostile(graft, work)
    if args.only in (None, "architectures"):
        architectures(graft, work, args.all)
    if args.only in (None, "files"):
        model_files(graft, work, args.all)
    print(f"== export check took {time.time() - started:.0f} s; {len(failures)} failure(s)")
    for failure in failures:
        print("  " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
