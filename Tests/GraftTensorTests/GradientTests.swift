import Testing
@testable import GraftTensor

/// Every differentiable op, with the variants that exercise its edge cases: broadcasting,
/// size-1 dims, stride, padding, dilation, groups.
let gradientCases: [GradientCase] = [
    GradientCase("add", "broadcast [2,3,4] + [3,1]", inputs: { [try uniform([2, 3, 4]), try uniform([3, 1], seed: 2)] }) { try $0[0] + $0[1] },
    GradientCase("add", "same shape", inputs: { [try uniform([5]), try uniform([5], seed: 2)] }) { try $0[0] + $0[1] },
    GradientCase("sub", "broadcast [4] − [2,3,4]", inputs: { [try uniform([4]), try uniform([2, 3, 4], seed: 2)] }) { try $0[0] - $0[1] },
    GradientCase("mul", "broadcast [2,1,4] · [3,1]", inputs: { [try uniform([2, 1, 4]), try uniform([3, 1], seed: 2)] }) { try $0[0] * $0[1] },
    GradientCase("mul", "rank 0 · [2,3]", inputs: { [Tensor(1.5), try uniform([2, 3], seed: 2)] }) { try $0[0] * $0[1] },
    GradientCase("div", "broadcast", inputs: { [try uniform([2, 3]), try uniform([3], 0.5, 2, seed: 2)] }) { try $0[0] / $0[1] },
    GradientCase("maximum", "broadcast", inputs: { [try distinct([2, 3]), try distinct([3], seed: 9) + 0.025] }) { try Tensor.maximum($0[0], $0[1]) },
    GradientCase("minimum", inputs: { [try distinct([2, 3]), try distinct([2, 3], seed: 9) + 0.025] }) { try Tensor.minimum($0[0], $0[1]) },
    GradientCase("addScalar", inputs: { [try uniform([3, 2])] }) { 2 + $0[0] - 1 },
    GradientCase("mulScalar", inputs: { [try uniform([3, 2])] }) { 3 * $0[0] / 2 },
    GradientCase("scalarDiv", inputs: { [try uniform([4], 0.5, 2)] }) { 2 / $0[0] },
    GradientCase("neg", inputs: { [try uniform([4])] }) { -$0[0] },
    GradientCase("exp", inputs: { [try uniform([2, 3])] }) { $0[0].exp() },
    GradientCase("log", inputs: { [try uniform([2, 3], 0.5, 3)] }) { $0[0].log() },
    GradientCase("sqrt", inputs: { [try uniform([2, 3], 0.5, 3)] }) { $0[0].sqrt() },
    GradientCase("pow", "cube", inputs: { [try uniform([2, 3])] }) { $0[0].pow(3) },
    GradientCase("pow", "fractional", inputs: { [try uniform([5], 0.5, 2)] }) { $0[0].pow(1.5) },
    GradientCase("abs", inputs: { [try awayFrom([0], [2, 4])] }) { $0[0].abs() },
    GradientCase("clamp", inputs: { [try awayFrom([-0.5, 0.5], [3, 4], -1, 1)] }) { try $0[0].clamp(-0.5, 0.5) },

    GradientCase("sum", "all", inputs: { [try uniform([2, 3, 4])] }) { try $0[0].sum() },
    GradientCase("sum", "axes 0 and 2", inputs: { [try uniform([2, 3, 4])] }) { try $0[0].sum(axes: [0, 2]) },
    GradientCase("sum", "axis -1 keeping dims", inputs: { [try uniform([2, 3, 4])] }) { try $0[0].sum(axes: [-1], keepingDims: true) },
    GradientCase("mean", "axis 1", inputs: { [try uniform([2, 3, 4])] }) { try $0[0].mean(axes: [1]) },
    GradientCase("max", "axis 1", inputs: { [try distinct([2, 5, 3])] }) { try $0[0].max(axis: 1) },
    GradientCase("max", "last axis keeping dims", inputs: { [try distinct([3, 4])] }) { try $0[0].max(axis: -1, keepingDims: true) },

    GradientCase("reshape", inputs: { [try uniform([2, 6])] }) { try $0[0].reshaped([3, -1]) * $0[0].reshaped([3, 4]) },
    GradientCase("flatten", inputs: { [try uniform([2, 3, 2, 2])] }) { try $0[0].flattened() },
    GradientCase("broadcast", "[3,1] → [2,3,4]", inputs: { [try uniform([3, 1])] }) { try $0[0].broadcast(to: [2, 3, 4]) },
    GradientCase("permute", inputs: { [try uniform([2, 3, 4])] }) { try $0[0].permuted([2, 0, 1]) },
    GradientCase("transpose", inputs: { [try uniform([2, 3, 4])] }) { try $0[0].transposed(0, 2) },
    GradientCase("slice", "step 2", inputs: { [try uniform([3, 7])] }) { try $0[0].sliced(axis: 1, start: 1, end: 6, step: 2) },
    GradientCase("slice", "negative start", inputs: { [try uniform([4, 2])] }) { try $0[0].sliced(axis: 0, start: -2) },
    GradientCase("concat", "three inputs, axis 1", inputs: { [try uniform([2, 1, 3]), try uniform([2, 2, 3], seed: 2), try uniform([2, 3, 3], seed: 3)] }) {
        try Tensor.concatenate($0, axis: 1)
    },
    GradientCase("pad", inputs: { [try uniform([2, 3, 3])] }) { try $0[0].padded([(0, 1), (2, 0), (1, 1)], value: 0.5) },

    GradientCase("selfAttention", "2 samples, 5 tokens, 2 heads of 3", inputs: { [try uniform([2, 5, 18], -1.5, 1.5)] }) { try $0[0].selfAttention(heads: 2) },
    GradientCase("selfAttention", "one head, scale 0.3", inputs: { [try uniform([1, 4, 6], -2, 2)] }) { try $0[0].selfAttention(heads: 1, scale: 0.3) },
    GradientCase("selfAttention", "a bias per head and a mask per window (Swin)", inputs: { [try uniform([4, 4, 12], -1.5, 1.5), try uniform([2, 4, 4], seed: 2)] }) {
        let mask = try Tensor(shape: [2, 4, 4], scalars: (0..<32).map { $0 % 3 == 1 ? -100 : 0 })
        return try $0[0].selfAttention(heads: 2, bias: $0[1], mask: mask)
    },
    GradientCase("selfAttention", "a mask, no bias", inputs: { [try uniform([4, 4, 12], -1.5, 1.5)] }) {
        let mask = try Tensor(shape: [2, 4, 4], scalars: (0..<32).map { $0 % 3 == 1 ? -100 : 0 })
        return try $0[0].selfAttention(heads: 2, bias: nil, mask: mask)
    },
    GradientCase("matmul", "2-D", inputs: { [try uniform([3, 4]), try uniform([4, 5], seed: 2)] }) { try $0[0].matmul($0[1]) },
    GradientCase("matmul", "batched × matrix", inputs: { [try uniform([2, 3, 4]), try uniform([4, 2], seed: 2)] }) { try $0[0].matmul($0[1]) },
    GradientCase("matmul", "matrix × batched", inputs: { [try uniform([3, 4]), try uniform([2, 4, 2], seed: 2)] }) { try $0[0].matmul($0[1]) },
    GradientCase("matmul", "broadcast batches [2,1,3,4] × [3,4,2]", inputs: { [try uniform([2, 1, 3, 4]), try uniform([3, 4, 2], seed: 2)] }) { try $0[0].matmul($0[1]) },

    GradientCase("linear", "with bias", inputs: { [try uniform([4, 3]), try uniform([5, 3], seed: 2), try uniform([5], seed: 3)] }) {
        try $0[0].linear($0[1], bias: $0[2])
    },
    GradientCase("linear", "3-D input, no bias", inputs: { [try uniform([2, 3, 4]), try uniform([2, 4], seed: 2)] }) { try $0[0].linear($0[1]) },
    GradientCase("conv2d", "3×3, bias", inputs: { [try uniform([2, 3, 5, 5]), try uniform([4, 3, 3, 3], seed: 2), try uniform([4], seed: 3)] }) {
        try $0[0].conv2d($0[1], bias: $0[2])
    },
    GradientCase("conv2d", "stride 2, padding 1", inputs: { [try uniform([1, 2, 6, 5]), try uniform([3, 2, 3, 3], seed: 2)] }) {
        try $0[0].conv2d($0[1], stride: (2, 2), padding: Padding2D(1, 1))
    },
    GradientCase("conv2d", "dilation 2, rectangular kernel", inputs: { [try uniform([1, 2, 7, 6]), try uniform([2, 2, 2, 3], seed: 2)] }) {
        try $0[0].conv2d($0[1], padding: Padding2D(1, 2), dilation: (2, 2))
    },
    GradientCase("conv2d", "groups 2", inputs: { [try uniform([2, 4, 4, 4]), try uniform([6, 2, 3, 3], seed: 2), try uniform([6], seed: 3)] }) {
        try $0[0].conv2d($0[1], bias: $0[2], padding: Padding2D(1, 1), groups: 2)
    },
    GradientCase("conv2d", "depthwise, stride 2, asymmetric SAME padding", inputs: { [try uniform([1, 3, 6, 6]), try uniform([3, 1, 3, 3], seed: 2)] }) {
        try $0[0].conv2d($0[1], stride: (2, 2), padding: Padding2D(top: 0, bottom: 1, left: 0, right: 1), groups: 3)
    },
    GradientCase("conv2d", "3×3 stride 1, 16 channels (Winograd path)", tolerance: 2e-2,
                 inputs: { [try uniform([1, 16, 5, 4]), try uniform([16, 16, 3, 3], -0.3, 0.3, seed: 2), try uniform([16], seed: 3)] }) {
        try $0[0].conv2d($0[1], bias: $0[2], padding: Padding2D(top: 1, bottom: 0, left: 2, right: 1))
    },
    GradientCase("conv2d", "1×1 pointwise", inputs: { [try uniform([2, 3, 3, 2]), try uniform([5, 3, 1, 1], seed: 2)] }) {
        try $0[0].conv2d($0[1])
    },
    GradientCase("maxPool2d", "2×2", inputs: { [try distinct([2, 2, 4, 4])] }) { try $0[0].maxPool2d(kernel: (2, 2)) },
    GradientCase("maxPool2d", "3×3 stride 2 padding 1", inputs: { [try distinct([1, 2, 5, 5])] }) {
        try $0[0].maxPool2d(kernel: (3, 3), stride: (2, 2), padding: Padding2D(1, 1))
    },
    GradientCase("avgPool2d", "counting padding", inputs: { [try uniform([1, 2, 5, 5])] }) {
        try $0[0].avgPool2d(kernel: (3, 3), stride: (2, 2), padding: Padding2D(1, 1))
    },
    GradientCase("avgPool2d", "excluding padding", inputs: { [try uniform([1, 2, 5, 4])] }) {
        try $0[0].avgPool2d(kernel: (2, 2), stride: (1, 2), padding: Padding2D(1, 1), countPadding: false)
    },
    GradientCase("globalAvgPool2d", inputs: { [try uniform([2, 3, 3, 2])] }) { try $0[0].globalAvgPool2d() },
    GradientCase("globalMaxPool2d", inputs: { [try distinct([2, 3, 2, 2])] }) { try $0[0].globalMaxPool2d(keepingDims: true) },
    GradientCase("batchNorm", "training, 4-D", inputs: { [try uniform([3, 2, 2, 3]), try uniform([2], 0.5, 1.5, seed: 2), try uniform([2], seed: 3)] }) {
        try $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: Tensor.zeros([2]), runningVar: Tensor.ones([2]), training: true)
    },
    GradientCase("layerNorm", "last axis, weight and bias", inputs: { [try uniform([3, 4, 5]), try uniform([5], 0.5, 1.5, seed: 2), try uniform([5], seed: 3)] }) {
        try $0[0].layerNorm(axis: 2, weight: $0[1], bias: $0[2], epsilon: 1e-5)
    },
    GradientCase("layerNorm", "channels of NCHW, no bias", inputs: { [try uniform([2, 3, 2, 2]), try uniform([3], 0.5, 1.5, seed: 2)] }) {
        try $0[0].layerNorm(axis: 1, weight: $0[1], bias: nil, epsilon: 1e-6)
    },
    GradientCase("batchNorm", "training, 2-D", inputs: { [try uniform([5, 3]), try uniform([3], 0.5, 1.5, seed: 2), try uniform([3], seed: 3)] }) {
        try $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: Tensor.zeros([3]), runningVar: Tensor.ones([3]), training: true)
    },
    GradientCase("batchNorm", "inference", inputs: { [try uniform([2, 3, 2, 2]), try uniform([3], 0.5, 1.5, seed: 2), try uniform([3], seed: 3)] }) {
        try $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: Tensor([0.1, -0.2, 0.3]), runningVar: Tensor([0.5, 1.5, 2]),
                            training: false, epsilon: 1e-3)
    },
    GradientCase("batchNorm", "training, fused SiLU", inputs: { [try uniform([3, 2, 2, 3]), try uniform([2], 0.5, 1.5, seed: 2), try uniform([2], seed: 3)] }) {
        try $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: Tensor.zeros([2]), runningVar: Tensor.ones([2]), training: true, activation: .silu)
    },
    GradientCase("batchNorm", "inference, fused GELU", inputs: { [try uniform([2, 3, 2, 2]), try uniform([3], 0.5, 1.5, seed: 2), try uniform([3], seed: 3)] }) {
        try $0[0].batchNorm(weight: $0[1], bias: $0[2], runningMean: Tensor([0.1, -0.2, 0.3]), runningVar: Tensor([0.5, 1.5, 2]),
                            training: false, epsilon: 1e-3, activation: .gelu)
    },
    GradientCase("dropout", inputs: { [try uniform([4, 5])] }) { try $0[0].dropout(0.4, training: true, generator: Generator(seed: 5)) },

    GradientCase("relu", inputs: { [try awayFrom([0], [3, 4])] }) { $0[0].relu() },
    GradientCase("relu6", inputs: { [try awayFrom([0, 6], [3, 4], -2, 8)] }) { $0[0].relu6() },
    GradientCase("leakyRelu", inputs: { [try awayFrom([0], [3, 4])] }) { $0[0].leakyRelu(0.2) },
    GradientCase("sigmoid", inputs: { [try uniform([3, 4], -4, 4)] }) { $0[0].sigmoid() },
    GradientCase("tanh", inputs: { [try uniform([3, 4], -2, 2)] }) { $0[0].tanh() },
    GradientCase("gelu", inputs: { [try uniform([3, 4], -3, 3)] }) { $0[0].gelu() },
    GradientCase("geluTanh", inputs: { [try uniform([3, 4], -3, 3)] }) { $0[0].geluTanh() },
    GradientCase("erf", inputs: { [try uniform([3, 4], -2, 2)] }) { $0[0].erf() },
    GradientCase("silu", inputs: { [try uniform([3, 4], -4, 4)] }) { $0[0].silu() },
    GradientCase("hardsigmoid", inputs: { [try awayFrom([-3, 3], [3, 4], -5, 5)] }) { $0[0].hardsigmoid() },
    GradientCase("hardswish", inputs: { [try awayFrom([-3, 3], [3, 4], -5, 5)] }) { $0[0].hardswish() },
    GradientCase("softmax", "axis 1 of 3-D", inputs: { [try uniform([2, 4, 3], -2, 2)] }) { try $0[0].softmax(axis: 1) },
    GradientCase("logSoftmax", "last axis", inputs: { [try uniform([3, 5], -2, 2)] }) { try $0[0].logSoftmax() },
    GradientCase("crossEntropy", inputs: { [try uniform([4, 3], -2, 2)] }) { try $0[0].crossEntropy(labels: [0, 2, 1, 2]) },
    GradientCase("crossEntropy", "label smoothing 0.1", inputs: { [try uniform([3, 4], -2, 2)] }) {
        try $0[0].crossEntropy(labels: [3, 0, 1], labelSmoothing: 0.1)
    },
    GradientCase("crossEntropy", "class weights", inputs: { [try uniform([4, 3], -2, 2)] }) {
        try $0[0].crossEntropy(labels: [0, 2, 1, 2], classWeights: [0.5, 2, 1.25])
    },
    GradientCase("crossEntropy", "class weights with smoothing 0.2 and a zero weight", inputs: { [try uniform([3, 4], -2, 2)] }) {
        try $0[0].crossEntropy(labels: [3, 0, 1], labelSmoothing: 0.2, classWeights: [1.5, 0, 0.75, 3])
    },
    GradientCase("meanSquaredError", inputs: { [try uniform([2, 3]), try uniform([2, 3], seed: 2)] }) { try $0[0].meanSquaredError($0[1]) },
    GradientCase("gather", "repeated indices, axis 1", inputs: { [try uniform([2, 4, 3])] }) { try $0[0].gather([3, 0, 3], axis: 1) },
]

@Suite("Gradients by central differences")
struct GradientTests {
    @Test(arguments: gradientCases)
    func gradientMatchesFiniteDifferences(_ testCase: GradientCase) throws {
        try checkGradients(testCase)
    }

    @Test func everyDifferentiableOpHasAGradientCheck() {
        let checked = Set(gradientCases.map(\.op))
        let missing = Ops.differentiable.filter { !checked.contains($0) }
        #expect(missing.isEmpty, "ops without a gradient check: \(missing)")
        let unknown = checked.subtracting(Ops.differentiable)
        #expect(unknown.isEmpty, "gradient checks for ops not in Ops.differentiable: \(unknown.sorted())")
    }

    @Test func aWrongGradientFailsTheCheck() throws {
        // The checker itself must be able to fail: feed it an op whose pullback is off by a factor of 2.
        let wrong = GradientCase("double", inputs: { [try uniform([3])] }) { inputs in
            let x = inputs[0]
            return Tensor.mapped(x) { 2 * $0 }.recorded(from: [x]) { g in [g] }  // true derivative is 2·g
        }
        withKnownIssue { try checkGradients(wrong) }
    }
}
