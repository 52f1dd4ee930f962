"""Hostile Hugging Face folders (issue 27): a tiny ViTForImageClassification (width 8, one layer,
16x16 images of 8x8 patches, weights all zeros) saved as save_pretrained would, then broken one way
per folder. Standard library only (the safetensors header is written by hand), so the files do not
change with library versions. Run from the repository root:

    python3 Tests/Fixtures/malformed/make_hf_malformed.py

- hf_no_weights: config.json without model.safetensors or pytorch_model.bin;
- hf_unknown_model_type: a model_type graft does not build ('gpt2');
- hf_remote_code: a config that asks to run the model's own code (auto_map);
- hf_heads_not_dividing: 3 heads for a width of 8;
- hf_position_1e9: a position table declared with 10^9 + 1 tokens (its bytes are not in the file).
"""
import json
import os
import shutil
import struct

here = os.path.dirname(os.path.abspath(__file__))
WIDTH, HIDDEN, PATCH, IMAGE, CLASSES = 8, 16, 8, 16, 2
TOKENS = (IMAGE // PATCH) ** 2 + 1

CONFIG = {
    "architectures": ["ViTForImageClassification"], "model_type": "vit", "hidden_size": WIDTH,
    "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": HIDDEN, "hidden_act": "gelu",
    "image_size": IMAGE, "patch_size": PATCH, "num_channels": 3, "layer_norm_eps": 1e-12, "qkv_bias": True,
    "id2label": {"0": "a", "1": "b"}, "label2id": {"a": 0, "b": 1},
}


def shapes(tokens=TOKENS):
    out = {
        "vit.embeddings.cls_token": [1, 1, WIDTH],
        "vit.embeddings.position_embeddings": [1, tokens, WIDTH],
        "vit.embeddings.patch_embeddings.projection.weight": [WIDTH, 3, PATCH, PATCH],
        "vit.embeddings.patch_embeddings.projection.bias": [WIDTH],
    }
    layer = "vit.encoder.layer.0."
    for part in ["attention.attention.query", "attention.attention.key", "attention.attention.value", "attention.output.dense"]:
        out[layer + part + ".weight"], out[layer + part + ".bias"] = [WIDTH, WIDTH], [WIDTH]
    out[layer + "intermediate.dense.weight"], out[layer + "intermediate.dense.bias"] = [HIDDEN, WIDTH], [HIDDEN]
    out[layer + "output.dense.weight"], out[layer + "output.dense.bias"] = [WIDTH, HIDDEN], [WIDTH]
    for norm in [layer + "layernorm_before", layer + "layernorm_after", "vit.layernorm"]:
        out[norm + ".weight"], out[norm + ".bias"] = [WIDTH], [WIDTH]
    out["classifier.weight"], out["classifier.bias"] = [CLASSES, WIDTH], [CLASSES]
    return out


def safetensors(path, tensors, declared=None):
    """Zeros for every tensor; `declared` overrides a tensor's shape in the header only."""
    header, offset = {}, 0
    for name, shape in tensors.items():
        count = 1
        for size in (declared or {}).get(name, shape):
            count *= size
        header[name] = {"dtype": "F32", "shape": (declared or {}).get(name, shape), "data_offsets": [offset, offset + 4 * count]}
        offset += 4 * count
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    body = sum(4 * eval("*".join(map(str, shape)) or "1") for shape in tensors.values())
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + bytes(body))


def folder(name, config=CONFIG, weights=True, declared=None):
    path = os.path.join(here, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    if weights:
        safetensors(os.path.join(path, "model.safetensors"), shapes(), declared)


folder("hf_no_weights", weights=False)
folder("hf_unknown_model_type", dict(CONFIG, model_type="gpt2"))
folder("hf_remote_code", dict(CONFIG, auto_map={"AutoModelForImageClassification": "modeling_evil.EvilViT"}))
folder("hf_heads_not_dividing", dict(CONFIG, num_attention_heads=3))
folder("hf_position_1e9", declared={"vit.embeddings.position_embeddings": [1, 10**9 + 1, WIDTH]})
# The configs are fuzz seeds too (the hfconfig target).
for name in ["hf_unknown_model_type", "hf_heads_not_dividing"]:
    shutil.copy(os.path.join(here, name, "config.json"), os.path.join(here, "..", "..", "..", "Fuzz", "corpus", "hfconfig", name + ".json"))
