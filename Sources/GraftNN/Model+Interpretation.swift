import Foundation
import GraftTensor

/// What the network sees: a layer's activations, and Grad-CAM (Selvaraju et al. 2017) — which
/// parts of an input a class score depends on, through one layer's feature maps.
public struct ClassActivationMap: Sendable {
    /// The map at the layer's resolution, `height × width`, ReLU'd (not normalized).
    public let values: [Float]
    public let height: Int, width: Int
    /// The class explained and the model's probability for it.
    public let classIndex: Int
    public let probability: Float
    /// α_k: each feature map's weight (the mean gradient of the class score over its positions).
    public let weights: [Float]
}

extension Model {
    /// The node a picture of spatial features is taken at by default: the last one before the
    /// logits whose output is C×H×W with more than one position.
    public var lastSpatialNode: Int? {
        (1...logitsNode).last { index in
            let shape = nodes[index].outputShape
            return shape.count == 3 && shape[1] * shape[2] > 1
        }
    }

    /// Where the tokens at node `layer` come from, for a sample of shape `sample`: the grid of the
    /// patch embedding before it (a layer that reads a grid as tokens) and the prefix tokens in
    /// front of the grid's (class, distillation, registers). nil when the output is not such tokens.
    public func tokenGrid(at layer: Int, forInput sample: [Int]) -> (prefix: Int, height: Int, width: Int)? {
        guard nodes.indices.contains(layer), let shapes = try? nodeShapes(forInput: sample), shapes[layer].count == 2,
              let embedding = (1..<layer).last(where: { nodes[$0].layer.readsGridAsTokens }), let source = nodes[embedding].inputs.first else { return nil }
        let grid = shapes[source], tokens = shapes[layer][0]
        guard grid.count == 3, tokens >= grid[1] * grid[2], tokens - grid[1] * grid[2] <= 64 else { return nil }
        return (tokens - grid[1] * grid[2], grid[1], grid[2])
    }

    /// The node `cam` weighs by default: on a transformer over patch tokens, the input of the last
    /// self-attention (the last block's first norm), where the class score's gradient reaches every
    /// token, not only the pooled one; otherwise the last spatial map.
    public var defaultCAMNode: Int? {
        if let attention = (1..<logitsNode).last(where: { nodes[$0].layer.attendsAcrossTokens }), let input = nodes[attention].inputs.first,
           tokenGrid(at: input, forInput: inputShape) != nil {
            return input
        }
        return lastSpatialNode
    }

    /// The output of node `layer` for a batch, in inference mode.
    public func activations(_ x: Tensor, at layer: Int) throws(ModelError) -> Tensor {
        guard nodes.indices.contains(layer) else { throw .invalidArgument(what: "layer", reason: "no node \(layer)") }
        return try withoutGradients { () throws(ModelError) in try forward(x, ForwardContext(training: false), through: layer) }
    }

    /// Grad-CAM for one input [1, C, H, W] at node `layer` (whose output must be C×H×W, or tokens
    /// over a patch grid: see ``tokenGrid(at:forInput:)``): the gradient of class `classIndex`'s
    /// logit (default: the predicted class) with respect to the layer's output, averaged per
    /// channel, weights the channels; their sum through a ReLU is the map. Tokens are read as the
    /// grid's positions, the prefix tokens left out (as pytorch-grad-cam's ViT reshape does).
    /// Inference mode; no parameter keeps a gradient afterwards.
    public func gradCAM(_ x: Tensor, at layer: Int, classIndex: Int? = nil) throws(ModelError) -> ClassActivationMap {
        guard x.rank >= 1, x.shape[0] == 1 else { throw .invalidArgument(what: "cam", reason: "takes one input, got a batch of \(x.shape.first ?? 0)") }
        guard (1..<logitsNode).contains(layer) else {
            throw .invalidArgument(what: "layer", reason: "'\(nodes[Swift.min(Swift.max(layer, 0), nodes.count - 1)].name)' is not between the input and the logits")
        }
        try checkInput(x.shape)
        let context = ForwardContext(training: false)
        defer { for (_, parameter) in parameters { parameter.zeroGrad() } }
        var values = [Tensor?](repeating: nil, count: nodes.count)
        values[0] = x
        // Outputs computed before the layer that later nodes still read (skip connections) stay.
        let end = logitsNode
        var crossing = Set<Int>()
        for index in (layer + 1)...end { for input in nodes[index].inputs where input < layer { crossing.insert(input) } }
        try run(&values, from: 1, through: layer, context, keeping: crossing)
        let grid = tokenGrid(at: layer, forInput: Array(x.shape.dropFirst()))
        guard let features = values[layer], features.rank == 4 || (features.rank == 3 && grid.map { features.shape[1] == $0.prefix + $0.height * $0.width } == true) else {
            throw .invalidArgument(what: "layer", reason: "'\(nodes[layer].name)' has output \(formatShape(nodes[layer].outputShape)), not channels × height × width or tokens over a patch grid")
        }
        let leaf = features.detached().requiringGrad()
        values[layer] = leaf
        try run(&values, from: layer + 1, through: end, context)
        guard let logits = values[end], logits.rank == 2, logits.shape[0] == 1 else { throw .invalidArgument(what: "cam", reason: "the model's logits are not one row of class scores") }
        let classes = logits.shape[1]
        let scores = logits.scalars
        let target = classIndex ?? (scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) } ?? 0)
        guard (0..<classes).contains(target) else { throw .invalidArgument(what: "class", reason: "must be 0–\(classes - 1), got \(target)") }
        var seed = [Float](repeating: 0, count: classes)
        seed[target] = 1
        do { try logits.backward(seed: try Tensor(shape: logits.shape, scalars: seed)) } catch { throw .tensor(layer: "cam", error: error) }
        guard let gradient = leaf.grad else { throw .invalidArgument(what: "cam", reason: "the class score does not depend on '\(nodes[layer].name)'") }
        let (c, h, w): (Int, Int, Int)
        var a = features.scalars, g = gradient.scalars
        if let grid, features.rank == 3 {
            // Patch tokens [prefix + h·w, c] as c maps of h×w.
            (c, h, w) = (features.shape[2], grid.height, grid.width)
            func maps(_ tokens: [Float]) -> [Float] {
                var out = [Float](repeating: 0, count: c * h * w)
                for i in 0..<(h * w) { for k in 0..<c { out[k * h * w + i] = tokens[(grid.prefix + i) * c + k] } }
                return out
            }
            (a, g) = (maps(a), maps(g))
        } else {
            (c, h, w) = (features.shape[1], features.shape[2], features.shape[3])
        }
        var weights = [Float](repeating: 0, count: c)
        for k in 0..<c {
            var sum = 0.0
            for i in 0..<(h * w) { sum += Double(g[k * h * w + i]) }
            weights[k] = Float(sum / Double(h * w))
        }
        var map = [Float](repeating: 0, count: h * w)
        for i in 0..<(h * w) {
            var sum = 0.0
            for k in 0..<c { sum += Double(weights[k]) * Double(a[k * h * w + i]) }
            map[i] = Float(Swift.max(sum, 0))
        }
        let top = scores.max() ?? 0
        let total = scores.reduce(0.0) { $0 + Double(Foundation.exp($1 - top)) }
        return ClassActivationMap(values: map, height: h, width: w, classIndex: target,
                                  probability: Float(Double(Foundation.exp(scores[target] - top)) / total), weights: weights)
    }
}
