import Foundation
import GraftTensor

/// Weight initializers, drawing from the caller's generator.
public enum Initializer {
    /// He (Kaiming) normal for ReLU networks with fan-out, torchvision's choice for ResNet and MobileNet convs:
    /// std = √(2 / fan_out), fan_out = out_channels · kh · kw / … (per group as PyTorch computes it).
    public static func heNormal(_ shape: [Int], fanOut: Double, generator: Generator) throws(TensorError) -> Tensor {
        try Tensor.randomNormal(shape, std: Float((2.0 / Swift.max(fanOut, 1)).squareRoot()), generator: generator)
    }

    /// Glorot (Xavier) uniform, Keras's default for dense layers: U(−l, l), l = √(6 / (fan_in + fan_out)).
    public static func glorotUniform(_ shape: [Int], fanIn: Int, fanOut: Int, generator: Generator) throws(TensorError) -> Tensor {
        let limit = Float((6.0 / Swift.max(Double(fanIn) + Double(fanOut), 1)).squareRoot())
        return try Tensor.randomUniform(shape, low: -limit, high: limit, generator: generator)
    }
}

extension Layer {
    /// A normalization's γ (ones) and β (zeros), one per channel, each when the layer has it (Keras's
    /// `scale` and `center`); the layer lists them with ``adoptScaleAndShift(_:_:)`` once initialized.
    static func scaleAndShift(_ channels: Int, scale: Bool, center: Bool, kind: String) throws(ModelError) -> (Parameter?, Parameter?) {
        do {
            return (scale ? Parameter(try Tensor.ones([channels])) : nil, center ? Parameter(try Tensor.zeros([channels])) : nil)
        } catch { throw .tensor(layer: kind, error: error) }
    }

    /// Lists γ and β under their checkpoint keys, `weight` and `bias`.
    func adoptScaleAndShift(_ weight: Parameter?, _ bias: Parameter?) {
        if let weight { adopt("weight", weight) }
        if let bias { adopt("bias", bias) }
    }
}
