"""ONNX fixtures for SwinTransformerTests: two-stage Swin V1 (torchvision, timm) and V2 (torchvision)
models (width 16, 1 and 2 heads, 3x3 windows, 4x4 patches, random weights, seeded) as
torch.onnx.export writes them, with the TorchScript exporter (opset 17) and the dynamo exporter
(opset 18): window partition merges the batch with the windows ([N·windows, T, C]), shifted
blocks roll and add the −100 mask, the relative position bias is gathered from its table (V2:
from its MLP on the coordinate table, cosine attention through F.normalize). On 36x36 images:
9x9 positions, whole windows, an odd map merged. Each is checked against onnxruntime here; the
tests compare graft with PyTorch's outputs, saved beside.

    python Tests/Fixtures/formats/make_swin_onnx_fixtures.py
(with torch, torchvision, timm and onnxruntime: scripts/check-zoo.sh's virtual
environment has them). Written with torch 2.15, torchvision 0.29, timm 1.0; seed 17. Nothing is downloaded."""
import os

import numpy as np
import onnxruntime as ort
import torch
import torchvision
from timm.models.swin_transformer import SwinTransformer

here = os.path.dirname(os.path.abspath(__file__))
torch.set_num_threads(1)
torch.manual_seed(17)
rng = np.random.default_rng(17)
x = rng.uniform(-1, 1, (2, 3, 36, 36)).astype(np.float32)
np.save(os.path.join(here, "swin_onnx_input.npy"), x)


def randomize(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif name.endswith("logit_scale"):
                p.copy_(np.log(10) + 0.5 * torch.randn_like(p))
            elif "relative_position_bias_table" in name:
                p.copy_(0.5 * torch.randn_like(p))
            else:
                p.copy_(0.15 * torch.randn_like(p))
    return model.eval()


common = dict(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[1, 2], window_size=[3, 3], stochastic_depth_prob=0.0, num_classes=5)
models = {
    "swin_torchvision": torchvision.models.SwinTransformer(**common),
    "swin_timm": SwinTransformer(img_size=36, patch_size=4, embed_dim=16, depths=(2, 2), num_heads=(1, 2), window_size=3, num_classes=5),
    "swin_v2_torchvision": torchvision.models.SwinTransformer(**common, block=torchvision.models.swin_transformer.SwinTransformerBlockV2,
                                                             downsample_layer=torchvision.models.swin_transformer.PatchMergingV2),
}
for name, model in models.items():
    randomize(model)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    np.save(os.path.join(here, f"{name}_onnx_output.npy"), want)
    for suffix, dynamo, opset in [("torch17", False, 17), ("dynamo18", True, 18)]:
        path = os.path.join(here, f"{name}_{suffix}.onnx")
        options = dict(dynamic_shapes={"x": {0: torch.export.Dim("N", min=1, max=64)}}, external_data=False) if dynamo else \
            dict(input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
        torch.onnx.export(model, (torch.from_numpy(x),), path, opset_version=opset, dynamo=dynamo, **options)
        session = ort.InferenceSession(path)
        got = session.run(None, {session.get_inputs()[0].name: x})[0]
        assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max(), (path, np.abs(got - want).max())
        print(os.path.basename(path), os.path.getsize(path), "bytes")
