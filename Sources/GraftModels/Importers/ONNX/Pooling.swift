import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// Pooling: MaxPool, AveragePool, the global pools, ReduceMean, ReduceSum, ReduceSumSquare, ReduceL2, Resize.
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
        Converter("ReduceSumSquare", 1...17) { try reduceSquares($0, axesFromInput: false, root: false) },
        Converter("ReduceSumSquare", since: 18) { try reduceSquares($0, axesFromInput: true, root: false) },
        Converter("ReduceL2", 1...17) { try reduceSquares($0, axesFromInput: false, root: true) },
        Converter("ReduceL2", since: 18) { try reduceSquares($0, axesFromInput: true, root: true) },
        Converter("Resize", 10...10) { try resize($0, inputs: (scales: 1, sizes: nil)) },
        Converter("Resize", since: 11) { try resize($0, inputs: (scales: 2, sizes: 3)) },
        // Upsample: scales as an attribute (7–8), as an input since 9 (deprecated at 10; files of later opsets still use it).
        Converter("Upsample", 7...8) { try resize($0, inputs: (scales: nil, sizes: nil)) },
        Converter("Upsample", since: 9) { try resize($0, inputs: (scales: 1, sizes: nil)) },
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
        try reduce(c, try c.nodeInput(0), axesFromInput: axesFromInput, sum: sum, name: nil)
    }

    /// ReduceSumSquare, and ReduceL2 as its square root (how `F.normalize` exports: ReduceL2, Clip
    /// to ε, Expand, Div): the value times itself, summed as ReduceSum does.
    static func reduceSquares(_ c: NodeContext, axesFromInput: Bool, root: Bool) throws -> Value {
        let i = try c.nodeInput(0)
        let squared = try c.state.builder.add(Merge(.multiply), name: "\(c.nodeName).square", inputs: [i, i])
        guard root else { return try reduce(c, squared, axesFromInput: axesFromInput, sum: true, name: nil) }
        guard case let .node(summed) = try reduce(c, squared, axesFromInput: axesFromInput, sum: true, name: "\(c.nodeName).sum") else {
            throw Failure(description: "\(c.op) '\(c.nodeName)' reduces to no value")
        }
        return try c.add(Activation(.sqrt), [summed])
    }

    /// The reduction of node `i` over the node's axes; named `name` (the ONNX node's own name when nil).
    static func reduce(_ c: NodeContext, _ i: Int, axesFromInput: Bool, sum: Bool, name: String?) throws -> Value {
        func add(_ layer: Layer, _ inputs: [Int]) throws -> Value {
            guard let name else { return try c.add(layer, inputs) }
            return .node(try c.state.builder.add(layer, name: name, inputs: inputs))
        }
        let rank = c.shape(i).count + 1
        var axes = c.ints("axes")
        if axesFromInput, case let .constant(t)? = try c.optionalValue(1) { axes = try t.scalars.map { try integer($0, c) } }
        let resolved = (axes ?? Array(0..<rank)).map { $0 < 0 ? $0 + rank : $0 }
        guard resolved.allSatisfy({ $0 >= 1 && $0 < rank }) else { throw Failure(description: "\(c.op) '\(c.nodeName)' over the batch axis is not supported") }
        let keep = c.int("keepdims", 1) == 1
        let mean: Layer = Set(resolved) == [2, 3] && rank == 4 ? GlobalPool2d(.average, keepDims: keep) : try ReduceMean(axes: resolved.map { $0 - 1 }, keepDims: keep)
        guard sum else { return try add(mean, [i]) }
        let count = Set(resolved).reduce(1) { $0 * c.shape(i)[$1 - 1] }
        let averaged = try c.state.builder.add(mean, name: "\(name ?? c.nodeName).mean", inputs: [i])
        return try add(try ConstantOp(.multiply, constant: Tensor(Float(count))), [averaged])
    }

    /// `Resize` (and the old `Upsample`) of height and width, by constant scales or to constant
    /// sizes: nearest or linear, with the coordinate modes and nearest roundings `Resize` names
    /// (cubic, antialiasing, `tf_crop_and_resize` and resizing the batch or the channels are refused).
    static func resize(_ c: NodeContext, inputs: (scales: Int?, sizes: Int?)) throws -> Value {
        let i = try c.nodeInput(0)
        func text(_ key: String, _ fallback: String) -> String { c.attribute(key).map { String(decoding: $0.s, as: UTF8.self) } ?? fallback }
        let mode: Resize.Mode
        switch text("mode", "nearest") {
        case "nearest": mode = .nearest
        case "linear", "bilinear": mode = .bilinear
        case let other: throw Failure(description: "\(c.op) '\(c.nodeName)': mode '\(TextTable.cell(other))' is not supported (nearest, linear)")
        }
        let coordinates: Resize.Coordinates
        switch text("coordinate_transformation_mode", c.op == "Upsample" || c.opset < 11 ? "asymmetric" : "half_pixel") {
        case "half_pixel", "pytorch_half_pixel": coordinates = .halfPixel
        case "align_corners": coordinates = .alignCorners
        case "asymmetric": coordinates = .asymmetric
        case let other: throw Failure(description: "\(c.op) '\(c.nodeName)': coordinate_transformation_mode '\(TextTable.cell(other))' is not supported")
        }
        let rounding: Resize.Rounding
        switch text("nearest_mode", "round_prefer_floor") {
        case "floor": rounding = .floor
        case "ceil": rounding = .ceil
        case "round_prefer_floor": rounding = .roundPreferFloor
        case "round_prefer_ceil": rounding = .roundPreferCeil
        case let other: throw Failure(description: "\(c.op) '\(c.nodeName)': nearest_mode '\(TextTable.cell(other))' is not supported")
        }
        guard c.int("antialias", 0) == 0, c.ints("axes") == nil else {
            throw Failure(description: "\(c.op) '\(c.nodeName)': antialiasing and axes are not supported")
        }
        let sizes = try inputs.sizes.flatMap { try c.optionalValue($0) }
        let scales = try inputs.scales.flatMap { try c.optionalValue($0) }
        let layer: Resize
        if case let .constant(size)? = sizes, size.count == 4 {
            let v = try size.scalars.map { try integer($0, c) }
            guard v[1] == c.shape(i)[0] else { throw Failure(description: "\(c.op) '\(c.nodeName)': resizing the channels is not supported") }
            layer = try Resize(size: (v[2], v[3]), mode: mode, coordinates: coordinates, rounding: rounding)
        } else {
            let factors: [Float]
            if case let .constant(t)? = scales, t.count == 4 { factors = t.scalars } else if c.op == "Upsample", let values = c.attribute("scales")?.floats, values.count == 4 {
                factors = values
            } else {
                throw Failure(description: "\(c.op) '\(c.nodeName)': graft reads constant scales or sizes of N, C, H, W")
            }
            guard factors[0] == 1, factors[1] == 1 else { throw Failure(description: "\(c.op) '\(c.nodeName)': resizing the batch or the channels is not supported") }
            layer = try Resize(scale: (factors[2], factors[3]), mode: mode, coordinates: coordinates, rounding: rounding)
        }
        return try c.add(layer, [i])
    }
}
