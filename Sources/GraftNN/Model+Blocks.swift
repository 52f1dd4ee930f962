/// A transformer's (or any model's) numbered blocks, by their names: `blocks.3` (timm),
/// `encoder.layers.encoder_layer_3` (torchvision), `encoder.layer.3` (Hugging Face), `layers.3`.
/// Layer-wise learning-rate decay gives each block its own rate from them.
extension Model {
    /// Each node's depth: 0 before the first block (the embeddings), i + 1 in block i; after the last
    /// block, its depth until the pooling (the final norm goes with the last block, as timm groups
    /// it), then `blocks + 1` (the pooling, what follows it, the head); nil without numbered blocks.
    public var blockDepths: (depths: [Int], blocks: Int)? {
        var order: [String: Int] = [:]
        let keys = nodes.map { Self.blockKey($0.name) }
        for key in keys { if let key, order[key] == nil { order[key] = order.count } }
        guard !order.isEmpty else { return nil }
        var depths: [Int] = []
        var seen = false, pooled = false
        for (node, key) in zip(nodes, keys) {
            if let key, let index = order[key] {
                depths.append(index + 1)
                seen = true
            } else {
                pooled = pooled || seen && node.layer.isHeadBoundary
                depths.append(!seen ? 0 : pooled ? order.count + 1 : order.count)
            }
        }
        return (depths, order.count)
    }

    /// Each parameter's share of the learning rate under layer-wise decay `decay` (BEiT, MAE, timm's
    /// `param_groups_layer_decay`): decay^(B + 1 − depth) by its ``blockDepths``, 1 in the head; nil
    /// without numbered blocks.
    public func layerDecayScales(_ decay: Float) -> [(key: String, parameter: Parameter, scale: Float)]? {
        guard let (depths, blocks) = blockDepths else { return nil }
        var scales: [(key: String, parameter: Parameter, scale: Float)] = []
        for (node, depth) in zip(nodes, depths) {
            var scale: Float = 1
            if !node.isHead { for _ in 0..<(blocks + 1 - depth) { scale *= decay } }
            for (key, parameter) in node.layer.parameters { scales.append((Model.key(node.name, key), parameter, scale)) }
        }
        return scales
    }

    /// The block a layer's name puts it in: its name up to a number after `blocks`, `layers` or
    /// `layer`, or to an `encoder_layer_N` part.
    static func blockKey(_ name: String) -> String? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        for (index, part) in parts.enumerated() {
            if part.hasPrefix("encoder_layer_"), Int(part.dropFirst("encoder_layer_".count)) != nil {
                return parts[...index].joined(separator: ".")
            }
            if ["blocks", "layers", "layer"].contains(part), index + 1 < parts.count, Int(parts[index + 1]) != nil {
                return parts[...(index + 1)].joined(separator: ".")
            }
        }
        return nil
    }
}
