extension Tensor {
    /// Max pooling over [N, C, H, W]; padded positions never win. The gradient goes to the first maximal element.
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: Padding2D = .zero,
                          dilation: (Int, Int) = (1, 1)) throws(TensorError) -> Tensor {
        let g = try Tensor.window(op: "maxPool2d", input: shape, kernel: kernel, stride: stride ?? kernel,
                                  padding: padding, dilation: dilation)
        try Tensor.checkPoolPadding(op: "maxPool2d", padding, kernel: kernel)
        let planes = shape[0] * shape[1]
        let y = Tensor(uninitializedShape: [shape[0], shape[1], g.outputHeight, g.outputWidth])
        var argmax = [Int32](repeating: -1, count: y.count)
        argmax.withUnsafeMutableBufferPointer { indices in
            guard let base = indices.baseAddress else { return }
            Pooling.maxForward(storage.pointer, y.storage.pointer, base, planes: planes, g)
        }
        let inputShape = shape
        // d max/dx = 1 at the chosen element of each window
        return y.recorded(from: [self]) { dy in
            let dx = Tensor(shape: inputShape, storage: Storage(count: inputShape.reduce(1, *), repeating: 0))
            argmax.withUnsafeBufferPointer { indices in
                guard let base = indices.baseAddress else { return }
                Pooling.maxBackward(dy.storage.pointer, base, dx.storage.pointer, planes: planes, g)
            }
            return [dx]
        }
    }

    /// Average pooling over [N, C, H, W]. `countPadding` divides by the full window, padding
    /// included (PyTorch's default); otherwise by the elements inside the image (Keras "same").
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: Padding2D = .zero,
                          countPadding: Bool = true) throws(TensorError) -> Tensor {
        let g = try Tensor.window(op: "avgPool2d", input: shape, kernel: kernel, stride: stride ?? kernel,
                                  padding: padding, dilation: (1, 1))
        try Tensor.checkPoolPadding(op: "avgPool2d", padding, kernel: kernel)
        let planes = shape[0] * shape[1]
        let y = Tensor(uninitializedShape: [shape[0], shape[1], g.outputHeight, g.outputWidth])
        let (bottom, right) = (padding.bottom, padding.right)
        Pooling.averageForward(storage.pointer, y.storage.pointer, planes: planes, g,
                               padBottom: bottom, padRight: right, countPadding: countPadding)
        let inputShape = shape
        // d mean/dx = 1/divisor for every element of the window
        return y.recorded(from: [self]) { dy in
            let dx = Tensor(shape: inputShape, storage: Storage(count: inputShape.reduce(1, *), repeating: 0))
            Pooling.averageBackward(dy.storage.pointer, dx.storage.pointer, planes: planes, g,
                                    padBottom: bottom, padRight: right, countPadding: countPadding)
            return [dx]
        }
    }

    /// Mean over the spatial axes: [N, C, H, W] → [N, C] (or [N, C, 1, 1] keeping dims).
    public func globalAvgPool2d(keepingDims: Bool = false) throws(TensorError) -> Tensor {
        guard rank == 4 else { throw .shapeMismatch(op: "globalAvgPool2d", shapes: [shape], reason: "input must be [N, C, H, W]") }
        return try mean(axes: [2, 3], keepingDims: keepingDims)
    }

    /// Maximum over the spatial axes: [N, C, H, W] → [N, C] (or [N, C, 1, 1] keeping dims).
    public func globalMaxPool2d(keepingDims: Bool = false) throws(TensorError) -> Tensor {
        guard rank == 4 else { throw .shapeMismatch(op: "globalMaxPool2d", shapes: [shape], reason: "input must be [N, C, H, W]") }
        let pooled = try reshaped([shape[0], shape[1], shape[2] * shape[3]]).max(axis: 2)
        return keepingDims ? try pooled.reshaped([shape[0], shape[1], 1, 1]) : pooled
    }

    /// PyTorch's rule: padding at most half the kernel, so every window sees part of the image.
    static func checkPoolPadding(op: String, _ padding: Padding2D, kernel: (Int, Int)) throws(TensorError) {
        guard Swift.max(padding.top, padding.bottom) * 2 <= kernel.0, Swift.max(padding.left, padding.right) * 2 <= kernel.1 else {
            throw .invalidArgument(op: op, reason: "padding \(padding) must be at most half the kernel \(kernel.0)×\(kernel.1)")
        }
    }
}
