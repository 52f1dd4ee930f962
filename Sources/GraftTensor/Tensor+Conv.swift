import CGraftKernels

/// Zero padding around the two spatial axes; asymmetric padding expresses TensorFlow's "SAME".
public struct Padding2D: Sendable, Equatable, CustomStringConvertible {
    public var top: Int, bottom: Int, left: Int, right: Int

    public init(top: Int, bottom: Int, left: Int, right: Int) {
        (self.top, self.bottom, self.left, self.right) = (top, bottom, left, right)
    }

    /// The same padding on both sides of each axis.
    public init(_ height: Int, _ width: Int) { self.init(top: height, bottom: height, left: width, right: width) }

    public static let zero = Padding2D(0, 0)

    public var description: String { "(\(top),\(bottom),\(left),\(right))" }
}

extension Tensor {
    /// The output geometry of a window (kernel, stride, padding, dilation) sliding over [N, C, H, W].
    static func window(op: String, input: [Int], kernel: (Int, Int), stride: (Int, Int), padding: Padding2D,
                       dilation: (Int, Int)) throws(TensorError) -> WindowGeometry {
        guard input.count == 4 else {
            throw .shapeMismatch(op: op, shapes: [input], reason: "input must be [N, C, H, W]")
        }
        guard kernel.0 > 0, kernel.1 > 0 else { throw .invalidArgument(op: op, reason: "kernel size must be positive, got \(kernel.0)×\(kernel.1)") }
        guard stride.0 > 0, stride.1 > 0 else { throw .invalidArgument(op: op, reason: "stride must be positive, got \(stride.0)×\(stride.1)") }
        guard dilation.0 > 0, dilation.1 > 0 else { throw .invalidArgument(op: op, reason: "dilation must be positive, got \(dilation.0)×\(dilation.1)") }
        guard [padding.top, padding.bottom, padding.left, padding.right].allSatisfy({ $0 >= 0 && $0 < 1 << 20 }) else {
            throw .invalidArgument(op: op, reason: "padding \(padding) must be non-negative")
        }
        let spanH = dilation.0 * (kernel.0 - 1) + 1, spanW = dilation.1 * (kernel.1 - 1) + 1
        let paddedH = input[2] + padding.top + padding.bottom, paddedW = input[3] + padding.left + padding.right
        guard paddedH >= spanH, paddedW >= spanW else {
            throw .shapeMismatch(op: op, shapes: [input], reason: "kernel \(kernel.0)×\(kernel.1) (dilation \(dilation.0)×\(dilation.1)) is larger than the padded input \(paddedH)×\(paddedW)")
        }
        let outputHeight = (paddedH - spanH) / stride.0 + 1, outputWidth = (paddedW - spanW) / stride.1 + 1
        _ = try checkedCount([input[0], input[1], outputHeight, outputWidth, kernel.0, kernel.1], op: op)
        return WindowGeometry(
            channels: input[1], height: input[2], width: input[3],
            kernelHeight: kernel.0, kernelWidth: kernel.1, strideHeight: stride.0, strideWidth: stride.1,
            padTop: padding.top, padLeft: padding.left, dilationHeight: dilation.0, dilationWidth: dilation.1,
            outputHeight: outputHeight, outputWidth: outputWidth)
    }

    /// 2-D convolution (cross-correlation, as in PyTorch) of [N, C, H, W] with weight [O, C/groups, KH, KW]
    /// and an optional bias [O]. Lowered to im2col and one GEMM per image and group.
    public func conv2d(_ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: Padding2D = .zero,
                       dilation: (Int, Int) = (1, 1), groups: Int = 1) throws(TensorError) -> Tensor {
        let plan = try convolutionPlan(weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
        let y = Tensor(uninitializedShape: plan.outputShape)
        plan.forward(x: storage.pointer, weight: weight.storage.pointer, bias: bias?.storage.pointer, y: y.storage.pointer)

        let (x0, w0, inputShape, weightShape) = (detached(), weight.detached(), shape, weight.shape)
        let (needX, needW, needB) = (requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
        // dX = col2im(Wᵀ·dY), dW = Σₙ dY·colᵀ, db = Σ dY over batch and space
        return y.recorded(from: [self, weight] + (bias.map { [$0] } ?? [])) { g throws(TensorError) in
            let dx = needX ? Tensor(shape: inputShape, storage: Storage(count: inputShape.reduce(1, *), repeating: 0)) : nil
            let dw = needW ? Tensor(uninitializedShape: weightShape) : nil
            plan.backward(x: x0.storage.pointer, weight: w0.storage.pointer, dy: g.storage.pointer,
                          dx: dx?.storage.pointer, dw: dw?.storage.pointer)
            let db = needB ? try g.sum(axes: [0, 2, 3]) : nil
            return [dx, dw, db]
        }
    }

    /// Inference only: `conv2d(…)` with `epilogue` applied to every output as the convolution writes
    /// it — a folded BatchNorm's affine map, then a clamp (a fused ReLU, ReLU6 or clip) — the same bits
    /// as running `batchNorm(…, training: false)` and the activation after `conv2d`, in one pass over
    /// memory. It has no derivative: it throws when an input would need a gradient.
    public func conv2dInference(_ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: Padding2D = .zero,
                                dilation: (Int, Int) = (1, 1), groups: Int = 1, epilogue: ConvEpilogue) throws(TensorError) -> Tensor {
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        guard !Tensor.wouldRecord(inputs) else {
            throw .invalidArgument(op: "conv2dInference", reason: "an input requires a gradient; use conv2d")
        }
        let plan = try convolutionPlan(weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
        try epilogue.check(channels: weight.shape[0], weight: weight.shape, op: "conv2dInference")
        let y = Tensor(uninitializedShape: plan.outputShape)
        plan.forward(x: storage.pointer, weight: weight.storage.pointer, bias: bias?.storage.pointer, y: y.storage.pointer, epilogue: epilogue)
        return y
    }

    /// Checks a convolution's operands and plans it.
    private func convolutionPlan(_ weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: Padding2D,
                                 dilation: (Int, Int), groups: Int) throws(TensorError) -> ConvPlan {
        guard weight.rank == 4 else {
            throw .shapeMismatch(op: "conv2d", shapes: [shape, weight.shape], reason: "weight must be [out, in/groups, kh, kw]")
        }
        guard groups > 0 else { throw .invalidArgument(op: "conv2d", reason: "groups must be positive, got \(groups)") }
        var geometry = try Tensor.window(op: "conv2d", input: shape, kernel: (weight.shape[2], weight.shape[3]),
                                         stride: stride, padding: padding, dilation: dilation)
        let (batch, channels, outChannels) = (shape[0], shape[1], weight.shape[0])
        guard channels % groups == 0, outChannels % groups == 0 else {
            throw .shapeMismatch(op: "conv2d", shapes: [shape, weight.shape], reason: "\(channels) input and \(outChannels) output channels are not divisible by groups \(groups)")
        }
        guard weight.shape[1] * groups == channels else {
            throw .shapeMismatch(op: "conv2d", shapes: [shape, weight.shape], reason: "input has \(channels) channels, weight expects \(weight.shape[1] * groups) (\(weight.shape[1]) × groups \(groups))")
        }
        if let bias, bias.shape != [outChannels] {
            throw .shapeMismatch(op: "conv2d", shapes: [weight.shape, bias.shape], reason: "bias must be [\(outChannels)]")
        }
        geometry.channels = channels / groups
        return ConvPlan(batch: batch, groups: groups, outPerGroup: outChannels / groups, geometry: geometry)
    }
}

/// What a convolution does to each output value as it writes it, for inference fusion: a per-channel
/// affine map y = x·scale + shift (a BatchNorm in inference mode, from `Tensor.batchNormInferenceAffine`),
/// then a clamp to `low…high` (ReLU 0…∞, ReLU6 0…6, a clip) or an activation (`function`), computed as
/// `batchNorm`, `clamp` and the activation do.
public struct ConvEpilogue: Sendable {
    public var scale: [Float]?, shift: [Float]?
    public var low: Float, high: Float
    /// An activation after the map, computed as its layer computes it (instead of a clamp).
    public var function: Function?

    /// The activations an epilogue applies besides clamps (MobileNetV3's hardswish, EfficientNet's
    /// SiLU, a transformer MLP's GELU).
    public enum Function: Sendable, CaseIterable { case hardswish, hardsigmoid, silu, sigmoid, gelu }

    public init(scale: [Float]? = nil, shift: [Float]? = nil, low: Float = -.infinity, high: Float = .infinity, function: Function? = nil) {
        (self.scale, self.shift, self.low, self.high, self.function) = (scale, shift, low, high, function)
    }

    var clamps: Bool { low > -.infinity || high < .infinity }

    /// Throws unless the map has a scale and a shift per output channel (or none) and the clamp's
    /// bounds are in order.
    func check(channels: Int, weight: [Int], op: String) throws(TensorError) {
        if let scale, scale.count != channels || shift?.count != channels {
            throw .shapeMismatch(op: op, shapes: [weight, [scale.count]], reason: "the epilogue needs a scale and a shift per output channel")
        }
        guard low <= high else {
            throw .invalidArgument(op: op, reason: "clamp low \(low) is above high \(high)")
        }
    }

    /// Nothing to apply: no map, no clamp, no activation.
    var isIdentity: Bool { scale == nil && !clamps && function == nil }

    /// Applies the map to `count` values of output channel `channel`.
    @inline(__always)
    func apply(_ p: UnsafeMutablePointer<Float>, count: Int, channel: Int) {
        if let scale, let shift {
            let (s, t) = (scale[channel], shift[channel])
            if clamps {
                for i in 0..<count { p[i] = Tensor.clamped(p[i] * s + t, low, high) }
            } else {
                for i in 0..<count { p[i] = p[i] * s + t }
            }
        } else if clamps {
            clampAll(p, count: count)
        }
        function?.apply(p, count: count)
    }

    /// The clamp alone on `count` values (an epilogue without a map: any channel, either layout).
    @inline(__always)
    func clampAll(_ p: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { p[i] = Tensor.clamped(p[i], low, high) }
    }
}

extension ConvEpilogue.Function {
    /// y ← f(y) over `count` values, with the activation's own scalar function (the same bits as its layer).
    @inline(__always)
    func apply(_ p: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .hardswish: for i in 0..<count { p[i] = Hardswish.value(p[i]) }
        case .hardsigmoid: for i in 0..<count { p[i] = Hardsigmoid.value(p[i]) }
        case .silu: for i in 0..<count { p[i] = SiLU.value(p[i]) }
        case .sigmoid: for i in 0..<count { p[i] = Sigmoid.value(p[i]) }
        case .gelu: Lanes.mapInPlace(p, count: count, GELU.values, scalar: GELU.value)
        }
    }
}

/// One convolution's shapes and the GEMMs that compute it.
///
/// With a batch at least as large as the thread count, each thread takes whole images (its own
/// im2col buffer, its GEMMs on that thread). Otherwise images go one at a time, each GEMM split
/// over the threads. GEMMs give the same bits either way (see `GEMM.sgemm`), so the
/// thread count never changes a bit.
struct ConvPlan: Sendable {
    let batch: Int, groups: Int, outPerGroup: Int
    let geometry: WindowGeometry

    var outputShape: [Int] { [batch, groups * outPerGroup, geometry.outputHeight, geometry.outputWidth] }
    var patch: Int { geometry.patchSize }
    var plane: Int { geometry.outputPlane }
    var inputPerGroup: Int { geometry.channels * geometry.inputPlane }
    var weightPerGroup: Int { outPerGroup * patch }

    /// Calls `body` on ranges of images, in parallel when that pays, with a scratch buffer of `scratch` floats per call.
    private func overImages(scratch: Int, _ body: @escaping (Range<Int>, UnsafeMutablePointer<Float>?) -> Void) {
        func run(_ range: Range<Int>) {
            let buffer = scratch > 0 ? Storage(uninitializedCount: scratch) : nil
            withExtendedLifetime(buffer) { body(range, buffer?.pointer) }
        }
        if Threads.prefersOuterParallelism(units: batch) {
            Threads.parallelFor(batch, grain: 1, run)
        } else {
            run(0..<batch)
        }
    }

    /// F(2×2, 3×3) Winograd plans for the forward pass and for the data gradient, when they apply.
    var winogradForward: Winograd.Plan? {
        guard Winograd.applies(geometry, groups: groups, outChannels: outPerGroup) else { return nil }
        let g = geometry
        return Winograd.Plan(inChannels: g.channels, outChannels: outPerGroup, height: g.height, width: g.width,
                             padTop: g.padTop, padLeft: g.padLeft, outputHeight: g.outputHeight, outputWidth: g.outputWidth)
    }
    /// dX is the convolution of dY with the weights transposed and rotated, padded by 2 − padding.
    var winogradData: Winograd.Plan? {
        guard Winograd.applies(geometry, groups: groups, outChannels: outPerGroup) else { return nil }
        let g = geometry
        return Winograd.Plan(inChannels: outPerGroup, outChannels: g.channels, height: g.outputHeight, width: g.outputWidth,
                             padTop: 2 - g.padTop, padLeft: 2 - g.padLeft, outputHeight: g.height, outputWidth: g.width)
    }

    /// One filter per channel (groups = channels, multiplier 1): the direct kernel.
    var isDepthwise: Bool { geometry.channels == 1 && outPerGroup == 1 && groups > 1 }

    /// The geometry of the depthwise kernel: one plane per channel.
    var depthwiseGeometry: WindowGeometry {
        var g = geometry
        g.channels = groups
        return g
    }

    /// y = conv(x) (+ bias), then `epilogue` on every value when given (inference fusion).
    func forward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                 epilogue: ConvEpilogue? = nil) {
        nonisolated(unsafe) let (x, weight, bias, y) = (x, weight, bias, y)
        if isDepthwise {
            Depthwise.forward(x, weight, bias, y, planes: batch * groups, depthwiseGeometry, epilogue: epilogue)
            return
        }
        if batchesImages {
            forwardBatched(x: x, weight: weight, bias: bias, y: y, epilogue: epilogue)
            return
        }
        if let winograd = winogradForward {
            let u = Winograd.transformWeights(weight, outChannels: outPerGroup, inChannels: geometry.channels, transposedAndFlipped: false)
            nonisolated(unsafe) let transformed = UnsafePointer(u.pointer)
            overImages(scratch: winograd.scratchCount()) { images, scratch in
                guard let scratch else { return }
                for n in images {
                    Winograd.convolve(winograd, x: x + n * inputPerGroup, u: transformed, bias: bias,
                                      y: y + n * outPerGroup * plane, scratch: scratch)
                    if let epilogue {
                        for o in 0..<outPerGroup { epilogue.apply(y + (n * outPerGroup + o) * plane, count: plane, channel: o) }
                    }
                }
            }
            withExtendedLifetime(u) {}
            return
        }
        overImages(scratch: geometry.isPointwise ? 0 : patch * plane) { images, col in
            for n in images {
                for group in 0..<groups {
                    let input = x + (n * groups + group) * inputPerGroup
                    var columns = input
                    if let col {
                        Im2col.unfold(input, col, geometry)
                        columns = UnsafePointer(col)
                    }
                    let output = y + (n * groups + group) * outPerGroup * plane
                    GEMM.sgemm(m: outPerGroup, n: plane, k: patch, weight + group * weightPerGroup, lda: patch,
                               columns, ldb: plane, output, ldc: plane)
                    if let bias {
                        for o in 0..<outPerGroup {
                            let b = bias[group * outPerGroup + o], row = output + o * plane
                            for i in 0..<plane { row[i] += b }
                        }
                    }
                    if let epilogue {
                        for o in 0..<outPerGroup { epilogue.apply(output + o * plane, count: plane, channel: group * outPerGroup + o) }
                    }
                }
            }
        }
    }

    /// Writes `dx` (zeroed by the caller) and `dw` (overwritten) when non-nil.
    ///
    /// Each image's weight gradient goes to its own slot and the slots are summed in image order,
    /// so the result does not depend on how images were spread over threads.
    func backward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                  dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?) {
        let weightCount = groups * weightPerGroup
        if isDepthwise {
            // Per-sample weight gradients, summed in sample order below (the same bits for any thread count).
            let partials = dw != nil ? Storage(uninitializedCount: batch * weightCount) : nil
            Depthwise.backward(x, weight, dy, dx, partials?.pointer, planes: batch * groups, depthwiseGeometry)
            if let dw, let slots = partials?.pointer {
                Reduction.sum(slots, dw, outer: 1, n: batch, inner: weightCount)
            }
            withExtendedLifetime(partials) {}
            return
        }
        if batchesImages {
            backwardBatched(x: x, weight: weight, dy: dy, dx: dx, dw: dw)
            return
        }
        let partials = dw != nil ? Storage(uninitializedCount: batch * weightCount) : nil
        nonisolated(unsafe) let (x, weight, dy, dx) = (x, weight, dy, dx)
        nonisolated(unsafe) let slots = partials?.pointer
        let winograd = dx != nil ? winogradData : nil
        let transformed = winograd.map { _ in
            Winograd.transformWeights(weight, outChannels: geometry.channels, inChannels: outPerGroup, transposedAndFlipped: true)
        }
        nonisolated(unsafe) let u = transformed.map { UnsafePointer($0.pointer) }
        let columnsCount = geometry.isPointwise ? 0 : patch * plane
        // graft's GEMM takes dWᵀ = col · dYᵀ with the columns read where they lie (rows of A) and only
        // dY packed, instead of packing the columns transposed: each element is the same chain over
        // the plane (a product's operands swapped), so the same bits. OpenBLAS keeps dW = dY · colᵀ.
        let transposed = slots != nil && GEMM.runsGraftKernels
        let transposedCount = transposed ? weightPerGroup : 0
        overImages(scratch: columnsCount + transposedCount + (winograd?.scratchCount() ?? 0)) { images, scratch in
            let col = columnsCount > 0 ? scratch : nil
            for n in images {
                if let winograd, let u, let dx, let scratch {
                    Winograd.convolve(winograd, x: dy + n * outPerGroup * plane, u: u, bias: nil,
                                      y: dx + n * inputPerGroup, scratch: scratch + columnsCount + transposedCount)
                }
                for group in 0..<groups {
                    let input = x + (n * groups + group) * inputPerGroup
                    let gradient = dy + (n * groups + group) * outPerGroup * plane
                    if let slots {
                        var columns = input
                        if let col {
                            Im2col.unfold(input, col, geometry)
                            columns = UnsafePointer(col)
                        }
                        let slot = slots + n * weightCount + group * weightPerGroup
                        if transposed, let scratch {
                            // dW_g(n)ᵀ = col [patch, plane] · dYᵀ [plane, out], then transposed into the slot
                            let t = scratch + columnsCount
                            GEMM.sgemm(transposeB: true, m: patch, n: outPerGroup, k: plane, columns, lda: plane,
                                       gradient, ldb: plane, t, ldc: outPerGroup)
                            graft_transpose_into(t, outPerGroup, patch, outPerGroup, slot, patch)
                        } else {
                            // dW_g(n) = dY [out, plane] · colᵀ [plane, patch]
                            GEMM.sgemm(transposeB: true, m: outPerGroup, n: patch, k: plane, gradient, lda: plane,
                                       columns, ldb: plane, slot, ldc: patch)
                        }
                    }
                    if let dx, winograd == nil {
                        let target = dx + (n * groups + group) * inputPerGroup
                        let kernel = weight + group * weightPerGroup
                        if let col {
                            // dcol = W_gᵀ [patch, out] · dY [out, plane], folded back onto the image
                            GEMM.sgemm(transposeA: true, m: patch, n: plane, k: outPerGroup, kernel, lda: patch,
                                       gradient, ldb: plane, col, ldc: plane)
                            Im2col.fold(col, target, geometry)
                        } else {
                            GEMM.sgemm(transposeA: true, m: patch, n: plane, k: outPerGroup, kernel, lda: patch,
                                       gradient, ldb: plane, beta: 1, target, ldc: plane)
                        }
                    }
                }
            }
        }
        if let dw, let slots {
            // Σₙ in image order, parallel over weight elements.
            Reduction.sum(slots, dw, outer: 1, n: batch, inner: weightCount)
        }
        withExtendedLifetime((partials, transformed)) {}
    }
}
