// GraftModels: the built-in architectures and the importers that turn state dicts and graph
// descriptions into GraftNN models (see DESIGN.md).
@_exported import GraftNN
@_exported import GraftFormats
