import Foundation
import GraftFormats
import GraftNN
import GraftTensor
import GraftModels

/// The views of a model that keep long output readable: blocks collapsed to one row, one layer in detail.
enum SummaryRenderer {
    /// One row per block: names cut to `depth` dotted parts, consecutive layers of a block merged.
    static func collapsed(_ model: Model, depth: Int, rows selected: [Int]? = nil) -> String {
        struct Block { var name: String; var layers: Int; var kinds: [String]; var output: [Int]; var parameters: Int; var states: Set<String>; var modes: Set<String> }
        var blocks: [Block] = []
        for row in model.summaryRows where selected?.contains(row.index) ?? true {
            let name = row.name.split(separator: ".").prefix(depth).joined(separator: ".")
            if var last = blocks.last, last.name == name {
                last.layers += 1
                if !last.kinds.contains(row.kind) { last.kinds.append(row.kind) }
                last.output = row.outputShape
                last.parameters += row.parameters
                last.states.insert(row.trainable)
                last.modes.insert(row.mode)
                blocks[blocks.count - 1] = last
            } else {
                blocks.append(Block(name: name, layers: 1, kinds: [row.kind], output: row.outputShape, parameters: row.parameters,
                                    states: [row.trainable], modes: [row.mode]))
            }
        }
        func merged(_ states: Set<String>) -> String {
            let real = states.subtracting(["-"])
            if real.isEmpty { return "-" }
            return real.count == 1 ? (real.first ?? "-") : "partial"
        }
        var table = [["#", "block", "layers", "output", "params", "trainable", "mode"]]
        for (i, block) in blocks.enumerated() {
            let kinds = block.layers == 1 ? block.kinds[0] : "\(block.layers) layers"
            table.append([String(i), TextTable.cell(block.name), kinds, block.output.map(String.init).joined(separator: "×"), grouped(block.parameters),
                          merged(block.states), block.modes.subtracting(["-"]).sorted().joined(separator: "/").isEmpty ? "-" : block.modes.subtracting(["-"]).sorted().joined(separator: "/")])
        }
        var lines = TextTable.render(table, numeric: [0, 4])
        let full = model.summary()
        lines.append("")
        lines += full.split(separator: "\n", omittingEmptySubsequences: false).drop { !$0.hasPrefix("model ") }.map(String.init)
        return lines.joined(separator: "\n")
    }

    /// `show LAYER`: kind and settings, connections, parameters with statistics, buffers.
    static func layer(_ model: Model, _ index: Int) -> String {
        let node = model.nodes[index]
        let layer = node.layer
        // The name whole (escaped): the summary's table cuts long ones.
        var lines = ["\(Terminal.visible(node.name)): \(layer.kind)" + (layer.details.isEmpty ? "" : " (\(layer.details))")]
        let consumers = model.nodes.filter { $0.inputs.contains(index) }.map { TextTable.cell($0.name) }
        lines.append("  input:  " + (node.inputs.isEmpty ? "-" : node.inputs.map { input in
            "\(TextTable.cell(model.nodes[input].name)) (\(model.nodes[input].outputShape.map(String.init).joined(separator: "×")))"
        }.joined(separator: ", ")))
        lines.append("  output: \(node.outputShape.map(String.init).joined(separator: "×"))" + (consumers.isEmpty ? " (model output)" : " → " + listed(consumers)))
        if let state = layer.trainableState { lines.append("  trainable: \(state)" + (node.isHead ? " (head)" : "")) }
        if let mode = layer.mode(training: true) { lines.append("  mode in training: \(mode)") }
        let tensors: [(String, Tensor, String)] = layer.parameters.map { ($0.key, $0.parameter.value, $0.parameter.trainable ? "trainable" : "frozen") }
            + layer.buffers.map { ($0.key, $0.tensor, "buffer") }
        if !tensors.isEmpty {
            let tensors = tensors.map { (TextTable.cell($0.0), $0.1, $0.2) }
            let width = tensors.map { $0.0.count }.max() ?? 0
            for (key, tensor, role) in tensors {
                let values = tensor.scalars
                let mean = values.reduce(0.0) { $0 + Double($1) } / Double(max(values.count, 1))
                let std = (values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(max(values.count, 1))).squareRoot()
                lines.append("  " + key.padding(toLength: width, withPad: " ", startingAt: 0)
                    + "  \(formatShape(tensor.shape))  \(grouped(tensor.count)) values, \(role)"
                    + String(format: "  mean %.4g  std %.4g  min %.4g  max %.4g", mean, std, Double(values.min() ?? 0), Double(values.max() ?? 0)))
            }
        }
        return lines.joined(separator: "\n")
    }
}
