import Foundation
import Testing
@testable import GraftTensor

/// Forward outputs and gradients checked against PyTorch's, from `Tests/Fixtures/engine/reference.json`
/// (made by `make_fixtures.py` beside it; the torch version is recorded in the file).
@Suite("Reference outputs from PyTorch")
struct ReferenceTests {
    struct Case: @unchecked Sendable {  // immutable after loading; params hold JSON values
        let params: [String: Any]
        let inputs: [String: Tensor]
        let output: Tensor
        let upstream: Tensor
        let grads: [String: Tensor]

        func param<T>(_ key: String) -> T? { params[key] as? T }
        func pair(_ key: String) -> (Int, Int) {
            let values = params[key] as? [Int] ?? [1, 1]
            return (values[0], values[1])
        }
        var padding: Padding2D {
            let p = params["padding"] as? [Int] ?? [0, 0, 0, 0]
            return Padding2D(top: p[0], bottom: p[1], left: p[2], right: p[3])
        }
    }

    static let cases: [String: Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/engine/reference.json").standardized
        guard let data = try? Data(contentsOf: url),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = root["cases"] as? [String: [String: Any]] else { return [:] }
        return cases.compactMapValues { raw in
            guard let inputs = raw["inputs"] as? [String: Any], let grads = raw["grads"] as? [String: Any],
                  let output = tensor(raw["output"]), let upstream = tensor(raw["upstream"]) else { return nil }
            return Case(params: raw["params"] as? [String: Any] ?? [:],
                        inputs: inputs.compactMapValues(tensor), output: output, upstream: upstream,
                        grads: grads.compactMapValues(tensor))
        }
    }()

    static func tensor(_ value: Any?) -> Tensor? {
        guard let object = value as? [String: Any], let shape = object["shape"] as? [Int],
              let data = object["data"] as? [Double] else { return nil }
        return try? Tensor(shape: shape, scalars: data.map(Float.init))
    }

    static func expectClose(_ actual: Tensor?, _ expected: Tensor?, _ what: String, atol: Float = 1e-5, rtol: Float = 1e-4,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        guard let actual, let expected else {
            Issue.record("\(what): missing (actual \(actual == nil ? "nil" : "present"), expected \(expected == nil ? "nil" : "present"))", sourceLocation: sourceLocation)
            return
        }
        #expect(actual.shape == expected.shape, "\(what): shape", sourceLocation: sourceLocation)
        guard actual.shape == expected.shape else { return }
        let worst = zip(actual.scalars, expected.scalars).enumerated().max { abs($0.1.0 - $0.1.1) < abs($1.1.0 - $1.1.1) }
        if let (index, (a, e)) = worst {
            #expect(abs(a - e) <= atol + rtol * abs(e), "\(what): element \(index) is \(a), PyTorch has \(e)", sourceLocation: sourceLocation)
        }
    }

    /// Runs `apply` on the case's inputs as leaves, checks the output, backpropagates the recorded upstream gradient, checks every input's gradient.
    func check(_ name: String, atol: Float = 1e-5, rtol: Float = 1e-4, gradientAtol: Float = 1e-4,
               _ apply: (Case, [String: Tensor]) throws -> Tensor) throws {
        let c = try #require(Self.cases[name], "fixture case \(name) missing: rerun make_fixtures.py")
        let leaves = c.inputs.mapValues { $0.requiringGrad() }
        let output = try apply(c, leaves)
        Self.expectClose(output, c.output, "\(name) output", atol: atol, rtol: rtol)
        try output.backward(seed: c.upstream)
        for (input, expected) in c.grads {
            Self.expectClose(leaves[input]?.grad, expected, "\(name) gradient of \(input)", atol: gradientAtol)
        }
    }

    @Test func fixtureFileLoads() {
        #expect(Self.cases.count == 30)
    }

    @Test(arguments: ["conv2d_stride2_pad1_bias", "conv2d_groups2_dilation2", "conv2d_depthwise_same_stride2",
                      "conv2d_3x3_winograd_pad1_bias", "conv2d_3x3_winograd_asymmetric"])
    func conv2d(_ name: String) throws {
        try check(name) { c, x in
            try x["x"]!.conv2d(x["weight"]!, bias: x["bias"], stride: c.pair("stride"), padding: c.padding,
                               dilation: c.pair("dilation"), groups: c.param("groups") ?? 1)
        }
    }

    @Test func maxPool() throws {
        try check("maxpool2d_k3_s2_p1") { c, x in
            try x["x"]!.maxPool2d(kernel: c.pair("kernel"), stride: c.pair("stride"), padding: c.padding)
        }
    }

    @Test(arguments: ["avgpool2d_k3_s2_p1_count_pad", "avgpool2d_k3_s2_p1_exclude_pad"])
    func avgPool(_ name: String) throws {
        try check(name) { c, x in
            try x["x"]!.avgPool2d(kernel: c.pair("kernel"), stride: c.pair("stride"), padding: c.padding,
                                  countPadding: c.param("count_padding") ?? true)
        }
    }

    @Test(arguments: ["batchnorm_train", "batchnorm_eval"])
    func batchNorm(_ name: String) throws {
        var runningMean: Tensor?, runningVar: Tensor?
        try check(name) { c, x in
            runningMean = Self.tensor(c.params["running_mean"])?.copied()
            runningVar = Self.tensor(c.params["running_var"])?.copied()
            return try x["x"]!.batchNorm(weight: x["weight"], bias: x["bias"], runningMean: runningMean!, runningVar: runningVar!,
                                         training: c.param("training") ?? false, momentum: 0.1, epsilon: 1e-3)
        }
        let c = try #require(Self.cases[name])
        Self.expectClose(runningMean, Self.tensor(c.params["running_mean_after"]), "\(name) running mean")
        Self.expectClose(runningVar, Self.tensor(c.params["running_var_after"]), "\(name) running var")
    }

    @Test(arguments: ["cross_entropy_smoothing0.0", "cross_entropy_smoothing0.1"])
    func crossEntropy(_ name: String) throws {
        try check(name) { c, x in
            try x["logits"]!.crossEntropy(labels: c.param("labels") ?? [], labelSmoothing: Float(c.param("label_smoothing") as Double? ?? 0))
        }
    }

    /// PyTorch's CrossEntropyLoss(weight=, label_smoothing=): loss and gradient.
    @Test(arguments: ["cross_entropy_weighted_smoothing0.0", "cross_entropy_weighted_smoothing0.2"])
    func weightedCrossEntropy(_ name: String) throws {
        // The loss to 1e-6 (relative), its gradient to 1e-6.
        try check(name, atol: 0, rtol: 1e-6, gradientAtol: 1e-6) { c, x in
            let weights = (c.param("class_weights") as [Double]?)?.map(Float.init)
            return try x["logits"]!.crossEntropy(labels: c.param("labels") ?? [], labelSmoothing: Float(c.param("label_smoothing") as Double? ?? 0),
                                                 classWeights: weights)
        }
    }

    @Test(arguments: ["matmul_batched_by_matrix", "matmul_batched"])
    func matmul(_ name: String) throws {
        try check(name) { _, x in try x["a"]!.matmul(x["b"]!) }
    }

    /// Against `scaled_dot_product_attention` on q, k, v cut from a fused qkv as timm cuts them.
    @Test(arguments: ["self_attention_2heads", "self_attention_3heads_long"])
    func selfAttention(_ name: String) throws {
        try check(name) { c, x in try x["qkv"]!.selfAttention(heads: c.params["heads"] as? Int ?? 0) }
    }

    @Test func geluTanh() throws {
        try check("activation_gelu_tanh") { _, x in x["x"]!.geluTanh() }
    }

    @Test func softmaxAndLogSoftmax() throws {
        try check("softmax_axis1") { _, x in try x["x"]!.softmax(axis: 1) }
        try check("log_softmax_last") { _, x in try x["x"]!.logSoftmax(axis: -1) }
    }

    @Test(arguments: ["relu", "relu6", "leaky_relu", "sigmoid", "tanh", "gelu", "silu", "hardsigmoid", "hardswish"])
    func activation(_ name: String) throws {
        try check("activation_\(name)") { _, x in
            let v = x["x"]!
            switch name {
            case "relu": return v.relu()
            case "relu6": return v.relu6()
            case "leaky_relu": return v.leakyRelu(0.1)
            case "sigmoid": return v.sigmoid()
            case "tanh": return v.tanh()
            case "gelu": return v.gelu()
            case "silu": return v.silu()
            case "hardsigmoid": return v.hardsigmoid()
            default: return v.hardswish()
            }
        }
    }
}
