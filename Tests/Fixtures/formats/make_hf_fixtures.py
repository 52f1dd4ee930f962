"""Hugging Face fixtures for HuggingFaceTests: small ViT, DeiT and DINOv2 models built by transformers
from configs (random weights, seeded; nothing downloaded), each saved with save_pretrained as a
folder (config.json, model.safetensors; the ViT also with its image processor's
preprocessor_config.json), with the model's output on vit_input.npy:

- hf_vit: ViTForImageClassification, 4 heads of 32 (not the 64 a width of 128 would suggest: the
  config says), labels in id2label, exact GELU, LayerNorm eps 1e-12; also run at 48x40 with
  interpolate_pos_encoding=True;
- hf_deit: DeiTForImageClassificationWithTeacher (class and distillation tokens, two heads averaged),
  GELU's tanh form (hidden_act gelu_pytorch_tanh);
- hf_dinov2: Dinov2Model (layer scale, eps 1e-6, no head): the pooled output (the class token after
  layernorm);
- hf_convnext: ConvNextForImageClassification, two stages (timm's ConvNeXt under other names).
(ResNetForImageClassification is torchvision's ResNet at its sizes, too large to commit: the zoo
checks it against transformers, HuggingFaceTests its names.)

    python Tests/Fixtures/formats/make_hf_fixtures.py
(with torch and transformers: scripts/check-zoo.sh's virtual environment has them). Written with
torch 2.15, transformers 5.x; seed 12."""
import os
import shutil

import numpy as np
import torch
import transformers
from transformers import (DeiTConfig, DeiTForImageClassificationWithTeacher, Dinov2Config, Dinov2Model, ViTConfig,
                          ViTForImageClassification, ViTImageProcessor)

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(12)
torch.set_num_threads(1)
rng = np.random.default_rng(12)


def save(name, array):
    np.save(os.path.join(here, name), np.ascontiguousarray(array, dtype=np.float32))


def randomize(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layernorm" in name and name.endswith("weight") or "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif "lambda1" in name:
                p.copy_(0.5 + 0.3 * torch.randn_like(p))
            else:
                p.copy_(0.08 * torch.randn_like(p))
    return model.eval()


def folder(name):
    path = os.path.join(here, name)
    shutil.rmtree(path, ignore_errors=True)
    return path


x = np.load(os.path.join(here, "vit_input.npy"))
sizes = dict(hidden_size=128, num_hidden_layers=2, intermediate_size=256, image_size=32, patch_size=8)
labels = {0: "cat", 1: "dog", 2: "bird"}

vit = randomize(ViTForImageClassification(ViTConfig(num_attention_heads=4, num_labels=3, id2label=labels,
                                                    label2id={v: k for k, v in labels.items()}, **sizes)))
vit.save_pretrained(folder("hf_vit"))
ViTImageProcessor(size={"height": 32, "width": 32}, image_mean=[0.5, 0.4, 0.3], image_std=[0.2, 0.25, 0.3]).save_pretrained(os.path.join(here, "hf_vit"))
with torch.no_grad():
    save("hf_vit_output.npy", vit(torch.from_numpy(x)).logits.numpy())
    wide = np.load(os.path.join(here, "vit_input_48x40.npy"))
    save("hf_vit_48x40_output.npy", vit(torch.from_numpy(wide), interpolate_pos_encoding=True).logits.numpy())

deit = randomize(DeiTForImageClassificationWithTeacher(DeiTConfig(num_attention_heads=2, num_labels=4, hidden_act="gelu_pytorch_tanh", **sizes)))
deit.save_pretrained(folder("hf_deit"))
with torch.no_grad():
    save("hf_deit_output.npy", deit(torch.from_numpy(x)).logits.numpy())

dinov2 = randomize(Dinov2Model(Dinov2Config(hidden_size=128, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2, image_size=32, patch_size=8)))
dinov2.save_pretrained(folder("hf_dinov2"))
with torch.no_grad():
    save("hf_dinov2_output.npy", dinov2(torch.from_numpy(x)).pooler_output.numpy())
# Built after the others, so their weights and outputs stay what they were.
from transformers import ConvNextConfig, ConvNextForImageClassification

convnext = randomize(ConvNextForImageClassification(ConvNextConfig(hidden_sizes=[16, 32], depths=[1, 2], num_stages=2,
                                                                   num_labels=3, image_size=32)))
convnext.save_pretrained(folder("hf_convnext"))
with torch.no_grad():
    save("hf_convnext_output.npy", convnext(torch.from_numpy(x)).logits.numpy())


for name in ["hf_vit", "hf_deit", "hf_dinov2", "hf_convnext"]:
    print(name, sorted(os.listdir(os.path.join(here, name))))
print("transformers", transformers.__version__, "torch", torch.__version__)
