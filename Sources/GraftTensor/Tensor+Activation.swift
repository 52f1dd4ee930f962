import Foundation

// Activations. Each is a primitive with its derivative beside it: they run on every element
// of every feature map, where composing five ops would cost five passes over memory.

/// An activation's value and derivative, as static functions so that every use is specialized
/// and inlined into its loop (a closure per element costs several times the arithmetic).
protocol ActivationFunction {
    static func value(_ x: Float) -> Float
    static func derivative(_ x: Float) -> Float
}

extension ActivationFunction {
    /// The gradient at the input z of the activation for the gradient g at its output: g·F′(z),
    /// computed as the activation's own backward computes it.
    @inline(__always) static func gradient(_ g: Float, at z: Float) -> Float { g * derivative(z) }

    /// `gradient` in each of eight lanes.
    @inline(__always) static func gradients(_ g: SIMD8<Float>, at z: SIMD8<Float>) -> SIMD8<Float> {
        var d = SIMD8<Float>()
        for k in 0..<8 { d[k] = derivative(z[k]) }
        return g * d
    }
}

/// No activation: a fused pass (`batchNorm(…, activation:)`) without one.
enum Identity: ActivationFunction {
    @inline(__always) static func value(_ x: Float) -> Float { x }
    // g·1 is g, bit for bit
    @inline(__always) static func derivative(_ x: Float) -> Float { 1 }
}

/// An activation a normalization applies to its output in the same pass, forward and backward,
/// with the bits of the activation's own op (`batchNorm(…, activation:)`: training fusion).
public enum FusedActivation: Sendable, CaseIterable {
    case relu, relu6, hardswish, hardsigmoid, silu, sigmoid, gelu

    /// The same activation as a convolution's epilogue applies it; nil for ReLU and ReLU6, which it applies as clamps.
    public var epilogueFunction: ConvEpilogue.Function? {
        switch self {
        case .relu, .relu6: return nil
        case .hardswish: return .hardswish
        case .hardsigmoid: return .hardsigmoid
        case .silu: return .silu
        case .sigmoid: return .sigmoid
        case .gelu: return .gelu
        }
    }
}

enum ReLU: ActivationFunction {
    // d/dx = [x > 0]
    @inline(__always) static func value(_ x: Float) -> Float { Swift.max(x, 0) }
    @inline(__always) static func derivative(_ x: Float) -> Float { x > 0 ? 1 : 0 }
}

enum ReLU6: ActivationFunction {
    // d/dx = [0 < x < 6]
    @inline(__always) static func value(_ x: Float) -> Float { Swift.min(Swift.max(x, 0), 6) }
    @inline(__always) static func derivative(_ x: Float) -> Float { x > 0 && x < 6 ? 1 : 0 }
}

enum Sigmoid: ActivationFunction {
    // d/dx = σ(1 − σ)
    @inline(__always) static func value(_ x: Float) -> Float { Tensor.logistic(x) }
    @inline(__always) static func derivative(_ x: Float) -> Float { let s = Tensor.logistic(x); return s * (1 - s) }
}

enum Tanh: ActivationFunction {
    // d/dx = 1 − tanh²
    @inline(__always) static func value(_ x: Float) -> Float { Foundation.tanh(x) }
    @inline(__always) static func derivative(_ x: Float) -> Float { let t = Foundation.tanh(x); return 1 - t * t }
}

/// An activation that also runs eight lanes at a time, each lane with the bits of `value`.
protocol VectorActivationFunction: ActivationFunction {
    static func values(_ x: SIMD8<Float>) -> SIMD8<Float>
}

enum GELU: VectorActivationFunction {
    // x·Φ(x) with the exact normal CDF (PyTorch's default), Φ(x) = (1 + erf(x/√2))/2, with graft's erf;
    // d/dx = Φ(x) + x·φ(x)
    static let rootHalf = Float(0.5.squareRoot())
    @inline(__always) static func value(_ x: Float) -> Float { values(SIMD8(repeating: x))[0] }
    @inline(__always) static func values(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let half = SIMD8<Float>(repeating: 0.5)
        return half * x * (1 + Erf8.values(x * rootHalf))
    }
    @inline(__always) static func derivative(_ x: Float) -> Float {
        0.5 * (1 + Erf8.value(x * rootHalf)) + x * Foundation.exp(-0.5 * x * x) / Float(2 * Double.pi).squareRoot()
    }
}

enum GELUTanh: ActivationFunction {
    // 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³) (PyTorch's approximate="tanh");
    // d/dx = 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²)
    static let c = Float((2 / Double.pi).squareRoot())
    @inline(__always) static func value(_ x: Float) -> Float { 0.5 * x * (1 + Foundation.tanh(c * (x + 0.044715 * x * x * x))) }
    @inline(__always) static func derivative(_ x: Float) -> Float {
        let t = Foundation.tanh(c * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
    }
}

enum Erf: VectorActivationFunction {
    // graft's erf (Kernels/VectorMath.swift); d erf/dx = 2/√π · e^(−x²)
    @inline(__always) static func value(_ x: Float) -> Float { Erf8.value(x) }
    @inline(__always) static func values(_ x: SIMD8<Float>) -> SIMD8<Float> { Erf8.values(x) }
    @inline(__always) static func derivative(_ x: Float) -> Float { 2 / Float.pi.squareRoot() * Foundation.exp(-x * x) }
}

enum SiLU: ActivationFunction {
    // x·σ(x); d/dx = σ(x)·(1 + x·(1 − σ(x)))
    @inline(__always) static func value(_ x: Float) -> Float { x * Tensor.logistic(x) }
    @inline(__always) static func derivative(_ x: Float) -> Float { let s = Tensor.logistic(x); return s * (1 + x * (1 - s)) }
}

enum Hardsigmoid: ActivationFunction {
    // relu6(x + 3)/6; d/dx = 1/6 on (−3, 3)
    @inline(__always) static func value(_ x: Float) -> Float { Swift.min(Swift.max(x + 3, 0), 6) / 6 }
    @inline(__always) static func derivative(_ x: Float) -> Float { x > -3 && x < 3 ? 1 / 6 : 0 }
}

enum Hardswish: ActivationFunction {
    // x·relu6(x + 3)/6; d/dx = 0 below −3, 1 above 3, (2x + 3)/6 between (PyTorch's convention)
    @inline(__always) static func value(_ x: Float) -> Float { x * Swift.min(Swift.max(x + 3, 0), 6) / 6 }
    @inline(__always) static func derivative(_ x: Float) -> Float { x < -3 ? 0 : (x > 3 ? 1 : (2 * x + 3) / 6) }
}

extension Tensor {
    /// `F` elementwise; the pullback multiplies the gradient by F′ at the input.
    @inline(__always)
    func activation<F: ActivationFunction>(_: F.Type) -> Tensor {
        applying(F.self) { input, output, count in
            for i in 0..<count { output[i] = F.value(input[i]) }
        }
    }

    /// `F` elementwise, eight lanes at a time (the same bits as `F.value` per element).
    @inline(__always)
    func activation<F: VectorActivationFunction>(_: F.Type) -> Tensor {
        applying(F.self) { input, output, count in
            Lanes.forEach(count, { j in Lanes.store(F.values(Lanes.load(input, j)), output, j) },
                          scalar: { j in output[j] = F.value(input[j]) })
        }
    }

    /// `F` by `loop` (input, output, count) over chunks of the elements, recorded with F's derivative.
    @inline(__always)
    private func applying<F: ActivationFunction>(_: F.Type, _ loop: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        let x0 = detached()
        let y = Tensor(uninitializedShape: shape)
        nonisolated(unsafe) let (source, target) = (storage.pointer, y.storage.pointer)
        Threads.parallelFor(count, grain: Elementwise.grain) { range in
            loop(source + range.lowerBound, target + range.lowerBound, range.count)
        }
        return y.activationRecorded(from: self, x0, F.self)
    }

    /// Records `self` = F(input) with the pullback g·F′(x0).
    @inline(__always)
    private func activationRecorded<F: ActivationFunction>(from input: Tensor, _ x0: Tensor, _: F.Type) -> Tensor {
        recorded(from: [input]) { g in
            let dx = Tensor(uninitializedShape: x0.shape)
            nonisolated(unsafe) let (gp, xp, dp) = (g.storage.pointer, x0.storage.pointer, dx.storage.pointer)
            Threads.parallelFor(dx.count, grain: Elementwise.grain) { range in
                for i in range { dp[i] = gp[i] * F.derivative(xp[i]) }
            }
            return [dx]
        }
    }

    public func relu() -> Tensor { activation(ReLU.self) }
    public func relu6() -> Tensor { activation(ReLU6.self) }
    public func sigmoid() -> Tensor { activation(Sigmoid.self) }
    public func tanh() -> Tensor { activation(Tanh.self) }
    public func gelu() -> Tensor { activation(GELU.self) }
    /// GELU's tanh approximation (PyTorch's `approximate="tanh"`, timm's `gelu_tanh`).
    public func geluTanh() -> Tensor { activation(GELUTanh.self) }
    /// The error function (ONNX's `Erf`, from which exported GELUs are built).
    public func erf() -> Tensor { activation(Erf.self) }
    public func silu() -> Tensor { activation(SiLU.self) }
    public func hardsigmoid() -> Tensor { activation(Hardsigmoid.self) }
    public func hardswish() -> Tensor { activation(Hardswish.self) }

    /// x for x > 0, slope·x otherwise; d/dx = 1 or slope
    public func leakyRelu(_ slope: Float = 0.01) -> Tensor {
        let x0 = detached()
        return Tensor.mapped(self) { $0 > 0 ? $0 : slope * $0 }.recorded(from: [self]) { g in
            [Tensor.zipSameShape(g, x0) { $1 > 0 ? $0 : slope * $0 }]
        }
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
