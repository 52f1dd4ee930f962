import Foundation

// Activations. Each is a primitive with its derivative beside it: they run on every element
// of every feature map, where composing five ops would cost five passes over memory.

extension Tensor {
    /// `f` elementwise, with `f′` computed from the input for the pullback.
    @inline(__always)
    func activation(_ f: (Float) -> Float, derivative: @escaping (Float) -> Float) -> Tensor {
        let x0 = detached()
        return Tensor.mapped(self, f).recorded(from: [self]) { g in
            [Tensor.zipSameShape(g, x0) { $0 * derivative($1) }]
        }
    }

    /// max(0, x); d/dx = [x > 0]
    public func relu() -> Tensor { activation({ Swift.max($0, 0) }, derivative: { $0 > 0 ? 1 : 0 }) }

    /// min(max(0, x), 6); d/dx = [0 < x < 6]
    public func relu6() -> Tensor { activation({ Swift.min(Swift.max($0, 0), 6) }, derivative: { $0 > 0 && $0 < 6 ? 1 : 0 }) }

    /// x for x > 0, slope·x otherwise; d/dx = 1 or slope
    public func leakyRelu(_ slope: Float = 0.01) -> Tensor {
        activation({ $0 > 0 ? $0 : slope * $0 }, derivative: { $0 > 0 ? 1 : slope })
    }

    /// 1/(1 + e⁻ˣ); d/dx = σ(1 − σ)
    public func sigmoid() -> Tensor {
        activation({ Tensor.logistic($0) }, derivative: { let s = Tensor.logistic($0); return s * (1 - s) })
    }

    /// d tanh/dx = 1 − tanh²
    public func tanh() -> Tensor {
        activation({ Foundation.tanh($0) }, derivative: { let t = Foundation.tanh($0); return 1 - t * t })
    }

    /// x·Φ(x) with the exact normal CDF (PyTorch's default GELU); d/dx = Φ(x) + x·φ(x)
    public func gelu() -> Tensor {
        activation({ 0.5 * $0 * (1 + erf($0 / Float(2).squareRoot())) }, derivative: { x in
            0.5 * (1 + erf(x / Float(2).squareRoot())) + x * Foundation.exp(-0.5 * x * x) / Float(2 * Double.pi).squareRoot()
        })
    }

    /// x·σ(x) (swish); d/dx = σ(x)·(1 + x·(1 − σ(x)))
    public func silu() -> Tensor {
        activation({ $0 * Tensor.logistic($0) }, derivative: { x in let s = Tensor.logistic(x); return s * (1 + x * (1 - s)) })
    }

    /// relu6(x + 3)/6 (PyTorch's hardsigmoid); d/dx = 1/6 on (−3, 3)
    public func hardsigmoid() -> Tensor {
        activation({ Swift.min(Swift.max($0 + 3, 0), 6) / 6 }, derivative: { $0 > -3 && $0 < 3 ? 1 / 6 : 0 })
    }

    /// x·relu6(x + 3)/6; d/dx = 0 below −3, 1 above 3, (2x + 3)/6 between (PyTorch's convention)
    public func hardswish() -> Tensor {
        activation({ $0 * Swift.min(Swift.max($0 + 3, 0), 6) / 6 }, derivative: { x in
            x < -3 ? 0 : (x > 3 ? 1 : (2 * x + 3) / 6)
        })
    }

    @inline(__always) static func logistic(_ x: Float) -> Float {
        // Stable on both tails.
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : { let e = Foundation.exp(x); return e / (1 + e) }()
    }

    /// log(softmax(x)) along `axis`, computed stably (x − max − log Σ e^(x − max)).
    public func logSoftmax(axis: Int = -1) throws(TensorError) -> Tensor {
        // d logsoftmax/dx: g − softmax · Σg
        try normalized(axis: axis, log: true, op: "logSoftmax")
    }

    /// e^x / Σ e^x along `axis`, computed stably.
    public func softmax(axis: Int = -1) throws(TensorError) -> Tensor {
        // d softmax/dx: y · (g − Σ g·y)
        try normalized(axis: axis, log: false, op: "softmax")
    }

    private func normalized(axis: Int, log: Bool, op: String) throws(TensorError) -> Tensor {
        let axis = try normalizeAxis(axis, rank: rank, op: op, shape: shape)
        let (outer, n, inner) = split(at: axis)
        guard n > 0 else { throw .invalidArgument(op: op, reason: "empty axis \(axis) in \(formatShape(shape))") }
        let y = Tensor(uninitializedShape: shape)
        Softmax.forward(storage.pointer, y.storage.pointer, outer: outer, n: n, inner: inner, log: log)
        let y0 = y.detached()
        return y.recorded(from: [self]) { g in
            let dx = Tensor(uninitializedShape: y0.shape)
            Softmax.backward(g.storage.pointer, y0.storage.pointer, dx.storage.pointer, outer: outer, n: n, inner: inner, log: log)
            return [dx]
        }
    }
}

/// Softmax and log-softmax along the middle axis of [outer, n, inner].
enum Softmax {
    static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int, log: Bool) {
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var top = -Float.infinity
                for k in 0..<n { top = Swift.max(top, x[base + k * inner]) }
                var total: Float = 0
                for k in 0..<n { total += Foundation.exp(x[base + k * inner] - top) }
                if log {
                    let logTotal = Foundation.log(total)
                    for k in 0..<n { y[base + k * inner] = x[base + k * inner] - top - logTotal }
                } else {
                    for k in 0..<n { y[base + k * inner] = Foundation.exp(x[base + k * inner] - top) / total }
                }
            }
        }
    }

    static func backward(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                         outer: Int, n: Int, inner: Int, log: Bool) {
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * n * inner + i
                var total: Float = 0
                if log {
                    for k in 0..<n { total += g[base + k * inner] }
                    for k in 0..<n { dx[base + k * inner] = g[base + k * inner] - Foundation.exp(y[base + k * inner]) * total }
                } else {
                    for k in 0..<n { total += g[base + k * inner] * y[base + k * inner] }
                    for k in 0..<n { dx[base + k * inner] = y[base + k * inner] * (g[base + k * inner] - total) }
                }
            }
        }
    }
}
