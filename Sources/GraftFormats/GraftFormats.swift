// GraftFormats: bytes in and out. The readers turn hostile bytes into neutral values — safetensors,
// PyTorch `.pth` (zip and an allowlisted pickle), Keras `.h5` (graft's own restricted HDF5 reader),
// ONNX (the wire format, by swift-protobuf), NumPy `.npy` — each checking every size and offset
// before it reads (one element-type table, ElementType.swift, decodes their numbers). The writers
// replace a file whole or not at all (AtomicWrite.swift), and the text sinks escape what came from a
// file (TextTable for the terminal, Markdown, InvisibleText). Turning those values into models is
// GraftModels' job; this module knows nothing of layers.
