import Foundation
import GraftTensor

extension Model {
    /// Every parameter and buffer set afresh, as PyTorch initializes a new module: weights of rank ≥ 2
    /// (convolutions, dense layers) and their biases uniform in ±1/√fan-in, fan-in the weight's
    /// elements per output; normalization layers' scale 1 and shift 0, with fresh statistics (mean 0,
    /// variance 1) that train on batch statistics; other rank-1 scales 1, shifts 0. The graph, names
    /// and trainable flags stay. What `compare scratch` trains from.
    public func reinitialize(generator: Generator) throws(ModelError) {
        for node in nodes {
            let layer = node.layer
            let parameters = layer.parameters
            let fanIn = parameters.first { $0.parameter.shape.count >= 2 }.map { $0.parameter.shape.dropFirst().reduce(1, *) }
            for (key, parameter) in parameters {
                let shape = parameter.shape
                let fresh: Tensor
                do {
                    if shape.count >= 2 || fanIn != nil && !layer.isNormalization {
                        let bound = Float(1 / Double(Swift.max(fanIn ?? shape.dropFirst().reduce(1, *), 1)).squareRoot())
                        fresh = try Tensor.randomUniform(shape, low: -bound, high: bound, generator: generator)
                    } else {
                        let scale = ["weight", "gamma", "scale"].contains(key)
                        fresh = try Tensor(shape: shape, scalars: [Float](repeating: scale ? 1 : 0, count: parameter.count))
                    }
                } catch { throw .tensor(layer: node.name, error: error) }
                try parameter.assign(fresh, name: Model.key(node.name, key))
            }
            for (key, tensor) in layer.buffers {
                let value: Float = key.contains("var") ? 1 : 0
                tensor.withUnsafeMutableBufferPointer { buffer in for i in buffer.indices { buffer[i] = value } }
            }
            if let norm = layer as? any RunningStatistics { norm.keepsStatistics = false }
        }
    }
}
