/// The names of every differentiable op the engine offers.
///
/// The test suite holds a finite-difference gradient check per name and fails when an op here
/// has none: adding an op means adding its name here and one line of test.
public enum Ops {
    public static let differentiable: [String] = [
        // arithmetic (Tensor+Arithmetic.swift)
        "add", "sub", "mul", "div", "maximum", "minimum", "addScalar", "mulScalar", "scalarDiv", "neg",
        "exp", "log", "sqrt", "pow", "abs", "clamp",
        // reductions (Tensor+Reduce.swift)
        "sum", "mean", "max",
        // shape (Tensor+Shape.swift)
        "reshape", "flatten", "broadcast", "permute", "transpose", "slice", "concat", "pad",
        // linear algebra, convolution, pooling, normalization
        "matmul", "linear", "selfAttention", "conv2d", "maxPool2d", "avgPool2d", "globalAvgPool2d", "globalMaxPool2d", "batchNorm", "layerNorm", "dropout",
        // activations (Tensor+Activation.swift)
        "relu", "relu6", "leakyRelu", "sigmoid", "tanh", "gelu", "geluTanh", "erf", "silu", "hardsigmoid", "hardswish",
        "softmax", "logSoftmax",
        // losses and indexing
        "crossEntropy", "meanSquaredError", "gather",
    ]
}
