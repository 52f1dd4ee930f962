// GraftData: datasets (the bundled MNIST subset, image folders, CSV/NPY), transforms,
// augmentation, splits and batching (see DESIGN.md).
@_exported import GraftTensor
