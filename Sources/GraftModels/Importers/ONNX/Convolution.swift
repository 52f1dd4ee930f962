import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// Convolutions and matrix products: Conv, Gemm and MatMul, weights from constants.
extension ONNXImporter {
    static let convolutionConverters: [Converter] = [
        Converter("Conv", since: 1, conv),
        Converter("Gemm", since: 1, gemm),
        Converter("MatMul", since: 1, matMul),
    ]

    static func conv(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        let weight = try c.constant(1)
        guard weight.rank == 4 else { throw Failure(description: "Conv '\(c.nodeName)' is not 2-D (weight \(weight.shape))") }
        let bias = try c.optionalValue(2).map { v -> Tensor in
            guard case let .constant(t) = v else { throw Failure(description: "Conv '\(c.nodeName)': a computed bias is not supported") }
            return t
        }
        let groups = c.int("group", 1)
        let strides = try c.pair("strides", (1, 1)), dilations = try c.pair("dilations", (1, 1))
        let padding = try paddingMode(auto: c.attribute("auto_pad").map { String(decoding: $0.s, as: UTF8.self) }, pads: c.ints("pads"), name: c.nodeName)
        guard c.shape(i).count == 3 else { throw Failure(description: "Conv '\(c.nodeName)' needs an image input, got \(formatShape(c.shape(i)))") }
        let layer = try Conv2d(c.shape(i)[0], weight.shape[0], kernel: (weight.shape[2], weight.shape[3]), stride: strides,
                               padding: padding, dilation: dilations, groups: groups, bias: bias != nil, generator: c.state.generator, kind: "Conv")
        result = try c.add(layer, [i])
        c.state.assign(layer.weight, weight, layer: c.nodeName)
        if let bias, let parameter = layer.bias { c.state.assign(parameter, bias, layer: c.nodeName) }
        return result
    }

    static func gemm(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        guard c.int("transA", 0) == 0 else { throw Failure(description: "Gemm '\(c.nodeName)' with transA is not supported") }
        var weight = try c.constant(1)
        guard weight.rank == 2 else { throw Failure(description: "Gemm '\(c.nodeName)' with a rank-\(weight.rank) weight is not supported") }
        if c.int("transB", 0) == 0 { weight = try weight.transposed() }
        weight = weight * c.float("alpha", 1)
        let bias = try c.optionalValue(2).map { v -> Tensor in
            guard case let .constant(t) = v else { throw Failure(description: "Gemm '\(c.nodeName)': a computed C is not supported") }
            return try t.reshaped([-1]) * c.float("beta", 1)
        }
        let layer = try Dense(weight.shape[1], weight.shape[0], bias: bias != nil, generator: c.state.generator, kind: "Gemm")
        result = try c.add(layer, [i])
        c.state.assign(layer.weight, weight, layer: c.nodeName)
        if let bias, let parameter = layer.bias {
            let full = bias.count == 1 ? try Tensor.full([weight.shape[0]], bias.scalars[0]) : bias
            c.state.assign(parameter, full, layer: c.nodeName)
        }
        return result
    }

    static func matMul(_ c: NodeContext) throws -> Value {
        let result: Value
        // Two computed values (attention's q·kᵀ and weights·v): a MatMul layer.
        if case let .node(a) = try c.value(0), case let .node(b) = try c.value(1) { return try c.add(MatMul(), [a, b]) }
        // Two constants (Swin V2's position-bias MLP on its coordinate table): folded, [.., K] · [K, M].
        if case let .constant(a) = try c.value(0), case let .constant(b) = try c.value(1) {
            guard a.rank >= 1, b.rank == 2, a.shape.last == b.shape[0] else {
                throw Failure(description: "MatMul '\(c.nodeName)' of constants \(formatShape(a.shape)) and \(formatShape(b.shape)) is not supported")
            }
            _ = try checkedElementCount(Array(a.shape.dropLast()) + [b.shape[1]], c)
            let rows = try a.reshaped([-1, b.shape[0]]).matmul(b)
            return .constant(try rows.reshaped(Array(a.shape.dropLast()) + [b.shape[1]]))
        }
        let i = try c.nodeInput(0)
        let weight = try c.constant(1)
        guard weight.rank == 2 else { throw Failure(description: "MatMul '\(c.nodeName)' with a rank-\(weight.rank) weight is not supported") }
        let layer = try Dense(weight.shape[0], weight.shape[1], bias: false, generator: c.state.generator, kind: "MatMul")
        result = try c.add(layer, [i])
        c.state.assign(layer.weight, try weight.transposed(), layer: c.nodeName)
        return result
    }
}
