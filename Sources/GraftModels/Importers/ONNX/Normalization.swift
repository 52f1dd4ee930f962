import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// Normalizations: BatchNormalization (with its running statistics), LayerNormalization,
/// GroupNormalization and InstanceNormalization (what torch.onnx.export writes for nn.GroupNorm
/// before opset 18: a Reshape to [N, groups, −1], InstanceNormalization, a Reshape back).
extension ONNXImporter {
    static let normalizationConverters: [Converter] = [
        Converter("BatchNormalization", since: 1, batchNormalization),
        Converter("LayerNormalization", since: 17, layerNormalization),
        // Opset 18 gave GroupNormalization one scale and bias per group; opset 21 made them per channel.
        Converter("GroupNormalization", 18...20) { try groupNormalization($0, perGroup: true) },
        Converter("GroupNormalization", since: 21) { try groupNormalization($0, perGroup: false) },
        Converter("InstanceNormalization", since: 1, instanceNormalization),
    ]

    static func batchNormalization(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        guard let channels = c.shape(i).first else { throw Failure(description: "BatchNormalization '\(c.nodeName)' needs channels, got \(formatShape(c.shape(i)))") }
        let layer = try BatchNorm(channels, epsilon: c.float("epsilon", 1e-5), momentum: 1 - c.float("momentum", 0.9), kind: "BatchNormalization")
        result = try c.add(layer, [i])
        if let weight = layer.weight { c.state.assign(weight, try c.constant(1), layer: c.nodeName) }
        if let bias = layer.bias { c.state.assign(bias, try c.constant(2), layer: c.nodeName) }
        c.state.copy(into: layer.runningMean, try c.constant(3), layer: c.nodeName)
        c.state.copy(into: layer.runningVar, try c.constant(4), layer: c.nodeName)
        return result
    }

    /// LayerNormalization (opset 17) over one axis, with its scale and bias.
    static func layerNormalization(_ c: NodeContext) throws -> Value {
        let i = try c.nodeInput(0)
        let shape = c.shape(i)
        let axis = c.int("axis", -1)
        let a = axis < 0 ? axis + shape.count + 1 : axis
        guard a >= 1, a == shape.count else {
            throw Failure(description: "LayerNormalization '\(c.nodeName)' over axes \(axis)… is not supported (graft normalizes one axis: the last)")
        }
        let scale = try c.constant(1)
        let bias = try c.optionalValue(2).map { value -> Tensor in
            guard case let .constant(t) = value else { throw Failure(description: "LayerNormalization '\(c.nodeName)': a computed bias is not supported") }
            return t
        }
        let layer = try LayerNorm(shape[a - 1], epsilon: c.float("epsilon", 1e-5), scale: true, center: bias != nil, axis: a - 1)
        let result = try c.add(layer, [i])
        if let weight = layer.weight { c.state.assign(weight, try scale.reshaped([-1]), layer: c.nodeName) }
        if let parameter = layer.bias, let bias { c.state.assign(parameter, try bias.reshaped([-1]), layer: c.nodeName) }
        return result
    }

    /// GroupNormalization: a GroupNorm with the node's scale and bias (per group before opset 21,
    /// each group's value then going to all its channels).
    static func groupNormalization(_ c: NodeContext, perGroup: Bool) throws -> Value {
        let i = try c.nodeInput(0)
        guard let channels = c.shape(i).first, c.shape(i).count >= 2 else {
            throw Failure(description: "GroupNormalization '\(c.nodeName)' needs channels and positions, got \(formatShape(c.shape(i)))")
        }
        let groups = c.int("num_groups", 0)
        guard groups >= 1, groups <= channels, channels % groups == 0 else {
            throw Failure(description: "GroupNormalization '\(c.nodeName)': num_groups \(groups) does not divide \(channels) channels")
        }
        let perValue = perGroup ? groups : channels
        func expanded(_ position: Int, _ what: String) throws -> Tensor {
            let values = try c.constant(position)
            guard values.count == perValue else {
                throw Failure(description: "GroupNormalization '\(c.nodeName)': \(what) of \(values.count) values, opset \(c.opset) needs \(perValue)")
            }
            guard perGroup else { return try values.reshaped([channels]) }
            let scalars = values.scalars, size = channels / groups
            return try Tensor(shape: [channels], scalars: (0..<channels).map { scalars[$0 / size] })
        }
        let scale = try expanded(1, "scale"), bias = try expanded(2, "bias")
        let layer = try GroupNorm(channels, groups: groups, epsilon: c.float("epsilon", 1e-5))
        let result = try c.add(layer, [i])
        if let weight = layer.weight { c.state.assign(weight, scale, layer: c.nodeName) }
        if let parameter = layer.bias { c.state.assign(parameter, bias, layer: c.nodeName) }
        return result
    }

    /// InstanceNormalization: each channel of each sample normalized over its positions, then scaled
    /// and shifted per channel: a GroupNorm with one group per channel.
    static func instanceNormalization(_ c: NodeContext) throws -> Value {
        let i = try c.nodeInput(0)
        guard let channels = c.shape(i).first, c.shape(i).count >= 2 else {
            throw Failure(description: "InstanceNormalization '\(c.nodeName)' needs channels and positions, got \(formatShape(c.shape(i)))")
        }
        let scale = try c.constant(1), bias = try c.constant(2)
        guard scale.count == channels, bias.count == channels else {
            throw Failure(description: "InstanceNormalization '\(c.nodeName)': scale and bias of \(scale.count) and \(bias.count) values for \(channels) channels")
        }
        let layer = try GroupNorm(channels, groups: channels, epsilon: c.float("epsilon", 1e-5))
        let result = try c.add(layer, [i])
        if let weight = layer.weight { c.state.assign(weight, try scale.reshaped([channels]), layer: c.nodeName) }
        if let parameter = layer.bias { c.state.assign(parameter, try bias.reshaped([channels]), layer: c.nodeName) }
        return result
    }
}
