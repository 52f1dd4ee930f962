import Testing
@testable import GraftTensor

/// One op under a finite-difference gradient check: its inputs and how to apply it.
struct GradientCase: Sendable, CustomTestStringConvertible {
    /// The op's name in ``Ops/differentiable``.
    let op: String
    /// What this case varies (broadcast, stride, groups …).
    let variant: String
    let inputs: @Sendable () throws -> [Tensor]
    let apply: @Sendable ([Tensor]) throws -> Tensor
    var tolerance: Float = 1e-2

    init(_ op: String, _ variant: String = "", tolerance: Float = 1e-2,
         inputs: @escaping @Sendable () throws -> [Tensor], _ apply: @escaping @Sendable ([Tensor]) throws -> Tensor) {
        self.op = op
        self.variant = variant
        self.tolerance = tolerance
        self.inputs = inputs
        self.apply = apply
    }

    var testDescription: String { variant.isEmpty ? op : "\(op) (\(variant))" }
}

/// Compares the gradients from `backward()` with central differences, for every input element.
///
/// The output is projected onto fixed random weights r (loss = Σ r·f(x), summed in Double), so
/// every output element matters. Float32 central differences with eps = 3e-3 are accurate to
/// about 1e-4 here; the check fails when |analytic − numeric| > tol·(1 + |numeric|), which a
/// wrong factor, sign, transpose or index always exceeds.
func checkGradients(_ testCase: GradientCase, epsilon: Float = 3e-3, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let leaves = try testCase.inputs().map { $0.copied().requiringGrad() }
    let output = try testCase.apply(leaves)
    let generator = Generator(seed: 7)
    let projection = try Tensor.randomNormal(output.shape, generator: generator)
    try output.backward(seed: projection)

    func projected(_ inputs: [Tensor]) throws -> Double {
        let y = try withoutGradients { try testCase.apply(inputs) }
        return zip(y.scalars, projection.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    for (index, leaf) in leaves.enumerated() {
        let analytic = leaf.grad?.scalars ?? [Float](repeating: 0, count: leaf.count)
        #expect(analytic.count == leaf.count, "gradient of input \(index) has the wrong size", sourceLocation: sourceLocation)
        var worst: (element: Int, analytic: Float, numeric: Float)?
        for element in 0..<leaf.count {
            var plus = leaves.map { $0.copied() }, minus = leaves.map { $0.copied() }
            plus[index].withUnsafeMutableBufferPointer { $0[element] += epsilon }
            minus[index].withUnsafeMutableBufferPointer { $0[element] -= epsilon }
            let numeric = Float((try projected(plus) - projected(minus)) / Double(2 * epsilon))
            if abs(analytic[element] - numeric) > testCase.tolerance * (1 + abs(numeric)), worst == nil {
                worst = (element, analytic[element], numeric)
            }
        }
        #expect(worst == nil, "\(testCase.testDescription): input \(index) \(formatShape(leaf.shape)) element \(worst?.element ?? -1): analytic \(worst?.analytic ?? 0) vs numeric \(worst?.numeric ?? 0)",
                sourceLocation: sourceLocation)
    }
}

// MARK: Inputs that stay away from kinks

/// Uniform values in [low, high) from a fixed seed.
func uniform(_ shape: [Int], _ low: Float = -1, _ high: Float = 1, seed: UInt64 = 1) throws -> Tensor {
    try Tensor.randomUniform(shape, low: low, high: high, generator: Generator(seed: seed))
}

/// Values at least `margin` from every kink, so a finite difference never straddles one.
func awayFrom(_ kinks: [Float], _ shape: [Int], _ low: Float = -4, _ high: Float = 4, margin: Float = 0.05, seed: UInt64 = 2) throws -> Tensor {
    let generator = Generator(seed: seed)
    let values = (0..<shape.reduce(1, *)).map { _ -> Float in
        while true {
            let v = low + (high - low) * generator.nextFloat()
            if kinks.allSatisfy({ abs(v - $0) > margin }) { return v }
        }
    }
    return try Tensor(shape: shape, scalars: values)
}

/// Distinct values spaced 0.05 apart in shuffled order: maxima are never tied, even after a nudge.
func distinct(_ shape: [Int], seed: UInt64 = 3) throws -> Tensor {
    var values = (0..<shape.reduce(1, *)).map { Float($0) * 0.05 - 1 }
    Generator(seed: seed).shuffle(&values)
    return try Tensor(shape: shape, scalars: values)
}
