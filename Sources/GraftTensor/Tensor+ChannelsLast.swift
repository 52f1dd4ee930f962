/// Channels-last maps for inference chains: a model in inference runs its chains of depthwise and
/// pointwise convolutions on [N, H, W, C] (see `Model.run` in GraftNN), converting once at the
/// entry and the exit of a chain. Every op here gives the same bits as its NCHW counterpart; none
/// has a derivative (each throws when an operand would need a gradient).
extension Tensor {
    /// [N, C, H, W] → [N, H, W, C]. A map of one pixel or one channel is only reshaped.
    public func channelsLast() throws(TensorError) -> Tensor {
        guard rank == 4 else { throw .shapeMismatch(op: "channelsLast", shapes: [shape], reason: "input must be [N, C, H, W]") }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        return try Tensor.relaid(self, [n, h, w, c], batch: n, rows: c, columns: h * w, op: "channelsLast")
    }

    /// [N, H, W, C] → [N, C, H, W], the inverse of ``channelsLast()``.
    public func channelsFirst() throws(TensorError) -> Tensor {
        guard rank == 4 else { throw .shapeMismatch(op: "channelsFirst", shapes: [shape], reason: "input must be [N, H, W, C]") }
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        return try Tensor.relaid(self, [n, c, h, w], batch: n, rows: h * w, columns: c, op: "channelsFirst")
    }

    private static func relaid(_ x: Tensor, _ shape: [Int], batch: Int, rows: Int, columns: Int, op: String) throws(TensorError) -> Tensor {
        guard !wouldRecord([x]) else { throw .invalidArgument(op: op, reason: "the input requires a gradient (inference only)") }
        if rows == 1 || columns == 1 { return try x.reshaped(shape) }
        let y = Tensor(uninitializedShape: shape)
        ChannelsLast.transpose(x.storage.pointer, y.storage.pointer, batch: batch, rows: rows, columns: columns)
        return y
    }

    /// Whether ``conv2dChannelsLast(_:bias:stride:padding:dilation:groups:epilogue:)`` takes this
    /// convolution: a pointwise one (1×1, stride 1, no padding, one group) or a depthwise one (one
    /// filter per channel).
    public static func runsChannelsLast(inChannels: Int, weight: [Int], stride: (Int, Int), padding: Padding2D,
                                        dilation: (Int, Int), groups: Int) -> Bool {
        guard weight.count == 4 else { return false }
        let pointwise = groups == 1 && weight[2] == 1 && weight[3] == 1 && stride == (1, 1) && padding == .zero && dilation == (1, 1)
        let depthwise = groups > 1 && groups == inChannels && weight[0] == groups && weight[1] == 1
        return pointwise || depthwise
    }

    /// Inference: ``conv2dInference(_:bias:stride:padding:dilation:groups:epilogue:)`` on a
    /// channels-last map [N, H, W, C] → [N, OH, OW, O], the same bits in the other layout, for the
    /// convolutions ``runsChannelsLast(inChannels:weight:stride:padding:dilation:groups:)`` accepts.
    public func conv2dChannelsLast(_ weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: Padding2D = .zero,
                                   dilation: (Int, Int) = (1, 1), groups: Int = 1, epilogue: ConvEpilogue = ConvEpilogue()) throws(TensorError) -> Tensor {
        try conv2dChannelsLast(ChannelsLastConvolution(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                                                       groups: groups, epilogue: epilogue))
    }

    /// ``conv2dChannelsLast(_:bias:stride:padding:dilation:groups:epilogue:)`` of one convolution's operands.
    public func conv2dChannelsLast(_ conv: ChannelsLastConvolution) throws(TensorError) -> Tensor {
        let op = "conv2dChannelsLast"
        let checked = try conv.check(input: shape, op: op)
        try checkInference([self], conv, op: op)
        let (n, h, w) = (shape[0], shape[1], shape[2])
        let fused = conv.epilogue.isIdentity ? nil : conv.epilogue
        guard let g = checked.window else {
            let y = Tensor(uninitializedShape: [n, h, w, checked.outChannels])
            ChannelsLast.pointwise(storage.pointer, conv.weight.storage.pointer, conv.bias?.storage.pointer, y.storage.pointer,
                                   pixels: n * h * w, inChannels: shape[3], outChannels: checked.outChannels, epilogue: fused)
            return y
        }
        let y = Tensor(uninitializedShape: [n, g.outputHeight, g.outputWidth, g.channels])
        ChannelsLast.depthwise(storage.pointer, conv.weight.storage.pointer, conv.bias?.storage.pointer, y.storage.pointer, batch: n, g, epilogue: fused)
        return y
    }

    /// Inference: an inverted-residual block (MobileNetV2 and V3, EfficientNet) or a depthwise-separable
    /// one on a channels-last map [N, H, W, C], as one pass: the pointwise `expand` (optional), the
    /// depthwise convolution, the pointwise `project` (optional), each with its epilogue. The result
    /// has the bits of the three ``conv2dChannelsLast(_:)`` calls one after another, but the expanded
    /// map and the depthwise output are only ever held a band of rows at a time, in cache.
    /// `bandRows` sets the output rows of a band (tests make it small to cross many band edges).
    public func separableBlockChannelsLast(expand: ChannelsLastConvolution?, depthwise: ChannelsLastConvolution,
                                           project: ChannelsLastConvolution?, bandRows: Int? = nil) throws(TensorError) -> Tensor {
        let op = "separableBlockChannelsLast"
        guard rank == 4 else { throw .shapeMismatch(op: op, shapes: [shape], reason: "input must be [N, H, W, C]") }
        let (n, h, w) = (shape[0], shape[1], shape[2])
        let expanded = try expand.map { conv throws(TensorError) in try conv.check(input: shape, op: op, kind: .pointwise) }
        let middle = [n, h, w, expanded?.outChannels ?? shape[3]]
        guard let g = try depthwise.check(input: middle, op: op, kind: .depthwise).window else { throw .invalidArgument(op: op, reason: "the middle convolution must be depthwise") }
        let outChannels = try project.map { conv throws(TensorError) in
            try conv.check(input: [n, g.outputHeight, g.outputWidth, g.channels], op: op, kind: .pointwise).outChannels
        }
        try checkInference([self], expand, depthwise, project, op: op)
        guard expand != nil || project != nil else { return try conv2dChannelsLast(depthwise) }
        // Graft's own GEMM makes the bands' bits those of the layers one by one; with OpenBLAS's kernels they run one by one.
        guard Numerics.current == .portable else {
            var y = self
            for conv in [expand, depthwise, project].compactMap({ $0 }) { y = try y.conv2dChannelsLast(conv) }
            return y
        }
        func stage(_ conv: ChannelsLastConvolution?, _ inChannels: Int) -> SeparableBlock.Pointwise? {
            conv.map { SeparableBlock.Pointwise(weight: $0.weight.storage.pointer, bias: $0.bias?.storage.pointer, inChannels: inChannels,
                                                outChannels: $0.weight.shape[0], epilogue: $0.epilogue.isIdentity ? nil : $0.epilogue) }
        }
        let y = Tensor(uninitializedShape: [n, g.outputHeight, g.outputWidth, outChannels ?? g.channels])
        SeparableBlock.run(storage.pointer, batch: n, expand: stage(expand, shape[3]), depthwise: depthwise.weight.storage.pointer,
                           bias: depthwise.bias?.storage.pointer, g, epilogue: depthwise.epilogue.isIdentity ? nil : depthwise.epilogue,
                           project: stage(project, g.channels), y.storage.pointer, bandRows: bandRows)
        withExtendedLifetime((expand, depthwise, project)) {}
        return y
    }

    /// Throws when an input or a convolution's operand would need a gradient (these ops are inference only).
    private func checkInference(_ inputs: [Tensor], _ convs: ChannelsLastConvolution?..., op: String) throws(TensorError) {
        let operands = inputs + convs.flatMap { $0.map { [$0.weight] + ($0.bias.map { [$0] } ?? []) } ?? [] }
        guard !Tensor.wouldRecord(operands) else { throw .invalidArgument(op: op, reason: "an input requires a gradient (inference only)") }
    }

    /// Inference: `globalAvgPool2d` of a channels-last map [N, H, W, C] → [N, C], the same bits.
    public func globalAvgPool2dChannelsLast() throws(TensorError) -> Tensor {
        let op = "globalAvgPool2dChannelsLast"
        guard rank == 4 else { throw .shapeMismatch(op: op, shapes: [shape], reason: "input must be [N, H, W, C]") }
        guard !Tensor.wouldRecord([self]) else { throw .invalidArgument(op: op, reason: "the input requires a gradient (inference only)") }
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        guard h * w > 0 else { throw .invalidArgument(op: op, reason: "mean over an empty axis of \(formatShape(shape))") }
        let y = Tensor(uninitializedShape: [n, c])
        ChannelsLast.averagePool(storage.pointer, y.storage.pointer, batch: n, height: h, width: w, channels: c)
        return y
    }
}

/// A convolution that runs on channels-last maps — pointwise (1×1, stride 1, no padding, one group)
/// or depthwise (one filter per channel) — with its bias and the epilogue fused into it.
public struct ChannelsLastConvolution {
    public var weight: Tensor, bias: Tensor?
    public var stride: (Int, Int), padding: Padding2D, dilation: (Int, Int), groups: Int
    public var epilogue: ConvEpilogue

    public init(weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1), padding: Padding2D = .zero, dilation: (Int, Int) = (1, 1),
                groups: Int = 1, epilogue: ConvEpilogue = ConvEpilogue()) {
        (self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups, self.epilogue) = (weight, bias, stride, padding, dilation, groups, epilogue)
    }

    enum Kind { case pointwise, depthwise }

    /// The output's shape [N, OH, OW, O] on a channels-last input [N, H, W, C]; throws when the convolution does not take it.
    public func outputShape(channelsLast shape: [Int]) throws(TensorError) -> [Int] {
        let checked = try check(input: shape, op: "conv2dChannelsLast")
        guard let g = checked.window else { return [shape[0], shape[1], shape[2], checked.outChannels] }
        return [shape[0], g.outputHeight, g.outputWidth, checked.outChannels]
    }

    /// Checks the convolution against an input [N, H, W, C] (and, when given, its kind): the output's
    /// channels, and for a depthwise one its window geometry (channels C).
    func check(input shape: [Int], op: String, kind: Kind? = nil) throws(TensorError) -> (outChannels: Int, window: WindowGeometry?) {
        guard shape.count == 4 else { throw .shapeMismatch(op: op, shapes: [shape], reason: "input must be [N, H, W, C]") }
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        guard Tensor.runsChannelsLast(inChannels: c, weight: weight.shape, stride: stride, padding: padding, dilation: dilation, groups: groups) else {
            throw .invalidArgument(op: op, reason: "only pointwise and depthwise convolutions run channels-last")
        }
        let outChannels = weight.shape[0]
        if let bias, bias.shape != [outChannels] {
            throw .shapeMismatch(op: op, shapes: [weight.shape, bias.shape], reason: "bias must be [\(outChannels)]")
        }
        try epilogue.check(channels: outChannels, weight: weight.shape, op: op)
        if groups == 1 {
            guard kind != .depthwise else { throw .invalidArgument(op: op, reason: "expected a depthwise convolution, got a pointwise one") }
            guard weight.shape[1] == c else {
                throw .shapeMismatch(op: op, shapes: [shape, weight.shape], reason: "input has \(c) channels, weight expects \(weight.shape[1])")
            }
            return (outChannels, nil)
        }
        guard kind != .pointwise else { throw .invalidArgument(op: op, reason: "expected a pointwise convolution, got a depthwise one") }
        var g = try Tensor.window(op: op, input: [n, c, h, w], kernel: (weight.shape[2], weight.shape[3]), stride: stride,
                                  padding: padding, dilation: dilation)
        g.channels = c
        return (outChannels, g)
    }
}
