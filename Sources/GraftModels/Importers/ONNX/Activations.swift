import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// Activations: each one graft activation (or a clamp), and softmax over the classes.
extension ONNXImporter {
    static let activationConverters: [Converter] = [
        Converter("Relu", since: 1, activation(.relu)),
        Converter("Sigmoid", since: 1, activation(.sigmoid)),
        Converter("Tanh", since: 1, activation(.tanh)),
        Converter("LeakyRelu", since: 1, leakyRelu),
        Converter("HardSwish", since: 14, activation(.hardswish)),
        Converter("Erf", since: 9, activation(.erf)),
        Converter("Sqrt", since: 1, activation(.sqrt)),
        Converter("Gelu", since: 20, gelu),
        Converter("HardSigmoid", since: 1, hardSigmoid),
        Converter("Clip", 1...10) { try clip($0, boundsFromInputs: false) },
        Converter("Clip", since: 11) { try clip($0, boundsFromInputs: true) },
        Converter("Softmax", 1...12) { try softmax($0, defaultAxis: 1) },
        Converter("Softmax", since: 13) { try softmax($0, defaultAxis: -1) },
        Converter("LogSoftmax", 1...12) { try softmax($0, defaultAxis: 1) },
        Converter("LogSoftmax", since: 13) { try softmax($0, defaultAxis: -1) },
    ]

    /// An operator that is one graft activation; of a constant (shape arithmetic: attention's
    /// `Sqrt` of the head size), its value.
    static func activation(_ function: Activation.Function) -> Handler {
        { c in
            if case let .constant(t) = try c.value(0) {
                let y = try Activation(function).forward([try t.reshaped([1, Swift.max(t.count, 1)])], ForwardContext(training: false))
                return .constant(try y.reshaped(t.shape))
            }
            return try c.add(Activation(function), [try c.nodeInput(0)])
        }
    }

    static func leakyRelu(_ c: NodeContext) throws -> Value {
        let result: Value
        result = try c.add(Activation(.leakyRelu(c.float("alpha", 0.01))), [try c.nodeInput(0)])
        return result
    }

    /// Opset 20's Gelu (the dynamo exporter writes it): the exact form; the tanh approximation is refused by name.
    static func gelu(_ c: NodeContext) throws -> Value {
        let approximate = c.attribute("approximate").map { String(decoding: $0.s, as: UTF8.self) } ?? "none"
        guard approximate == "none" else {
            throw Failure(description: "Gelu '\(c.nodeName)' with approximate='\(approximate.prefix(40))' is not supported (only the exact form, 'none')")
        }
        return try c.add(Activation(.gelu), [try c.nodeInput(0)])
    }

    static func hardSigmoid(_ c: NodeContext) throws -> Value {
        let result: Value
        let alpha = c.float("alpha", 0.2), beta = c.float("beta", 0.5)
        let i = try c.nodeInput(0)
        if abs(alpha - 1 / 6) < 1e-7 && beta == 0.5 {
            result = try c.add(Activation(.hardsigmoid), [i])
        } else {
            // max(0, min(1, αx + β)): an affine step, then a clamp (ONNX's default α is 0.2, not PyTorch's 1/6).
            let scaled = try c.state.builder.add(try Affine(scale: [alpha], offset: [beta]), name: c.nodeName + ".affine", inputs: [i])
            result = try c.add(try Clamp(low: 0, high: 1), [scaled])
        }
        return result
    }

    static func clip(_ c: NodeContext, boundsFromInputs: Bool) throws -> Value {
        let result: Value
        var low = -Float.infinity, high = Float.infinity
        if boundsFromInputs {
            if case let .constant(t)? = try c.optionalValue(1) { low = t.scalars.first ?? low }
            if case let .constant(t)? = try c.optionalValue(2) { high = t.scalars.first ?? high }
        } else {
            low = c.float("min", low); high = c.float("max", high)
        }
        // Of a constant (TF-"same" padding's max(pad, 0)): folded.
        if case let .constant(t) = try c.value(0) {
            return .constant(try Tensor(shape: t.shape, scalars: t.scalars.map { Swift.min(Swift.max($0, low), high) }))
        }
        let i = try c.nodeInput(0)
        if low == 0 && high == 6 { result = try c.add(Activation(.relu6), [i]) }
        else if low == 0 && high == .infinity { result = try c.add(Activation(.relu), [i]) }
        else { result = try c.add(try Clamp(low: low, high: high), [i]) }
        return result
    }

    static func softmax(_ c: NodeContext, defaultAxis: Int) throws -> Value {
        let result: Value
        let i = try c.nodeInput(0)
        let rank = c.shape(i).count + 1
        let raw = c.int("axis", defaultAxis)
        let axis = raw < 0 ? raw + rank : raw
        guard (1..<rank).contains(axis) else { throw Failure(description: "\(c.op) '\(c.nodeName)' over axis \(raw) is not supported (the batch axis, or outside the value)") }
        // The classes (axis 1) as graft's default; the last axis of a larger value as −1.
        result = try c.add(Activation(c.op == "Softmax" ? .softmax : .logSoftmax, axis: axis == 1 ? 0 : axis == rank - 1 ? -1 : axis - 1), [i])
        return result
    }
}
