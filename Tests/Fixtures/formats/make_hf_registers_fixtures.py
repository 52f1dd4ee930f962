"""Hugging Face DINOv2 with registers for HuggingFaceTests: a small
Dinov2WithRegistersForImageClassification (width 128, two layers, two heads, 8x8 patches, four
register tokens inserted after the position embedding, three labels; random weights, seeded),
saved with save_pretrained, with its logits on vit_input.npy (32x32) and on vit_input_48x40.npy
(the position table resized: bicubic, antialiased, as its interpolate_pos_encoding does).

    python Tests/Fixtures/formats/make_hf_registers_fixtures.py
(with torch and transformers: scripts/check-zoo.sh's virtual environment has them). Written with
torch 2.15, transformers 5.25; seed 19. Nothing is downloaded."""
import os
import shutil

import numpy as np
import torch
import transformers
from transformers import Dinov2WithRegistersConfig, Dinov2WithRegistersForImageClassification

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(19)
torch.set_num_threads(1)


def save(name, array):
    np.save(os.path.join(here, name), np.ascontiguousarray(array, dtype=np.float32))


labels = {0: "cat", 1: "dog", 2: "bird"}
model = Dinov2WithRegistersForImageClassification(Dinov2WithRegistersConfig(
    hidden_size=128, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2, image_size=32, patch_size=8, num_register_tokens=4,
    num_labels=3, id2label=labels, label2id={v: k for k, v in labels.items()}))
with torch.no_grad():
    for name, p in model.named_parameters():
        if "norm" in name and name.endswith("weight"):
            p.copy_(1 + 0.2 * torch.randn_like(p))
        elif "lambda1" in name:
            p.copy_(0.5 + 0.3 * torch.randn_like(p))
        else:
            p.copy_(0.08 * torch.randn_like(p))
model.eval()
path = os.path.join(here, "hf_dinov2_registers")
shutil.rmtree(path, ignore_errors=True)
model.save_pretrained(path)
with torch.no_grad():
    save("hf_dinov2_registers_output.npy", model(torch.from_numpy(np.load(os.path.join(here, "vit_input.npy")))).logits.numpy())
    save("hf_dinov2_registers_48x40_output.npy", model(torch.from_numpy(np.load(os.path.join(here, "vit_input_48x40.npy")))).logits.numpy())
print(sorted(os.listdir(path)), sum(p.numel() for p in model.parameters()), "parameters; transformers", transformers.__version__)
