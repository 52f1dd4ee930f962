"""Swin fixtures for SwinTransformerTests: small Swin V1 models as torchvision, timm and Hugging Face
build them (width 16, two blocks in each of four stages, 1-2-2-4 heads, 3x3 windows, 4x4 patches;
random weights, seeded), each saved with an input and the framework's output:

- swin_torchvision.safetensors: torchvision SwinTransformer, run on 96x96 images (24, 12, 6 and 3
  positions a side: whole windows, the last stage one window, unshifted) and on 56x52 ones (14x13
  positions: padded to 15x15 windows, a shifted mask over the padding, an odd map merged);
- swin_timm.safetensors: timm SwinTransformer (img_size 96, rolls before it pads), at 96x96;
- hf_swin/: Hugging Face SwinForImageClassification (save_pretrained, three labels), at 96x96;
- swin_v2_torchvision.safetensors: torchvision's Swin V2 (SwinTransformerBlockV2, PatchMergingV2:
  cosine attention, the position bias MLP, res-post-norm; one head's logit scale past ln 100, where
  it is clamped), at 96x96 and 56x52.

Norm scales, relative position tables and every other tensor are drawn again, large enough that a
wrong region, shift, bias index or epsilon shows.

    python Tests/Fixtures/formats/make_swin_fixtures.py
(with torch, torchvision, timm, transformers and safetensors: scripts/check-zoo.sh's virtual
environment has them). Written with torch 2.15, torchvision 0.29, timm 1.0, transformers 5.25;
seed 13. Nothing is downloaded."""
import os
import shutil

import numpy as np
import torch
import torchvision
from safetensors.torch import save_file
from timm.models.swin_transformer import SwinTransformer
from transformers import SwinConfig, SwinForImageClassification

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(13)
torch.set_num_threads(1)
rng = np.random.default_rng(13)


def save(name, array):
    np.save(os.path.join(here, name), np.ascontiguousarray(array, dtype=np.float32))


def randomize(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight") or name.startswith("features.0.2.weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif name.endswith("logit_scale"):
                p.copy_(np.log(10) + 0.5 * torch.randn_like(p))
                p.view(-1)[0] = 5.0
            elif "relative_position_bias_table" in name:
                p.copy_(0.5 * torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))
    return model.eval()


def run(model, x):
    with torch.no_grad():
        out = model(torch.from_numpy(x))
    return (out.logits if hasattr(out, "logits") else out).numpy()


x = rng.uniform(-1, 1, (2, 3, 96, 96)).astype(np.float32)
small = rng.uniform(-1, 1, (2, 3, 56, 52)).astype(np.float32)
save("swin_input.npy", x)
save("swin_input_56x52.npy", small)

tv = randomize(torchvision.models.SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4],
                                                  window_size=[3, 3], stochastic_depth_prob=0.0, num_classes=5))
save_file({k: v.contiguous() for k, v in tv.state_dict().items()}, os.path.join(here, "swin_torchvision.safetensors"))
save("swin_torchvision_output.npy", run(tv, x))
save("swin_torchvision_56x52_output.npy", run(tv, small))

tm = randomize(SwinTransformer(img_size=96, patch_size=4, embed_dim=16, depths=(2, 2, 2, 2), num_heads=(1, 2, 2, 4), window_size=3,
                               num_classes=5))
save_file({k: v.contiguous() for k, v in tm.state_dict().items()}, os.path.join(here, "swin_timm.safetensors"))
save("swin_timm_output.npy", run(tm, x))

labels = {0: "cat", 1: "dog", 2: "bird"}
hf = randomize(SwinForImageClassification(SwinConfig(image_size=96, patch_size=4, embed_dim=16, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4],
                                                     window_size=3, num_labels=3, id2label=labels, label2id={v: k for k, v in labels.items()})))
path = os.path.join(here, "hf_swin")
shutil.rmtree(path, ignore_errors=True)
hf.save_pretrained(path)
save("hf_swin_output.npy", run(hf, x))
v2 = randomize(torchvision.models.SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4],
                                                  window_size=[3, 3], stochastic_depth_prob=0.0, num_classes=5,
                                                  block=torchvision.models.swin_transformer.SwinTransformerBlockV2,
                                                  downsample_layer=torchvision.models.swin_transformer.PatchMergingV2))
save_file({k: v.contiguous() for k, v in v2.state_dict().items()}, os.path.join(here, "swin_v2_torchvision.safetensors"))
save("swin_v2_torchvision_output.npy", run(v2, x))
save("swin_v2_torchvision_56x52_output.npy", run(v2, small))
print("parameters:", {name: sum(p.numel() for p in m.parameters()) for name, m in [("torchvision", tv), ("timm", tm), ("hf", hf), ("v2", v2)]})
