extension Tensor {
    /// A tensor of `shape` holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) throws(TensorError) {
        let count = try checkedCount(shape, op: "tensor")
        guard count == scalars.count else {
            throw .shapeMismatch(op: "tensor", shapes: [shape], reason: "shape holds \(count) elements, \(scalars.count) given")
        }
        let storage = Storage(uninitializedCount: count)
        scalars.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { storage.pointer.update(from: base, count: count) }
        }
        self.init(shape: shape, storage: storage)
    }

    /// A tensor of `shape` whose elements `body` writes, every one, in row-major order: how readers
    /// decode a file's values straight into the tensor, without an intermediate array.
    public init(shape: [Int], writing body: (UnsafeMutableBufferPointer<Float>) -> Void) throws(TensorError) {
        let storage = Storage(uninitializedCount: try admittedCount(shape, op: "tensor"))
        body(storage.buffer)
        self.init(shape: shape, storage: storage)
    }

    /// A rank-0 tensor.
    public init(_ scalar: Float) {
        self.init(shape: [], storage: Storage(count: 1, repeating: scalar))
    }

    /// A rank-1 tensor.
    public init(_ scalars: [Float]) {
        let storage = Storage(uninitializedCount: scalars.count)
        for (i, value) in scalars.enumerated() { storage.pointer[i] = value }
        self.init(shape: [scalars.count], storage: storage)
    }

    /// Every element equal to `value`.
    public static func full(_ shape: [Int], _ value: Float) throws(TensorError) -> Tensor {
        let count = try admittedCount(shape, op: "full")
        return Tensor(shape: shape, storage: Storage(count: count, repeating: value))
    }

    public static func zeros(_ shape: [Int]) throws(TensorError) -> Tensor { try full(shape, 0) }

    /// Zeros whose memory is taken only when written (see `Storage(lazyZeroCount:)`): what random
    /// tensors are under a structure-only generator.
    static func lazyZeros(_ shape: [Int]) throws(TensorError) -> Tensor {
        Tensor(shape: shape, storage: Storage(lazyZeroCount: try admittedCount(shape, op: "zeros")))
    }
    public static func ones(_ shape: [Int]) throws(TensorError) -> Tensor { try full(shape, 1) }

    /// `start, start + step, …` up to but excluding `end`.
    public static func arange(_ start: Float, _ end: Float, step: Float = 1) throws(TensorError) -> Tensor {
        guard step != 0, step.isFinite, start.isFinite, end.isFinite else {
            throw .invalidArgument(op: "arange", reason: "step must be finite and non-zero")
        }
        // The count is checked in Float before it becomes an Int (a huge or infinite quotient traps Int()).
        let quotient = ((end - start) / step).rounded(.up)
        guard quotient.isFinite, quotient <= Float(maximumElementCount) else {
            throw .invalidArgument(op: "arange", reason: "\(start) to \(end) by \(step) has too many elements")
        }
        let count = Swift.max(0, Int(Swift.max(quotient, -1)))
        let result = try full([count], 0)
        for i in 0..<count { result.storage.pointer[i] = start + Float(i) * step }
        return result
    }

    /// Normal samples with the given mean and standard deviation, drawn from `generator`.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                                    generator: Generator) throws(TensorError) -> Tensor {
        if generator.drawsNothing { return try lazyZeros(shape) }
        let result = try full(shape, 0)
        for i in 0..<result.count { result.storage.pointer[i] = mean + std * Float(generator.nextNormal()) }
        return result
    }

    /// Uniform samples in [low, high), drawn from `generator`.
    public static func randomUniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                                     generator: Generator) throws(TensorError) -> Tensor {
        guard low <= high else {
            throw .invalidArgument(op: "randomUniform", reason: "low \(low) is above high \(high)")
        }
        if generator.drawsNothing { return try lazyZeros(shape) }
        let result = try full(shape, 0)
        for i in 0..<result.count { result.storage.pointer[i] = low + (high - low) * generator.nextFloat() }
        return result
    }

    /// The same values in a buffer of its own.
    public func copied() -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        result.storage.pointer.update(from: storage.pointer, count: count)
        return result
    }

    /// A same-shape tensor with `f` applied to every element (no gradient).
    @inline(__always)
    static func mapped(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        let y = Tensor(uninitializedShape: x.shape)
        Elementwise.map(x.storage.pointer, y.storage.pointer, count: x.count, f)
        return y
    }

    /// `f` applied pairwise to two tensors of one shape (no gradient).
    @inline(__always)
    static func zipSameShape(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let y = Tensor(uninitializedShape: a.shape)
        Elementwise.zip(a.storage.pointer, b.storage.pointer, y.storage.pointer, count: a.count, f)
        return y
    }
}
