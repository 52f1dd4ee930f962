import Foundation
import GraftNN

/// Writes any graft model as `model.py`: plain `torch.nn` code in which every layer is a submodule
/// under graft's dotted name (`layer1.0.conv1` is `self.layer1[0].conv1`), so the model's
/// `state_dict` keys are graft's parameter and buffer keys and `weights.safetensors` loads with
/// `strict=True`. Each layer kind writes its own module (its `PyTorchExportable` conformance, in its
/// file under `GraftNN/Layers/`, with the Python classes it needs); the forward pass follows graft's
/// graph in its order. What cannot be
/// written is refused before anything is, naming the layer.
public enum PyTorchExporter {
    public struct Refusal: Error, CustomStringConvertible { public let description: String }

    /// The attributes every `nn.Module` has (`dir(nn.Module())` in torch 2.x): a layer name segment
    /// equal to one cannot be registered as a submodule.
    static let reservedNames: Set<String> = [
        "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init", "children", "compile", "cpu", "cuda",
        "double", "dump_patches", "eval", "extra_repr", "float", "forward", "get_buffer", "get_extra_state", "get_parameter",
        "get_submodule", "half", "ipu", "load_state_dict", "modules", "mtia", "named_buffers", "named_children", "named_modules",
        "named_parameters", "parameters", "register_backward_hook", "register_buffer", "register_forward_hook",
        "register_forward_pre_hook", "register_full_backward_hook", "register_full_backward_pre_hook",
        "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook", "register_module", "register_parameter",
        "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_", "set_extra_state", "set_submodule",
        "share_memory", "state_dict", "to", "to_empty", "train", "training", "type", "xpu", "zero_grad",
    ]

    /// Attributes of the modules `model.py` builds (`weight`, `stride`, …): no layer held by another may have one as its name.
    static let layerAttributes: Set<String> = [
        "weight", "bias", "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "padding_mode", "eps",
        "momentum", "affine", "track_running_stats", "running_mean", "running_var", "num_batches_tracked", "num_features", "in_features",
        "out_features", "p", "inplace", "pad", "kind", "op", "scalar", "constant", "layer_scale", "axis", "target", "trailing", "order",
        "scale", "offset", "low", "high", "keepdim", "axes", "start", "end", "step", "crop", "depthwise_weight", "pointwise_weight",
        "output_size", "ceil_mode", "count_include_pad", "count_pad", "dim", "negative_slope", "min_val", "max_val", "start_dim",
        "end_dim", "approximate", "divisor_override", "return_indices", "transposed", "output_padding", "mean", "inverse_std",
    ]

    static let pythonKeywords: Set<String> = [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else",
        "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
        "return", "try", "while", "with", "yield",
    ]

    /// `model.py` for the model. `header` is graft's own text for the docstring: nothing from a file
    /// goes into a docstring or comment except through ``Py/string(_:)`` (the model's name and
    /// architecture are the constants `NAME` and `ARCHITECTURE`).
    public static func source(_ model: Model, header: String) throws -> String {
        let modules = try modules(model)
        var helpers: [PyTorchHelper] = []
        func include(_ helper: PyTorchHelper) {
            guard !helpers.contains(helper) else { return }
            helper.needs.forEach(include)
            helpers.append(helper)
        }
        modules.values.flatMap(\.module.helpers).sorted { $0.name < $1.name }.forEach(include)
        var lines = ["\"\"\"" + header, "", "Every layer is a submodule under graft's dotted name, so state_dict keys are graft's:",
                     "    model = GraftModel(); model.load_state_dict(safetensors.torch.load_file(\"weights.safetensors\"), strict=True)",
                     "\"\"\"", "import math", "", "import torch", "import torch.nn.functional as F", "from torch import nn", "", ""]
        let free = model.freeInputAxes.isEmpty ? "" : "  # axes \(model.freeInputAxes.map(String.init).joined(separator: ", ")) may take other sizes"
        lines.append("NAME = \(Py.string(model.name))")
        lines.append("ARCHITECTURE = \(Py.string(model.architecture))")
        lines.append("INPUT_SHAPE = \(Py.ints(model.inputShape))  # one sample, channels first\(free)")
        lines.append("CLASSES = [" + model.classNames.map(Py.string).joined(separator: ", ") + "]")
        lines.append("")
        lines.append("")
        for helper in helpers { lines.append(helper.source.trimmingCharacters(in: .newlines)); lines += ["", ""] }
        lines += [
            "class Block(nn.Module):",
            "    \"\"\"The layers under one prefix of graft's dotted names (`layer1.0` holds `conv1`, `bn1`, …).\"\"\"",
            "",
            "    def __getitem__(self, key):",
            "        # A layer, or a layer that is one tensor (class tokens) registered as a parameter.",
            "        key = str(key)",
            "        return self._modules[key] if key in self._modules else self._parameters[key]",
            "",
            "",
            "def put(root, path, module):",
            "    \"\"\"Registers `module` under a dotted graft name, making the Blocks on the way.\"\"\"",
            "    *parents, last = path.split(\".\")",
            "    for name in parents:",
            "        if name not in root._modules:",
            "            root.add_module(name, Block())",
            "        root = root._modules[name]",
            "    if isinstance(module, nn.Parameter):  # a layer whose one tensor's key is its name",
            "        root.register_parameter(last, module)",
            "        return",
            "    if isinstance(root._modules.get(last), Block):  # layers under this name came first: they move into it",
            "        for name, child in root._modules.pop(last)._modules.items():",
            "            module.add_module(name, child)",
            "    root.add_module(last, module)",
            "", "",
            "class GraftModel(Block):",
            "    \"\"\"The model NAME names (ARCHITECTURE): \(model.nodes.count - 1) layers, \(model.parameterCount) parameters.\"\"\"",
            "",
            "    def __init__(self):",
            "        super().__init__()",
        ]
        for (index, node) in model.nodes.enumerated().dropFirst() {
            guard let (path, module) = modules[index] else { continue }
            lines.append("        put(self, \(Py.string(path)), \(module.constructor))" + (path == node.name ? "" : "  # graft's name: \(Py.string(node.name))"))
        }
        lines.append("")
        lines.append("    def forward(self, x, logits=False):")
        lines.append("        \"\"\"x: [N, \(model.inputShape.map(String.init).joined(separator: ", "))]. logits=True stops before a final softmax (what losses take).\"\"\"")
        lines += forwardLines(model, paths: modules.mapValues(\.path), functions: modules.compactMapValues(\.module.function)).map { "        " + $0 }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Each layer's module path and module, by node index; refuses names PyTorch cannot register and
    /// kinds it cannot express. The path is graft's name; a layer without parameters or buffers whose
    /// name PyTorch cannot take (it holds no state_dict key) gets that name with `_` for `.` instead.
    static func modules(_ model: Model) throws -> [Int: (path: String, module: PyTorchModule)] {
        var modules: [Int: (path: String, module: PyTorchModule)] = [:]
        let names = Set(model.nodes.dropFirst().map(\.name))
        var taken = names
        for (index, node) in model.nodes.enumerated().dropFirst() {
            guard let layer = node.layer as? any PyTorchExportable else {
                throw Refusal(description: "layer \(node.name) (\(node.layer.kind)) has no PyTorch equivalent")
            }
            var path = node.name
            if let problem = registrationProblem(node.name, names: names) {
                guard node.layer.parameters.isEmpty && node.layer.buffers.isEmpty else {
                    throw Refusal(description: "layer \(node.name) cannot be a PyTorch submodule: \(problem)")
                }
                path = "layer_" + node.name.replacingOccurrences(of: ".", with: "_")
                while taken.contains(path) { path += "_" }
                taken.insert(path)
            }
            let module = try layer.pytorchModule(PyTorchNode(name: node.name, inputShapes: node.inputs.map { model.nodes[$0].outputShape },
                                                             outputShape: node.outputShape))
            modules[index] = (path, module)
        }
        return modules
    }

    /// Why PyTorch cannot register a module under this dotted name, or nil.
    static func registrationProblem(_ name: String, names: Set<String>) -> String? {
        let segments = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if let bad = segments.first(where: { $0.isEmpty || reservedNames.contains($0) || $0.hasPrefix("_") && isPrivateModuleAttribute($0) }) {
            return bad.isEmpty ? "its name has an empty part" : "'\(bad)' is an attribute every nn.Module has"
        }
        // A layer may hold others (ConvNeXt's `features.1.0` is a LayerScale holding `features.1.0.block`):
        // their names must not be the layer's own attributes.
        for end in 1..<segments.count where names.contains(segments[0..<end].joined(separator: ".")) && layerAttributes.contains(segments[end]) {
            return "'\(segments[end])' is an attribute of layer \(segments[0..<end].joined(separator: "."))"
        }
        return nil
    }

    /// nn.Module's own underscore attributes (`_modules`, `_parameters`, …): names that start with one
    /// of these prefixes are refused (EfficientNet's `_blocks` and `_conv_head` are fine).
    static func isPrivateModuleAttribute(_ name: String) -> Bool {
        ["_modules", "_parameters", "_buffers", "_version", "_apply", "_call_impl", "_compiled_call_impl", "_backward_hooks",
         "_forward_hooks", "_forward_pre_hooks", "_state_dict_hooks", "_load_state_dict_pre_hooks", "_non_persistent_buffers_set",
         "_is_full_backward_hook", "_get_name", "_named_members", "_load_from_state_dict", "_save_to_state_dict", "_slow_forward",
         "_replicate_for_data_parallel", "_wrapped_call_impl", "_get_backward_hooks", "_register_state_dict_hook",
         "_register_load_state_dict_pre_hook", "_maybe_warn_non_full_backward_hook", "_backward_pre_hooks",
         "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs", "_forward_hooks_always_called", "_state_dict_pre_hooks",
         "_load_state_dict_post_hooks", "_extra_state"].contains(name)
    }

    /// `self.layer1[0].conv1`: identifiers as attributes, numbers and other names as keys.
    /// `leaves` are the layer names: a name under a layer (not a Block) is reached through `_modules`.
    static func access(_ name: String, leaves: Set<String> = []) -> String {
        var expression = "self", path: [String] = []
        for segment in name.split(separator: ".", omittingEmptySubsequences: false).map(String.init) {
            defer { path.append(segment) }
            if isIdentifier(segment) && !pythonKeywords.contains(segment) {
                expression += ".\(segment)"
            } else if leaves.contains(path.joined(separator: ".")) {
                expression += "._modules[\(Py.string(segment))]"
            } else if let number = Int(segment), String(number) == segment, number >= 0 {
                expression += "[\(number)]"
            } else {
                expression += "[\(Py.string(segment))]"
            }
        }
        return expression
    }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// The forward pass in graft's order; a value's variable is reused once its last reader has run.
    static func forwardLines(_ model: Model, paths: [Int: String], functions: [Int: String] = [:]) -> [String] {
        var lastUse = [Int](repeating: -1, count: model.nodes.count)
        for (index, node) in model.nodes.enumerated() { for input in node.inputs { lastUse[input] = max(lastUse[input], index) } }
        let output = model.nodes.count - 1
        lastUse[output] = Int.max
        let leaves = Set(paths.values)
        var variable = [Int: String](), free: [String] = [], counter = 0
        variable[0] = "x"
        var lines: [String] = []
        for (index, node) in model.nodes.enumerated().dropFirst() {
            let arguments = node.inputs.map { variable[$0] ?? "x" }
            if index == output, model.endsInSoftmax {
                lines.append("if logits:")
                lines.append("    return \(arguments[0])")
            }
            for input in Set(node.inputs) where lastUse[input] == index { if let name = variable[input] { free.append(name) } }
            let name: String
            if let reused = free.first(where: { arguments.first == $0 }) ?? free.first {
                free.removeAll { $0 == reused }
                name = reused
            } else {
                counter += 1
                name = "x\(counter)"
            }
            variable[index] = name
            let module = access(paths[index] ?? node.name, leaves: leaves)
            if let function = functions[index] {
                lines.append("\(name) = \(function)(\(([module] + arguments).joined(separator: ", ")))  # \(node.layer.kind)")
            } else {
                lines.append("\(name) = \(module)(\(arguments.joined(separator: ", ")))  # \(node.layer.kind)")
            }
        }
        lines.append("return \(variable[output] ?? "x")")
        return lines
    }
}
