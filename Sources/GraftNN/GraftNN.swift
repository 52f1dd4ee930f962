// GraftNN: modules with parameters and trainable flags, the model graph, summaries, head surgery,
// losses, optimizers and the trainer (see DESIGN.md). It builds on the tensor engine, which it
// re-exports so that model code needs one import.
@_exported import GraftTensor
