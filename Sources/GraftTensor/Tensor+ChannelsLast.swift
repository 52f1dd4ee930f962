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
        let op = "conv2dChannelsLast"
        guard rank == 4 else { throw .shapeMismatch(op: op, shapes: [shape], reason: "input must be [N, H, W, C]") }
        guard !Tensor.wouldRecord([self, weight] + (bias.map { [$0] } ?? [])) else {
            throw .invalidArgument(op: op, reason: "an input requires a gradient (inference only)")
        }
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        guard Tensor.runsChannelsLast(inChannels: c, weight: weight.shape, stride: stride, padding: padding, dilation: dilation, groups: groups) else {
            throw .invalidArgument(op: op, reason: "only pointwise and depthwise convolutions run channels-last")
        }
        let outChannels = weight.shape[0]
        if let bias, bias.shape != [outChannels] {
            throw .shapeMismatch(op: op, shapes: [weight.shape, bias.shape], reason: "bias must be [\(outChannels)]")
        }
        if let scale = epilogue.scale, scale.count != outChannels || epilogue.shift?.count != outChannels {
            throw .shapeMismatch(op: op, shapes: [weight.shape, [scale.count]], reason: "the epilogue needs a scale and a shift per output channel")
        }
        guard epilogue.low <= epilogue.high else { throw .invalidArgument(op: op, reason: "clamp low \(epilogue.low) is above high \(epilogue.high)") }
        let fused = epilogue.isIdentity ? nil : epilogue
        if groups == 1 {
            guard weight.shape[1] == c else {
                throw .shapeMismatch(op: op, shapes: [shape, weight.shape], reason: "input has \(c) channels, weight expects \(weight.shape[1])")
            }
            let y = Tensor(uninitializedShape: [n, h, w, outChannels])
            ChannelsLast.pointwise(storage.pointer, weight.storage.pointer, bias?.storage.pointer, y.storage.pointer,
                                   pixels: n * h * w, inChannels: c, outChannels: outChannels, epilogue: fused)
            return y
        }
        var g = try Tensor.window(op: op, input: [n, c, h, w], kernel: (weight.shape[2], weight.shape[3]), stride: stride,
                                  padding: padding, dilation: dilation)
        g.channels = c
        let y = Tensor(uninitializedShape: [n, g.outputHeight, g.outputWidth, c])
        ChannelsLast.depthwise(storage.pointer, weight.storage.pointer, bias?.storage.pointer, y.storage.pointer, batch: n, g, epilogue: fused)
        return y
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
