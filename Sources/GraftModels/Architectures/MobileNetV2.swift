import GraftTensor
import GraftNN

/// MobileNetV2 in torchvision's layout (`features.0.0` … `features.18.1`, `classifier.1`), with a
/// width multiplier that rounds channels to multiples of 8 as torchvision's `_make_divisible` does.
enum MobileNetV2 {
    /// torchvision's `_make_divisible(v, 8)`: round to a multiple of 8, never more than 10 % down.
    static func divisible(_ value: Float) -> Int {
        var rounded = Swift.max(8, Int(value + 4) / 8 * 8)
        if Float(rounded) < 0.9 * value { rounded += 8 }
        return rounded
    }

    static func build(width: Float, classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var b = try GraphBuilder(inputShape: input)
        var channels = divisible(32 * width)
        let last = divisible(1280 * Swift.max(1, width))
        /// conv + BatchNorm + ReLU6 under `prefix.0`, `prefix.1`, `prefix.2`.
        func convUnit(_ prefix: String, _ from: Int, _ inC: Int, _ outC: Int, kernel: Int, stride: Int, groups: Int = 1) throws(ModelError) -> Int {
            let pad = (kernel - 1) / 2
            var h = try b.add("\(prefix).0", Conv2d(inC, outC, kernel: (kernel, kernel), stride: (stride, stride), padding: .explicit(Padding2D(pad, pad)),
                                                   groups: groups, bias: false, generator: generator), from)
            h = try b.add("\(prefix).1", BatchNorm(outC), h)
            return try b.add("\(prefix).2", Activation(.relu6), h)
        }
        var x = try convUnit("features.0", b.input, input[0], channels, kernel: 3, stride: 2)
        let settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
        var index = 1
        for (expand, c, repeats, firstStride) in settings {
            let out = divisible(Float(c) * width)
            for r in 0..<repeats {
                let stride = r == 0 ? firstStride : 1
                let p = "features.\(index).conv"
                let hidden = channels * expand
                var h = x
                var unit = 0
                if expand != 1 {
                    h = try convUnit("\(p).0", h, channels, hidden, kernel: 1, stride: 1)
                    unit = 1
                }
                h = try convUnit("\(p).\(unit)", h, hidden, hidden, kernel: 3, stride: stride, groups: hidden)
                h = try b.add("\(p).\(unit + 1)", Conv2d(hidden, out, kernel: (1, 1), bias: false, generator: generator), h)
                h = try b.add("\(p).\(unit + 2)", BatchNorm(out), h)
                if stride == 1 && channels == out { h = try b.add("features.\(index).add", Merge(.add), h, x) }
                x = h
                channels = out
                index += 1
            }
        }
        x = try convUnit("features.\(index)", x, channels, last, kernel: 1, stride: 1)
        x = try b.add("pool", GlobalPool2d(.average), x)
        x = try b.add("classifier.0", Dropout(0.2), x)
        try b.add("classifier.1", Dense(last, classes, generator: generator), x)
        return b.build(name: "mobilenetv2", architecture: "mobilenetv2", normalization: .imagenet)
    }
}
