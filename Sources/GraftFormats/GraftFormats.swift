// GraftFormats: bytes ↔ neutral state dicts and graph descriptions (safetensors, PyTorch .pth,
// Keras .h5, ONNX, NumPy .npy); every reader treats its bytes as hostile (see DESIGN.md).
@_exported import GraftTensor
