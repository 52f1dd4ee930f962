import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// Normalizations: BatchNormalization (with its running statistics) and LayerNormalization.
extension ONNXImporter {
    static let normalizationConverters: [Converter] = [
        Converter("BatchNormalization", since: 1, batchNormalization),
        Converter("LayerNormalization", since: 17, layerNormalization),
    ]

    static func batchNormalization(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        guard let channels = c.shape(i).first else { throw Failure(description: "BatchNormalization '\(c.nodeName)' needs channels, got \(formatShape(c.shape(i)))") }
        let layer = try BatchNorm(channels, epsilon: c.float("epsilon", 1e-5), momentum: 1 - c.float("momentum", 0.9), kind: "BatchNormalization")
        result = try c.add(layer, [i])
        if let weight = layer.weight { c.state.assignments.append((weight, try c.constant(1), c.nodeName)) }
        if let bias = layer.bias { c.state.assignments.append((bias, try c.constant(2), c.nodeName)) }
        c.state.buffers.append((layer.runningMean, try c.constant(3)))
        c.state.buffers.append((layer.runningVar, try c.constant(4)))
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
        if let weight = layer.weight { c.state.assignments.append((weight, try scale.reshaped([-1]), c.nodeName)) }
        if let parameter = layer.bias, let bias { c.state.assignments.append((parameter, try bias.reshaped([-1]), c.nodeName)) }
        return result
    }
}
