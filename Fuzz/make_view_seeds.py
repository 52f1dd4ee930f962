"""Fuzz seeds for the ONNX import's batch views, as torch.onnx.export (TorchScript, opset 17) writes
them for two tiny modules: nn.MultiheadAttention with the batch second ([T, N, C], [T, N·heads, d],
[T·N, C]) and a window partition that merges the batch with the windows ([N·windows, T, C]), with
attention in each window. Run from the repository root with torch (scripts/check-zoo.sh's
virtual environment has it):

    python Fuzz/make_view_seeds.py
"""
import os

import torch

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "onnx")
torch.manual_seed(0)


class BatchSecond(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = torch.nn.MultiheadAttention(8, 2)
        self.head = torch.nn.Linear(8, 2)

    def forward(self, x):  # [N, 4, 8]
        t = x.transpose(0, 1)
        y, _ = self.attention(t, t, t, need_weights=False)
        return self.head(y.transpose(0, 1).mean(1))


class Windows(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = torch.nn.Linear(4, 12)
        self.head = torch.nn.Linear(4, 2)

    def forward(self, x):  # [N, 4, 4, 4]: 2×2 windows of 2×2
        n = x.shape[0]
        w = x.view(n, 2, 2, 2, 2, 4).permute(0, 1, 3, 2, 4, 5).reshape(-1, 4, 4)
        q, k, v = self.qkv(w).reshape(w.shape[0], 4, 3, 2, 2).permute(2, 0, 3, 1, 4).unbind(0)
        y = ((q @ k.transpose(-2, -1)).softmax(-1) @ v).transpose(1, 2).reshape(-1, 4, 4)
        y = y.view(n, 2, 2, 2, 2, 4).permute(0, 1, 3, 2, 4, 5).reshape(n, 4, 4, 4)
        return self.head(y.mean((1, 2)))


for name, module, shape in [("seed-batch-second-attention.onnx", BatchSecond(), (2, 4, 8)), ("seed-windows-merged-with-batch.onnx", Windows(), (2, 4, 4, 4))]:
    torch.onnx.export(module.eval(), (torch.randn(*shape),), os.path.join(here, name), opset_version=17, dynamo=False,
                      input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    print(name, os.path.getsize(os.path.join(here, name)), "bytes")
