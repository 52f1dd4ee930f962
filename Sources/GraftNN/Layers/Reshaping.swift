import GraftTensor

/// The model's input: declares the sample shape (without the batch axis).
public final class Input: Layer {
    public let shape: [Int]

    public init(_ shape: [Int]) throws(ModelError) {
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }), shape.count <= 4 else {
            throw .invalidArgument(what: "input", reason: "shape \(formatShape(shape)) must have 1–4 positive dimensions")
        }
        self.shape = shape
        super.init(kind: "Input")
    }

    public override var arity: Int? { 0 }
    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] { shape }
}

/// Flattens each sample: [C, H, W] → [C·H·W].
public final class Flatten: Layer {
    public init() { super.init(kind: "Flatten") }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] { [(inputs.first ?? []).reduce(1, *)] }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].flattened(from: 1)
    }
}

/// Reshapes each sample (one dimension may be -1).
public final class Reshape: Layer {
    public let target: [Int]

    public init(_ target: [Int]) throws(ModelError) {
        guard !target.isEmpty, target.allSatisfy({ $0 > 0 || $0 == -1 }), target.filter({ $0 == -1 }).count <= 1 else {
            throw .invalidArgument(what: "Reshape", reason: "target \(formatShape(target)) needs positive sizes and at most one -1")
        }
        self.target = target
        super.init(kind: "Reshape")
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let count = (inputs.first ?? []).reduce(1, *)
        let known = target.filter { $0 > 0 }.reduce(1, *)
        guard count % known == 0, target.contains(-1) || known == count else {
            throw .shapeMismatch(layer: kind, reason: "cannot reshape \(formatShape(inputs.first ?? [])) to \(formatShape(target))")
        }
        return target.map { $0 == -1 ? count / known : $0 }
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].reshaped([inputs[0].shape[0]] + target)
    }

    public override var details: String { formatShape(target) }
}

/// Zero padding around the spatial axes of [C, H, W].
public final class ZeroPadding2d: Layer {
    public let padding: Padding2D

    public init(_ padding: Padding2D) throws(ModelError) {
        guard [padding.top, padding.bottom, padding.left, padding.right].allSatisfy({ $0 >= 0 }) else {
            throw .invalidArgument(what: "ZeroPad2d", reason: "padding must not be negative")
        }
        self.padding = padding
        super.init(kind: "ZeroPad2d")
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = try requireImage(inputs, kind)
        return [shape[0], shape[1] + padding.top + padding.bottom, shape[2] + padding.left + padding.right]
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].padded([(0, 0), (0, 0), (padding.top, padding.bottom), (padding.left, padding.right)])
    }

    public override var details: String { "\(padding)" }
}

/// Reorders the sample axes: `order[i]` is the input axis that becomes axis i (Keras's `Permute`,
/// and how a channels-last flatten is reproduced: [C, H, W] → [H, W, C] with order [1, 2, 0]).
public final class Permute: Layer {
    public let order: [Int]

    public init(_ order: [Int]) throws(ModelError) {
        guard !order.isEmpty, order.sorted() == Array(0..<order.count) else {
            throw .invalidArgument(what: "Permute", reason: "\(order) is not a permutation")
        }
        self.order = order
        super.init(kind: "Permute")
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        guard let shape = inputs.first, shape.count == order.count else {
            throw .shapeMismatch(layer: kind, reason: "order \(order) needs a rank-\(order.count) sample, got \(formatShape(inputs.first ?? []))")
        }
        return order.map { shape[$0] }
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        try inputs[0].permuted([0] + order.map { $0 + 1 })
    }

    public override var details: String { order.map(String.init).joined(separator: ",") }
}

/// y = x·scale + offset, with one scale and offset for all values or one per channel (Keras's `Rescaling`).
public final class Affine: Layer {
    public let scale: [Float], offset: [Float]

    public init(scale: [Float], offset: [Float]) throws(ModelError) {
        guard !scale.isEmpty, !offset.isEmpty else { throw .invalidArgument(what: "Rescaling", reason: "needs a scale and an offset") }
        (self.scale, self.offset) = (scale, offset)
        super.init(kind: "Rescaling")
    }

    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] {
        let shape = inputs.first ?? []
        for values in [scale, offset] where values.count > 1 && shape.first != values.count {
            throw .shapeMismatch(layer: kind, reason: "\(values.count) per-channel values for input \(formatShape(shape))")
        }
        return shape
    }

    public override func forward(_ inputs: [Tensor], _ context: ForwardContext) throws(TensorError) -> Tensor {
        let x = inputs[0]
        func perChannel(_ values: [Float]) throws(TensorError) -> Tensor {
            values.count == 1 ? Tensor(values[0]) : try Tensor(values).reshaped([values.count] + [Int](repeating: 1, count: x.rank - 2))
        }
        return try x * perChannel(scale) + perChannel(offset)
    }

    public override var details: String { "×\(scale.count == 1 ? String(scale[0]) : "\(scale.count)") +\(offset.count == 1 ? String(offset[0]) : "\(offset.count)")" }
}
