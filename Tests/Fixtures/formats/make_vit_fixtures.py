"""Vision transformer fixtures for VisionTransformerTests: small ViTs as timm and torchvision build
them (width 128, 2 heads, 2 blocks, 8×8 patches of 32×32 images; random weights, seeded), each saved
as its state dict (safetensors; one also as .pth) with an input and the framework's output:

- vit_timm: timm VisionTransformer (class token, token pooling), also run at 48×40 with
  dynamic_img_size=True (the position table resized by timm's resample_abs_pos_embed);
- vit_deit_distilled: timm VisionTransformerDistilled (class and distillation tokens, two heads);
- vit_dinov2_reg: DINOv2 with registers as timm builds it (4 register tokens, no_embed_class,
  layer scale, no head);
- vit_clip: a CLIP image tower as timm builds it (norm_pre, no patch bias, LayerNorm eps 1e-5);
- vit_avg: global_pool="avg" (the mean of the patch tokens, then fc_norm);
- vit_torchvision: torchvision VisionTransformer;
- vit_timm, vit_deit_distilled and vit_dinov2_reg also as torch.onnx.export (TorchScript, opset 17) writes them.

    python Tests/Fixtures/formats/make_vit_fixtures.py
(with torch, torchvision, timm and safetensors: scripts/check-zoo.sh's virtual environment has
them). Written with torch 2.15, torchvision 0.29, timm 1.0; seed 11. Nothing is downloaded."""
import functools
import os

import numpy as np
import timm
import torch
import torchvision
from safetensors.torch import save_file
from timm.models.deit import VisionTransformerDistilled
from timm.models.vision_transformer import VisionTransformer

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(11)
torch.set_num_threads(1)
rng = np.random.default_rng(11)


def save(name, array):
    np.save(os.path.join(here, name), np.ascontiguousarray(array, dtype=np.float32))


def randomize(model):
    """Every tensor drawn again, large enough that a wrong scale, order or epsilon shows."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or "ln" in name and name.endswith("weight") \
                    or name.endswith("norm.weight") or name.endswith("norm_pre.weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif "gamma" in name:
                p.copy_(0.5 + 0.3 * torch.randn_like(p))
            else:
                p.copy_(0.08 * torch.randn_like(p))
    return model.eval()


common = dict(img_size=32, patch_size=8, embed_dim=128, depth=2, num_heads=2)
models = {
    "vit_timm": VisionTransformer(num_classes=5, **common),
    "vit_deit_distilled": VisionTransformerDistilled(num_classes=5, **common),
    "vit_dinov2_reg": VisionTransformer(num_classes=0, reg_tokens=4, no_embed_class=True, init_values=1e-5, **common),
    "vit_clip": VisionTransformer(num_classes=5, pre_norm=True, norm_layer=functools.partial(torch.nn.LayerNorm, eps=1e-5), **common),
    "vit_avg": VisionTransformer(num_classes=5, global_pool="avg", **common),
    "vit_torchvision": torchvision.models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                                            hidden_dim=128, mlp_dim=512, num_classes=5),
}
x = rng.normal(0, 1, (2, 3, 32, 32)).astype(np.float32)
save("vit_input.npy", x)
for name, model in models.items():
    randomize(model)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, os.path.join(here, f"{name}.safetensors"))
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    save(f"{name}_output.npy", y)
    print(name, sum(p.numel() for p in model.parameters()), y.shape)
torch.save(models["vit_timm"].state_dict(), os.path.join(here, "vit_timm.pth"))
# torch.onnx.export's TorchScript exporter (opset 17, a free batch): the cls token's Expand/Where
# chain, attention's batch-moving permute(2, 0, 3, 1, 4) and unbind, computed Reshapes.
for name in ["vit_timm", "vit_deit_distilled", "vit_dinov2_reg"]:
    torch.onnx.export(models[name], torch.from_numpy(x), os.path.join(here, f"{name}_torch17.onnx"), opset_version=17,
                      input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, dynamo=False)

# timm at another size: the same weights, dynamic_img_size=True (the table resized each forward).
dynamic = VisionTransformer(num_classes=5, dynamic_img_size=True, **common)
dynamic.load_state_dict(models["vit_timm"].state_dict())
dynamic.eval()
wide = rng.normal(0, 1, (2, 3, 48, 40)).astype(np.float32)
save("vit_input_48x40.npy", wide)
with torch.no_grad():
    save("vit_timm_48x40_output.npy", dynamic(torch.from_numpy(wide)).numpy())
# One SGD step with timm's layer-wise rate decay (param_groups_layer_decay, decay 0.5, lr 0.1, no
# momentum) on four samples: each parameter's lr_scale, and some tensors after the step.
import json

from timm.optim import param_groups_layer_decay

stepped = VisionTransformer(num_classes=5, **common)
stepped.load_state_dict(models["vit_timm"].state_dict())
groups = param_groups_layer_decay(stepped, weight_decay=0.0, layer_decay=0.5)
names = {id(p): n for n, p in stepped.named_parameters()}
scales = {names[id(p)]: g["lr_scale"] for g in groups for p in g["params"]}
with open(os.path.join(here, "vit_timm_layer_decay.json"), "w") as f:
    json.dump(scales, f, indent=1, sort_keys=True)
optimizer = torch.optim.SGD([{"params": g["params"], "lr": 0.1 * g["lr_scale"]} for g in groups], lr=0.1, momentum=0)
batch = rng.normal(0, 1, (4, 3, 32, 32)).astype(np.float32)
labels = [0, 3, 1, 4]
save("vit_step_input.npy", batch)
loss = torch.nn.functional.cross_entropy(stepped(torch.from_numpy(batch)), torch.tensor(labels))
loss.backward()
optimizer.step()
kept = ["patch_embed.proj.weight", "cls_token", "pos_embed", "blocks.0.attn.qkv.weight", "blocks.0.norm1.weight",
        "blocks.1.mlp.fc2.weight", "norm.bias", "head.weight"]
save_file({k: v.detach().contiguous() for k, v in stepped.state_dict().items() if k in kept}, os.path.join(here, "vit_timm_layer_decay_step.safetensors"))
print("layer decay step: loss", loss.item(), "scales", sorted(set(scales.values())))
print("timm", timm.__version__, "torch", torch.__version__, "torchvision", torchvision.__version__)
