import GraftData
import GraftTensor
import GraftNN

/// EfficientNet-Lite0 with the node names of `efficientnet-lite0.pth` (`_conv_stem`, `_bn0`,
/// `_blocks.3._depthwise_conv`, `_conv_head`, `_fc`): ReLU6, no squeeze-and-excitation, BatchNorm
/// eps 1e-3 and momentum 0.01, TensorFlow "same" padding (asymmetric on stride 2, computed from
/// the input size, so any input size works), stochastic depth 0.2·i/16 on residual branches,
/// dropout 0.2 before the classifier. Inputs are normalized as (x − 127)/128 on 0–255 pixels.
enum EfficientNetLite {
    /// (repeats, kernel, first stride, expand ratio, output channels) per stage.
    static let stages = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]

    static func build(classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var b = try GraphBuilder(inputShape: input)
        func norm(_ channels: Int) throws(ModelError) -> BatchNorm { try BatchNorm(channels, epsilon: 1e-3, momentum: 0.01) }
        var x = try b.add("_conv_stem", Conv2d(input[0], 32, kernel: (3, 3), stride: (2, 2), padding: .same, bias: false, generator: generator))
        x = try b.add("_bn0", norm(32), x)
        x = try b.add("_relu0", Activation(.relu6), x)
        var channels = 32
        let total = stages.reduce(0) { $0 + $1.0 }
        var index = 0
        for (repeats, kernel, firstStride, expand, out) in stages {
            for r in 0..<repeats {
                let stride = r == 0 ? firstStride : 1
                let p = "_blocks.\(index)"
                let hidden = channels * expand
                var h = x
                if expand != 1 {
                    h = try b.add("\(p)._expand_conv", Conv2d(channels, hidden, kernel: (1, 1), bias: false, generator: generator), h)
                    h = try b.add("\(p)._bn0", norm(hidden), h)
                    h = try b.add("\(p)._relu0", Activation(.relu6), h)
                }
                h = try b.add("\(p)._depthwise_conv", Conv2d(hidden, hidden, kernel: (kernel, kernel), stride: (stride, stride), padding: .same,
                                                            groups: hidden, bias: false, generator: generator), h)
                h = try b.add("\(p)._bn1", norm(hidden), h)
                h = try b.add("\(p)._relu1", Activation(.relu6), h)
                h = try b.add("\(p)._project_conv", Conv2d(hidden, out, kernel: (1, 1), bias: false, generator: generator), h)
                h = try b.add("\(p)._bn2", norm(out), h)
                if stride == 1 && channels == out {
                    h = try b.add("\(p)._drop_path", DropPath(0.2 * Float(index) / Float(total)), h)
                    h = try b.add("\(p)._add", Merge(.add), h, x)
                }
                x = h
                channels = out
                index += 1
            }
        }
        x = try b.add("_conv_head", Conv2d(channels, 1280, kernel: (1, 1), bias: false, generator: generator), x)
        x = try b.add("_bn1", norm(1280), x)
        x = try b.add("_relu1", Activation(.relu6), x)
        x = try b.add("_avg_pooling", GlobalPool2d(.average), x)
        x = try b.add("_dropout", Dropout(0.2), x)
        try b.add("_fc", Dense(1280, classes, generator: generator), x)
        return b.build(name: "efficientnet-lite0", architecture: "efficientnet-lite0",
                       normalization: .custom(mean: [127 / 255], std: [128 / 255]))
    }
}
