"""The model zoo of graft's generality check: every classification model people transfer from,
built by the reference frameworks with random weights (never a download), saved in each format
graft reads, with reference outputs for a fixed input.

    python make_zoo.py OUT [--all] [--only NAME,NAME] [--size N] [--frameworks keras|torch|timm|hf] [--families]

Without --all, one model per family at its smallest variant (what CI runs). Writes OUT/manifest-*.json:
one entry per file with its framework, format, input and output arrays, and the parameter totals the
framework reports (parameters, and the BatchNorm statistics graft keeps as buffers).
BatchNorm layers get non-trivial statistics and affine parameters, so a reader that ignores them fails.
Each entry also records the reference's noise floor: how far its output moves when the input moves by
one part in 10^7 (deep random networks amplify float32 rounding).
"""
import argparse
import contextlib
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np

# Keras applications: (family, constructor, minimum input side). The first of each family is its smallest.
KERAS = [
    ("xception", ["Xception"], 71),
    ("vgg", ["VGG16", "VGG19"], 32),
    ("resnet", ["ResNet50", "ResNet101", "ResNet152"], 32),
    ("resnetv2", ["ResNet50V2", "ResNet101V2", "ResNet152V2"], 32),
    ("inceptionv3", ["InceptionV3"], 75),
    ("inceptionresnetv2", ["InceptionResNetV2"], 75),
    ("mobilenet", ["MobileNet"], 32),
    ("mobilenetv2", ["MobileNetV2"], 32),
    ("mobilenetv3", ["MobileNetV3Small", "MobileNetV3Large"], 32),
    ("densenet", ["DenseNet121", "DenseNet169", "DenseNet201"], 32),
    ("nasnet", ["NASNetMobile", "NASNetLarge"], 32),
    ("efficientnet", [f"EfficientNetB{i}" for i in range(8)], 32),
    ("efficientnetv2", ["EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
                        "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L"], 32),
    ("convnext", ["ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge"], 32),
]
# tf-keras only.
TF_KERAS_ONLY = [
    ("regnet", [f"RegNet{kind}{size}" for size in ["002", "004", "006", "008", "016", "032", "040", "064", "080", "120", "160", "320"]
                for kind in ["X", "Y"]], 32),
]
# NASNet fixes its input size to 224 (Mobile) or 331 (Large) when it has a classifier.
FIXED_SIZE = {"NASNetMobile": 224, "NASNetLarge": 331}

TORCHVISION = [
    ("resnet", ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]),
    ("resnext", ["resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d"]),
    ("wide_resnet", ["wide_resnet50_2", "wide_resnet101_2"]),
    ("vgg", ["vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]),
    ("alexnet", ["alexnet"]),
    ("squeezenet", ["squeezenet1_1", "squeezenet1_0"]),
    ("densenet", ["densenet121", "densenet161", "densenet169", "densenet201"]),
    ("googlenet", ["googlenet"]),
    ("inception", ["inception_v3"]),
    ("mobilenet_v2", ["mobilenet_v2"]),
    ("mobilenet_v3", ["mobilenet_v3_small", "mobilenet_v3_large"]),
    ("mnasnet", ["mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"]),
    ("shufflenet", ["shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"]),
    ("efficientnet", [f"efficientnet_b{i}" for i in range(8)]),
    ("efficientnet_v2", ["efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"]),
    ("regnet", [f"regnet_{k}_{s}" for s in ["400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf"] for k in ["x", "y"]]),
    ("convnext", ["convnext_tiny", "convnext_small", "convnext_base", "convnext_large"]),
    ("vit", ["vit_b_32", "vit_b_16", "vit_l_16", "vit_l_32", "vit_h_14"]),
    ("swin", ["swin_t", "swin_s", "swin_b", "swin_v2_t", "swin_v2_s", "swin_v2_b"]),
]
TORCH_MIN_SIDE = {"inception_v3": 75, "googlenet": 32, **{f"swin{v}_{s}": 224 for v in ("", "_v2") for s in "tsb"}}
# VGG and AlexNet pool to a fixed 7×7 or 6×6 grid, which ONNX export can only write when it divides the input.
TORCH_FIXED_SIDE = {"alexnet": 224, **{f"vgg{n}{bn}": 224 for n in (11, 13, 16, 19) for bn in ("", "_bn")}}

# timm (pretrained=False): (family, models, input side at the default --size). The first of each
# family is its smallest. The transformers are made at that side (img_size), their position tables
# with them; Swin keeps 224 (its windows divide that grid).
TIMM = [
    ("vit", ["vit_tiny_patch16_224", "vit_small_patch16_224", "vit_base_patch16_224", "vit_small_patch32_224",
             "vit_base_patch32_224", "vit_tiny_patch16_384", "vit_base_patch16_384"], 64),
    ("deit", ["deit_tiny_distilled_patch16_224", "deit_tiny_patch16_224", "deit_small_patch16_224", "deit_base_patch16_224",
              "deit_small_distilled_patch16_224", "deit_base_distilled_patch16_224"], 64),
    ("dinov2", ["vit_small_patch14_reg4_dinov2", "vit_small_patch14_dinov2", "vit_base_patch14_dinov2", "vit_base_patch14_reg4_dinov2"], 56),
    ("clip", ["vit_base_patch16_clip_224"], 64),
    ("swin", ["swin_tiny_patch4_window7_224"], 224),
    ("convnext", ["convnext_atto", "convnext_femto", "convnext_pico", "convnext_nano", "convnext_tiny"], 64),
    ("resnet", ["resnet18d", "resnet34d", "resnet50d", "resnet101d", "resnet18", "resnet50"], 64),
    ("efficientnet", ["efficientnet_b0", "tf_efficientnet_lite0"], 64),
    ("mobilenetv3", ["mobilenetv3_large_100"], 64),
    ("regnet", ["regnety_016"], 64),
    ("rexnet", ["rexnet_100"], 64),
    ("ghostnet", ["ghostnet_100"], 64),
    # timm CNNs graft opens from ONNX only (their state dicts have no built-in architecture).
    ("onnx_cnn", ["efficientvit_b0", "mixnet_s", "cspdarknet53", "dla34", "res2net50_26w_4s", "resnest14d", "dpn68",
                  "repvgg_a0", "mobileone_s0", "hrnet_w18_small", "poolformer_s12"], 64),
]
TIMM_TRANSFORMERS = {"vit", "deit", "dinov2", "clip", "swin"}
TIMM_ONNX_ONLY = {"onnx_cnn"}
TIMM_FIXED_SIDE = {"swin": 224}
# Hugging Face transformers, built from configs at ViT-Tiny's sizes (the hub's checkpoints are
# configs like these with other numbers): family → (model class, config class, config).
_TINY = dict(hidden_size=192, num_hidden_layers=12, num_attention_heads=3, intermediate_size=768, image_size=64, patch_size=16)
HUGGING_FACE = {
    "vit": ("ViTForImageClassification", "ViTConfig", dict(_TINY, num_labels=10)),
    "deit": ("DeiTForImageClassificationWithTeacher", "DeiTConfig", dict(_TINY, num_labels=10)),
    "dinov2": ("Dinov2Model", "Dinov2Config", dict(hidden_size=192, num_hidden_layers=12, num_attention_heads=3, mlp_ratio=4,
                                                   image_size=56, patch_size=14)),
    "dinov2_with_registers": ("Dinov2WithRegistersForImageClassification", "Dinov2WithRegistersConfig",
                              dict(hidden_size=192, num_hidden_layers=12, num_attention_heads=3, mlp_ratio=4, image_size=56, patch_size=14,
                                   num_register_tokens=4, num_labels=10)),
    "swin": ("SwinForImageClassification", "SwinConfig", dict(image_size=224, num_labels=10)),
    "convnext": ("ConvNextForImageClassification", "ConvNextConfig", dict(image_size=64, num_labels=10)),
    "resnet": ("ResNetForImageClassification", "ResNetConfig", dict(image_size=64, num_labels=10)),
}


def relative(a, b):
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-12))


def nudge(x, rng):
    """The input moved by one part in 10^7: how far the reference's own output moves under
    float32 rounding (the noise floor a comparison cannot go below)."""
    return (x * (1 + 1e-7 * rng.standard_normal(x.shape))).astype(np.float32)


def save_array(out, name, array):
    path = os.path.join(out, name)
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))
    return name


def keras_entries(out, names, size, rng):
    import keras
    import tf_keras
    entries = []
    for family, constructors, minimum in KERAS + TF_KERAS_ONLY:
        for index, constructor in enumerate(constructors):
            if names is not None and constructor not in names and family not in names:
                continue
            if names is None and index > 0:
                continue
            side = FIXED_SIZE.get(constructor, max(size, minimum))
            x = rng.uniform(0, 255, (2, side, side, 3)).astype(np.float32)
            input_name = save_array(out, f"keras_{constructor}_input.npy", x.transpose(0, 3, 1, 2))
            builders = [("keras3", keras)] if (family, constructors, minimum) not in TF_KERAS_ONLY else []
            builders.append(("tfkeras", tf_keras))
            for flavour, library in builders:
                if not hasattr(library.applications, constructor):
                    continue
                library.utils.set_random_seed(3)
                start = time.time()
                model = getattr(library.applications, constructor)(weights=None, input_shape=(side, side, 3), classifier_activation=None)
                calibrate_keras(model, rng.uniform(0, 255, (8, side, side, 3)).astype(np.float32))
                perturb_keras(model, rng)
                y = model(x, training=False).numpy()
                noise = relative(model(nudge(x, rng), training=False).numpy(), y)
                output_name = save_array(out, f"{flavour}_{constructor}_output.npy", y)
                statistics = sum(int(np.prod(w.shape)) for layer in model.layers if "BatchNormalization" in type(layer).__name__
                                 for w in layer.weights if "moving" in w.name)
                normalization = sum(int(np.prod(w.shape)) for layer in model.layers if type(layer).__name__ == "Normalization"
                                    for w in layer.weights)
                total = int(model.count_params())
                files = []
                if flavour == "keras3":
                    files.append(("keras", f"keras3_{constructor}.keras"))
                    # CI (one model per family) leaves out Keras 3's .h5: tf-keras's .h5 of the same
                    # family goes through the same HDF5 reader and layer table, and --all keeps it.
                    if names is not None:
                        files.append(("h5", f"keras3_{constructor}.h5"))
                else:
                    files.append(("h5", f"tfkeras_{constructor}.h5"))
                for kind, file in files:
                    model.save(os.path.join(out, file))
                    entries.append({"framework": flavour, "family": family, "model": constructor, "format": kind, "file": file,
                                    "input": input_name, "output": output_name, "framework_total": total,
                                    "parameters": total - statistics - normalization, "statistics": statistics, "noise": noise})
                print(f"{flavour} {constructor} {side}×{side}: {total:,} parameters, {time.time() - start:.1f} s", file=sys.stderr)
                del model
                library.backend.clear_session()
    return entries


def calibrate_keras(model, x):
    """BatchNorm statistics of real activations (one training-mode pass with momentum 0), as a
    trained network has them: random weights with identity statistics blow activations up through
    a deep network until float32 rounding decides the output, and no comparison means anything."""
    norms = [layer for layer in model.layers if "BatchNormalization" in type(layer).__name__]
    saved = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0
    model(x, training=True)
    for layer, momentum in zip(norms, saved):
        layer.momentum = momentum


def perturb_keras(model, rng):
    """Non-trivial BatchNorm statistics (the calibrated ones, scaled a little) and affine parameters."""
    for layer in model.layers:
        if "BatchNormalization" in type(layer).__name__:
            for w in layer.weights:
                shape = tuple(w.shape)
                if "moving_mean" in w.name:
                    w.assign(w.numpy() + rng.normal(0, 0.05, shape).astype(np.float32))
                elif "moving_variance" in w.name:
                    w.assign(w.numpy() * rng.uniform(0.8, 1.25, shape).astype(np.float32))
                elif "gamma" in w.name:
                    w.assign(rng.uniform(0.4, 0.8, shape).astype(np.float32))
                elif "beta" in w.name:
                    w.assign(rng.normal(0, 0.1, shape).astype(np.float32))


def torch_entries(out, names, size, rng):
    import torchvision
    entries = []
    for family, constructors in TORCHVISION:
        for index, constructor in enumerate(constructors):
            if names is not None and constructor not in names and family not in names:
                continue
            if names is None and index > 0:
                continue
            side = TORCH_FIXED_SIDE.get(constructor, max(size, TORCH_MIN_SIDE.get(constructor, 32)))
            kwargs = {"aux_logits": False, "init_weights": True} if constructor in ("googlenet", "inception_v3") else {}
            if family == "vit":
                patch = int(constructor.rsplit("_", 1)[1])
                side = -(-side // patch) * patch  # the grid must be whole patches (vit_h_14 at 64 → 70)
                kwargs["image_size"] = side
            entries += module_entries(out, "torch", family, constructor, index,
                                      lambda: getattr(torchvision.models, constructor)(weights=None, **kwargs), side, rng,
                                      fixed_grid=family in ("vit", "swin"))
    return entries


def timm_entries(out, names, size, rng):
    import timm
    entries = []
    for family, constructors, default_side in TIMM:
        for index, constructor in enumerate(constructors):
            if names is not None and constructor not in names and f"timm_{family}" not in names and family not in names:
                continue
            if names is None and index > 0:
                continue
            side = TIMM_FIXED_SIDE.get(family, default_side if size == 64 else size)
            kwargs = {"img_size": side} if family in TIMM_TRANSFORMERS else {}
            entries += module_entries(out, "timm", family, constructor, index,
                                      lambda: timm.create_model(constructor, pretrained=False, **kwargs), side, rng,
                                      fixed_grid=family in TIMM_TRANSFORMERS, onnx_only=family in TIMM_ONNX_ONLY)
    return entries


def hf_entries(out, names, size, rng):
    import torch
    import transformers
    entries = []
    for family, (model_class, config_class, config) in HUGGING_FACE.items():
        if names is not None and family not in names and f"hf_{family}" not in names:
            continue
        side = config.get("image_size", size)
        torch.manual_seed(3)
        start = time.time()
        model = perturb_torch(getattr(transformers, model_class)(getattr(transformers, config_class)(**config)), rng, side)
        x = rng.uniform(-2, 2, (2, 3, side, side)).astype(np.float32)
        with torch.no_grad():
            def run(inputs):
                result = model(torch.from_numpy(inputs))
                return (result.logits if hasattr(result, "logits") else result.pooler_output).reshape(len(inputs), -1).numpy()
            y = run(x)
            noise = relative(run(nudge(x, rng)), y)
        name = f"hf_{family}"
        folder = os.path.join(out, name)
        model.save_pretrained(folder)
        # DINOv2's mask_token is read only with bool_masked_pos (masked pretraining), never when a
        # model classifies or embeds an image: graft leaves it out, and so does its total here.
        parameters = sum(p.numel() for key, p in model.named_parameters() if not key.endswith("mask_token"))
        statistics = sum(b.numel() for key, b in model.named_buffers() if key.endswith("running_mean") or key.endswith("running_var"))
        entries.append({"framework": "hf", "family": family, "model": model_class, "format": "hf-folder", "file": name,
                        "input": save_array(out, f"{name}_input.npy", x), "output": save_array(out, f"{name}_output.npy", y),
                        "framework_total": parameters, "parameters": parameters, "statistics": statistics, "noise": noise})
        print(f"hf {model_class} {side}×{side}: {parameters:,} parameters, {time.time() - start:.1f} s", file=sys.stderr)
    return entries


def perturb_torch(model, rng, side):
    """A trained network's look on random weights: BatchNorm statistics of real activations (one
    training pass, cumulative average), then perturbed; norm affine parameters away from 1 and 0;
    class, register and position tokens and layer-scale γs away from their near-zero inits (so a
    reader that drops them fails)."""
    import torch
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for module in norms:
        module.reset_running_stats()
        module.momentum = None
    if norms:
        model.train()
        with torch.no_grad():
            model(torch.from_numpy(rng.uniform(-2, 2, (8, 3, side, side)).astype(np.float32)))
    with torch.no_grad():
        for module in norms:
            module.momentum = 0.1
            n = module.num_features
            module.running_mean.add_(torch.from_numpy(rng.normal(0, 0.05, n).astype(np.float32)))
            module.running_var.mul_(torch.from_numpy(rng.uniform(0.8, 1.25, n).astype(np.float32)))
            module.weight.copy_(torch.from_numpy(rng.uniform(0.4, 0.8, n).astype(np.float32)))
            module.bias.copy_(torch.from_numpy(rng.normal(0, 0.1, n).astype(np.float32)))
        for module in model.modules():
            if isinstance(module, (torch.nn.LayerNorm, torch.nn.GroupNorm)) and module.weight is not None:
                module.weight.copy_(torch.from_numpy(rng.uniform(0.6, 1.4, module.weight.shape).astype(np.float32)))
                module.bias.copy_(torch.from_numpy(rng.normal(0, 0.1, module.bias.shape).astype(np.float32)))
        for name, p in model.named_parameters():
            leaf = name.split(".")[-1]
            if leaf in ("cls_token", "dist_token", "reg_token", "register_tokens", "mask_token", "pos_embed", "class_token",
                        "position_embeddings", "distillation_token"):
                p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
            elif leaf in ("gamma", "lambda1", "gamma_1", "gamma_2", "layer_scale_parameter") or name.endswith("ls1.gamma") or name.endswith("ls2.gamma"):
                p.copy_(torch.from_numpy(rng.uniform(0.2, 0.6, tuple(p.shape)).astype(np.float32)))
            elif not bool(p.any()):
                # Zero-initialized weights and biases (torchvision ViT's head, most biases): a
                # reader that drops or swaps them would still match.
                p.copy_(torch.from_numpy(rng.normal(0, 0.02, tuple(p.shape)).astype(np.float32)))
    return model.eval()


def module_entries(out, framework, family, constructor, index, build, side, rng, fixed_grid=False, onnx_only=False):
    """One PyTorch module (torchvision's or timm's) in every format graft reads: state dict (and the
    legacy serialization for a family's first), safetensors, ONNX from both exporters (only these
    two where onnx_only)."""
    import torch
    torch.manual_seed(3)
    start = time.time()
    model = perturb_torch(build(), rng, side)
    x = rng.uniform(-2, 2, (2, 3, side, side)).astype(np.float32)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
        noise = relative(model(torch.from_numpy(nudge(x, rng))).numpy(), y)
    stem = f"{framework}_{constructor}"
    input_name = save_array(out, f"{stem}_input.npy", x)
    output_name = save_array(out, f"{stem}_output.npy", y)
    parameters = sum(p.numel() for p in model.parameters())
    statistics = sum(b.numel() for name, b in model.named_buffers() if name.endswith("running_mean") or name.endswith("running_var"))
    base = {"framework": framework, "family": family, "model": constructor, "input": input_name, "output": output_name,
            "framework_total": parameters, "parameters": parameters, "statistics": statistics, "noise": noise}
    entries = []
    if not onnx_only:
        torch.save(model.state_dict(), os.path.join(out, f"{stem}.pth"))
        entries.append(dict(base, format="pth", file=f"{stem}.pth"))
        if index == 0 and framework == "torch":
            torch.save(model.state_dict(), os.path.join(out, f"{stem}_legacy.pth"), _use_new_zipfile_serialization=False)
            entries.append(dict(base, format="pth-legacy", file=f"{stem}_legacy.pth"))
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(out, f"{stem}.safetensors"))
        entries.append(dict(base, format="safetensors", file=f"{stem}.safetensors"))
    onnx_file = f"{stem}.onnx"
    # Free batch and spatial axes, or only a free batch where the model fixes its grid (VGG and
    # AlexNet's pooling; a transformer's position table, which the trace writes for this size).
    exported = None
    for axes in ([{0: "N"}] if fixed_grid else [{0: "N", 2: "H", 3: "W"}, {0: "N"}]):
        try:
            torch.onnx.export(model, torch.from_numpy(x), os.path.join(out, onnx_file), opset_version=17, dynamo=False,
                              input_names=["input"], output_names=["logits"], dynamic_axes={"input": axes, "logits": {0: "N"}})
            exported = True
            break
        except Exception as error:
            exported = error
    # torch.onnx.export folds BatchNorm into the convolutions: the file's totals are its own.
    if exported is True:
        entries.append(dict(base, format="onnx", file=onnx_file, parameters=None, statistics=None))
    else:
        print(f"{framework} {constructor}: the TorchScript exporter failed: {type(exported).__name__}: {str(exported)[:200]}", file=sys.stderr)
        entries.append(dict(base, format="onnx", file=None, exporter_failed=f"{type(exported).__name__}"))
    # The dynamo exporter (torch.onnx.export's default since torch 2.9): its own graphs (opset 18+,
    # decomposed by torch.export), weights in a side file beside the graph (onnx external data).
    dynamo_file = f"{stem}_dynamo.onnx"
    try:
        with contextlib.redirect_stdout(sys.stderr):  # its progress lines go to the log, with the rest
            torch.onnx.export(model, (torch.from_numpy(x),), os.path.join(out, dynamo_file), dynamo=True, external_data=True,
                              input_names=["input"], output_names=["logits"], dynamic_shapes={"x": {0: torch.export.Dim("N")}})
        entries.append(dict(base, format="onnx-dynamo", file=dynamo_file, parameters=None, statistics=None))
    except Exception as error:  # a model torch.export cannot trace is torch's gap, not graft's: said, not hidden
        print(f"{framework} {constructor}: the dynamo exporter failed: {type(error).__name__}: {str(error)[:200]}", file=sys.stderr)
        entries.append(dict(base, format="onnx-dynamo", file=None, exporter_failed=f"{type(error).__name__}"))
    print(f"{framework} {constructor} {side}×{side}: {parameters:,} parameters, {time.time() - start:.1f} s", file=sys.stderr)
    return entries


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--all", action="store_true", help="every model, not one per family")
    parser.add_argument("--only", help="comma-separated model or family names")
    parser.add_argument("--size", type=int, default=64, help="input side (raised to each model's minimum)")
    parser.add_argument("--frameworks", default="keras,torch,timm,hf")
    parser.add_argument("--families", action="store_true", help="print the family names of the frameworks and stop")
    args = parser.parse_args()
    frameworks = args.frameworks.split(",")
    if args.families:
        families = ([f for f, _, _ in KERAS + TF_KERAS_ONLY] if "keras" in frameworks else []) + \
                   ([f for f, _ in TORCHVISION] if "torch" in frameworks else []) + \
                   ([f"timm_{f}" for f, _, _ in TIMM] if "timm" in frameworks else []) + \
                   ([f"hf_{f}" for f in HUGGING_FACE] if "hf" in frameworks else [])
        print("\n".join(families))
        return
    os.makedirs(args.out, exist_ok=True)
    names = None
    if args.only:
        names = set(args.only.split(","))
    elif args.all:
        names = {m for _, ms, _ in KERAS + TF_KERAS_ONLY for m in ms} | {m for _, ms in TORCHVISION for m in ms} | \
                {m for _, ms, _ in TIMM for m in ms} | {f"hf_{f}" for f in HUGGING_FACE}
    rng = np.random.default_rng(11)
    entries = []
    if "keras" in frameworks:
        entries += keras_entries(args.out, names, args.size, rng)
    if "torch" in frameworks:
        entries += torch_entries(args.out, names, args.size, rng)
    if "timm" in frameworks:
        entries += timm_entries(args.out, names, args.size, rng)
    if "hf" in frameworks:
        entries += hf_entries(args.out, names, args.size, rng)
    # One manifest per run: TensorFlow and PyTorch cannot share a process (their LLVMs collide),
    # so scripts/check-zoo.sh runs each framework on its own.
    with open(os.path.join(args.out, f"manifest-{'-'.join(frameworks)}.json"), "w") as f:
        json.dump(entries, f, indent=1)
    print(f"{len(entries)} files in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
