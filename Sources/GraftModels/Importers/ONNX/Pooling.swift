import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// Pooling: MaxPool, AveragePool, the global pools and ReduceMean.
extension ONNXImporter {
    static let poolingConverters: [Converter] = [
        Converter("MaxPool", since: 1, pool),
        Converter("AveragePool", since: 1, pool),
        Converter("GlobalAveragePool", since: 1, globalPool),
        Converter("GlobalMaxPool", since: 1, globalPool),
        Converter("ReduceMean", 1...17) { try reduceMean($0, axesFromInput: false) },
        Converter("ReduceMean", since: 18) { try reduceMean($0, axesFromInput: true) },
        Converter("ReduceSum", 1...12) { try reduceMean($0, axesFromInput: false, sum: true) },
        Converter("ReduceSum", since: 13) { try reduceMean($0, axesFromInput: true, sum: true) },
    ]

    static func pool(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        guard c.ints("kernel_shape") != nil else { throw Failure(description: "\(c.op) '\(c.nodeName)' has no kernel_shape") }
        let kernel = try c.pair("kernel_shape", (1, 1)), strides = try c.pair("strides", (1, 1))
        let padding = try paddingMode(auto: c.attribute("auto_pad").map { String(decoding: $0.s, as: UTF8.self) }, pads: c.ints("pads"), name: c.nodeName)
        result = try c.add(try Pool2d(c.op == "MaxPool" ? .max : .average, kernel: kernel, stride: strides,
                                    padding: padding, countPadding: c.int("count_include_pad", 0) == 1, ceilMode: c.int("ceil_mode", 0) == 1), [i])
        return result
    }

    static func globalPool(_ c: NodeContext) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        result = try c.add(GlobalPool2d(c.op == "GlobalMaxPool" ? .max : .average, keepDims: true), [i])   // ONNX keeps [N, C, 1, 1]
        return result
    }

    /// ReduceMean over sample axes (axes from an input at opset 18, an attribute before).
    /// ReduceMean, and ReduceSum as the mean times the count it averages (resnest's split
    /// attention sums its radix branches).
    static func reduceMean(_ c: NodeContext, axesFromInput: Bool, sum: Bool = false) throws -> Value {
        let i = try c.nodeInput(0)
        let rank = c.shape(i).count + 1
        var axes = c.ints("axes")
        if axesFromInput, case let .constant(t)? = try c.optionalValue(1) { axes = try t.scalars.map { try integer($0, c) } }
        let resolved = (axes ?? Array(0..<rank)).map { $0 < 0 ? $0 + rank : $0 }
        guard resolved.allSatisfy({ $0 >= 1 && $0 < rank }) else { throw Failure(description: "\(c.op) '\(c.nodeName)' over the batch axis is not supported") }
        let keep = c.int("keepdims", 1) == 1
        let mean: Layer = Set(resolved) == [2, 3] && rank == 4 ? GlobalPool2d(.average, keepDims: keep) : try ReduceMean(axes: resolved.map { $0 - 1 }, keepDims: keep)
        guard sum else { return try c.add(mean, [i]) }
        let count = Set(resolved).reduce(1) { $0 * c.shape(i)[$1 - 1] }
        let averaged = try c.state.builder.add(mean, name: "\(c.nodeName).mean", inputs: [i])
        return try c.add(try ConstantOp(.multiply, constant: Tensor(Float(count))), [averaged])
    }
}
