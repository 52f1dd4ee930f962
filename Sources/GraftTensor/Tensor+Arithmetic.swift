import Foundation

// Broadcasting elementwise arithmetic. Shapes broadcast as in NumPy: align from the right;
// each pair of sizes must be equal or one of them 1. Each pullback returns gradients in the
// output's shape; backward() sums them down to each input's shape.

extension Tensor {
    /// The shape two operands broadcast to, or an error naming the op and both shapes.
    public static func broadcastShape(_ a: [Int], _ b: [Int], op: String) throws(TensorError) -> [Int] {
        let rank = Swift.max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard da == db || da == 1 || db == 1 else {
                throw .shapeMismatch(op: op, shapes: [a, b], reason: "sizes \(da) and \(db) at axis \(i) do not broadcast")
            }
            result[i] = da == 1 ? db : da
        }
        _ = try checkedCount(result, op: op)
        return result
    }

    /// Strides that read `shape` as if it had `target`'s shape (0 on broadcast axes).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = contiguousStrides(shape)
        let offset = target.count - shape.count
        return target.indices.map { axis in
            axis < offset || shape[axis - offset] == 1 ? 0 : own[axis - offset]
        }
    }

    /// `f` applied pairwise with broadcasting (no gradient).
    @inline(__always)
    static func broadcasting(_ a: Tensor, _ b: Tensor, op: String,
                             _ f: (Float, Float) -> Float) throws(TensorError) -> Tensor {
        if a.shape == b.shape { return zipSameShape(a, b, f) }
        let shape = try broadcastShape(a.shape, b.shape, op: op)
        let y = Tensor(uninitializedShape: shape)
        if y.count == 0 { return y }
        if shape.isEmpty { y.storage.pointer[0] = f(a.storage.pointer[0], b.storage.pointer[0]); return y }
        Elementwise.zipBroadcast(a.storage.pointer, stridesA: broadcastStrides(a.shape, to: shape),
                                 b.storage.pointer, stridesB: broadcastStrides(b.shape, to: shape),
                                 y.storage.pointer, shape: shape, f)
        return y
    }

    /// One of the four operators with broadcasting (no gradient), in loops the compiler vectorizes.
    static func arithmetic(_ a: Tensor, _ b: Tensor, _ op: Elementwise.Arithmetic) throws(TensorError) -> Tensor {
        let shape = a.shape == b.shape ? a.shape : try broadcastShape(a.shape, b.shape, op: op.name)
        let y = Tensor(uninitializedShape: shape)
        if y.count == 0 { return y }
        if a.shape == b.shape || shape.isEmpty {
            Elementwise.zip(a.storage.pointer, b.storage.pointer, y.storage.pointer, count: y.count, op)
        } else {
            Elementwise.zipBroadcast(a.storage.pointer, stridesA: broadcastStrides(a.shape, to: shape),
                                     b.storage.pointer, stridesB: broadcastStrides(b.shape, to: shape),
                                     y.storage.pointer, shape: shape, op)
        }
        return y
    }

    public static func + (a: Tensor, b: Tensor) throws(TensorError) -> Tensor {
        let y = try arithmetic(a, b, .add)
        // d(a+b)/da = 1, d(a+b)/db = 1
        return y.recorded(from: [a, b]) { g in [g, g] }
    }

    public static func - (a: Tensor, b: Tensor) throws(TensorError) -> Tensor {
        let y = try arithmetic(a, b, .subtract)
        // d(a-b)/da = 1, d(a-b)/db = -1
        return y.recorded(from: [a, b]) { g in [g, -g] }
    }

    public static func * (a: Tensor, b: Tensor) throws(TensorError) -> Tensor {
        let y = try arithmetic(a, b, .multiply)
        let (a0, b0, needA, needB) = (a.detached(), b.detached(), a.requiresGrad, b.requiresGrad)
        // d(ab)/da = b, d(ab)/db = a
        return y.recorded(from: [a, b]) { g throws(TensorError) in
            [needA ? try g * b0 : nil, needB ? try g * a0 : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) throws(TensorError) -> Tensor {
        let y = try arithmetic(a, b, .divide)
        let (b0, y0, needA, needB) = (b.detached(), y.detached(), a.requiresGrad, b.requiresGrad)
        // d(a/b)/da = 1/b, d(a/b)/db = -a/b² = -y/b
        return y.recorded(from: [a, b]) { g throws(TensorError) in
            [needA ? try g / b0 : nil, needB ? try -(g * y0) / b0 : nil]
        }
    }

    /// Elementwise maximum; where equal, the gradient goes to `a`.
    public static func maximum(_ a: Tensor, _ b: Tensor) throws(TensorError) -> Tensor {
        let y = try broadcasting(a, b, op: "maximum") { Swift.max($0, $1) }
        let (a0, b0) = (a.detached(), b.detached())
        // d max(a,b)/da = [a ≥ b], d/db = [b > a]
        return y.recorded(from: [a, b]) { g throws(TensorError) in
            let pickA = try broadcasting(a0, b0, op: "maximum") { $0 >= $1 ? 1 : 0 }
            return [try g * pickA, try g * (1 - pickA)]
        }
    }

    /// Elementwise minimum; where equal, the gradient goes to `a`.
    public static func minimum(_ a: Tensor, _ b: Tensor) throws(TensorError) -> Tensor {
        let y = try broadcasting(a, b, op: "minimum") { Swift.min($0, $1) }
        let (a0, b0) = (a.detached(), b.detached())
        // d min(a,b)/da = [a ≤ b], d/db = [b < a]
        return y.recorded(from: [a, b]) { g throws(TensorError) in
            let pickA = try broadcasting(a0, b0, op: "minimum") { $0 <= $1 ? 1 : 0 }
            return [try g * pickA, try g * (1 - pickA)]
        }
    }

    // MARK: With a scalar

    public static func + (a: Tensor, s: Float) -> Tensor {
        // d(a+s)/da = 1
        mapped(a) { $0 + s }.recorded(from: [a]) { g in [g] }
    }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    public static func - (s: Float, a: Tensor) -> Tensor { (-a) + s }

    public static func * (a: Tensor, s: Float) -> Tensor {
        // d(a·s)/da = s
        mapped(a) { $0 * s }.recorded(from: [a]) { g in [g * s] }
    }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }

    /// s / a
    public static func / (s: Float, a: Tensor) -> Tensor {
        let y = mapped(a) { s / $0 }
        let (a0, y0) = (a.detached(), y.detached())
        // d(s/a)/da = -s/a² = -y/a
        return y.recorded(from: [a]) { g in [zipSameShape(zipSameShape(g, y0) { -$0 * $1 }, a0) { $0 / $1 }] }
    }

    public static prefix func - (a: Tensor) -> Tensor {
        // d(-a)/da = -1
        mapped(a) { -$0 }.recorded(from: [a]) { g in [mapped(g) { -$0 }] }
    }

    // MARK: Unary

    /// eˣ
    public func exp() -> Tensor {
        let y = Tensor.mapped(self) { Foundation.exp($0) }
        let y0 = y.detached()
        // d eˣ/dx = eˣ = y
        return y.recorded(from: [self]) { g in [Tensor.zipSameShape(g, y0) { $0 * $1 }] }
    }

    /// Natural logarithm.
    public func log() -> Tensor {
        let x0 = detached()
        // d ln x/dx = 1/x
        return Tensor.mapped(self) { Foundation.log($0) }.recorded(from: [self]) { g in
            [Tensor.zipSameShape(g, x0) { $0 / $1 }]
        }
    }

    public func sqrt() -> Tensor {
        let y = Tensor.mapped(self) { $0.squareRoot() }
        let y0 = y.detached()
        // d √x/dx = 1/(2√x)
        return y.recorded(from: [self]) { g in [Tensor.zipSameShape(g, y0) { $0 / (2 * $1) }] }
    }

    /// xᵖ for a scalar exponent.
    public func pow(_ p: Float) -> Tensor {
        let x0 = detached()
        // d xᵖ/dx = p·xᵖ⁻¹
        return Tensor.mapped(self) { Foundation.pow($0, p) }.recorded(from: [self]) { g in
            [Tensor.zipSameShape(g, x0) { $0 * p * Foundation.pow($1, p - 1) }]
        }
    }

    public func abs() -> Tensor {
        let x0 = detached()
        // d|x|/dx = sign(x)
        return Tensor.mapped(self) { Swift.abs($0) }.recorded(from: [self]) { g in
            [Tensor.zipSameShape(g, x0) { $1 > 0 ? $0 : ($1 < 0 ? -$0 : 0) }]
        }
    }

    /// `x` limited to `low...high`, with Swift's `max` then `min` (a NaN stays NaN): `clamp`'s value, and
    /// every fused epilogue's.
    @inline(__always)
    static func clamped(_ x: Float, _ low: Float, _ high: Float) -> Float { Swift.min(Swift.max(x, low), high) }

    /// Limits every element to `low...high`; the gradient passes where `low ≤ x ≤ high`.
    public func clamp(_ low: Float, _ high: Float) throws(TensorError) -> Tensor {
        guard low <= high else { throw .invalidArgument(op: "clamp", reason: "low \(low) is above high \(high)") }
        let x0 = detached()
        // d clamp(x)/dx = [low ≤ x ≤ high]
        return Tensor.mapped(self) { Tensor.clamped($0, low, high) }.recorded(from: [self]) { g in
            [Tensor.zipSameShape(g, x0) { $1 >= low && $1 <= high ? $0 : 0 }]
        }
    }
}
