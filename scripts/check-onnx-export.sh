#!/usr/bin/env bash
# CI's check of ONNX export: graft exports models and saves its own outputs for fixed inputs;
# onnxruntime (pip-installed into .build/onnx-venv) runs the exported files on the same inputs;
# the outputs must agree to 1e-4. Usage: scripts/check-onnx-export.sh [path/to/graft]
set -euo pipefail
cd "$(dirname "$0")/.."
graft="${1:-.build/debug/graft}"
work="$PWD/.build/onnx-check"  # absolute: the session written there resolves its paths against its own folder
rm -rf "$work" && mkdir -p "$work"
if ! .build/onnx-venv/bin/python -c "import onnxruntime, numpy" 2>/dev/null; then
    python3 -m venv .build/onnx-venv
    .build/onnx-venv/bin/pip install --quiet onnxruntime numpy
fi
py=.build/onnx-venv/bin/python
$py - "$work" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(17)
work = sys.argv[1]
shapes = {"mnist": (3, 1, 28, 28), "resnet": (2, 3, 64, 64), "lite": (1, 3, 224, 224), "emotion": (2, 1, 64, 64),
          "ocr": (2, 3, 48, 192), "mobile": (2, 3, 32, 32), "swin": (2, 3, 96, 96), "swinv2": (2, 3, 96, 96)}
for name, shape in shapes.items():
    np.save(f"{work}/{name}_input.npy", rng.uniform(-1, 1, shape).astype(np.float32))
PY
cat > "$work/export.graft" <<GRAFT
seed 5
new mnist-cnn as mnist classes=5
freeze conv1 conv2
head classes=3 hidden=16 dropout=0.2
predict $work/mnist_input.npy save=$work/mnist_graft.npy
save model $work/mnist.onnx
new resnet18 as resnet classes=10 input=3x64x64
predict $work/resnet_input.npy save=$work/resnet_graft.npy
save model $work/resnet.onnx
new mobilenetv2 as mobile classes=4 input=3x32x32 width=0.5
predict $work/mobile_input.npy save=$work/mobile_graft.npy
save model $work/mobile.onnx
load $PWD/Examples/models/efficientnet-lite0.pth as lite
predict $work/lite_input.npy save=$work/lite_graft.npy
save model $work/lite.onnx
load $PWD/Examples/models/fer-emotion.h5 as emotion
predict $work/emotion_input.npy save=$work/emotion_graft.npy
save model $work/emotion.onnx
load $PWD/Examples/models/ppocr-cls.onnx as ocr input=3x48x192
predict $work/ocr_input.npy save=$work/ocr_graft.npy
save model $work/ocr.onnx
load $PWD/Tests/Fixtures/formats/swin_timm.safetensors as swin
predict $work/swin_input.npy save=$work/swin_graft.npy
save model $work/swin.onnx
load $PWD/Tests/Fixtures/formats/swin_v2_torchvision.safetensors as swinv2
predict $work/swinv2_input.npy save=$work/swinv2_graft.npy
save model $work/swinv2.onnx
GRAFT
"$graft" run "$work/export.graft" > "$work/graft.log"
$py - "$work" <<'PY'
import sys, numpy as np, onnxruntime as ort
work = sys.argv[1]
failed = 0
names = ["mnist", "resnet", "mobile", "lite", "emotion", "ocr", "swin", "swinv2"]
for name in names:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(f"{work}/{name}.onnx", options)
    x = np.load(f"{work}/{name}_input.npy")
    ours = np.load(f"{work}/{name}_graft.npy")
    theirs = session.run(None, {session.get_inputs()[0].name: x})[0]
    diff = float(np.abs(ours - theirs).max())
    scale = max(1.0, float(np.abs(theirs).max()))
    ok = diff <= 1e-4 * scale
    failed += not ok
    print(f"onnx export {name:8s} (opset 17): max |graft - onnxruntime| = {diff:.2e}  {'ok' if ok else 'FAILED'}")
print(f"{len(names) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
