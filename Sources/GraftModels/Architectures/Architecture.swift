@_exported import GraftFormats
@_exported import GraftNN
import GraftData
import GraftTensor

/// The built-in architectures, by the names users type (`new resnet18`).
///
/// Each is defined with its reference implementation's layer names, so its parameter keys are
/// the reference checkpoints' keys, and initialized from the caller's generator (He normal for
/// convolutions, Glorot uniform for dense layers, BatchNorm at identity).
public enum Architecture: String, CaseIterable, Sendable {
    case mnistCNN = "mnist-cnn"
    case resnet18
    case resnet34
    case mobilenetV2 = "mobilenetv2"
    case efficientNetLite0 = "efficientnet-lite0"

    /// One line for `models` and `help new`.
    public var summary: String {
        switch self {
        case .mnistCNN: return "small CNN for 28×28 digits: conv32-conv32-pool-dropout-dense128-dropout-dense (Keras's MNIST example)"
        case .resnet18: return "ResNet-18, torchvision's layout and parameter names"
        case .resnet34: return "ResNet-34, torchvision's layout and parameter names"
        case .mobilenetV2: return "MobileNetV2 with a width multiplier, torchvision's layout and parameter names"
        case .efficientNetLite0: return "EfficientNet-Lite0 (ReLU6, no squeeze-excite, TF \"same\" padding), the keys of efficientnet-lite0.pth"
        }
    }

    public var defaultInputShape: [Int] {
        switch self {
        case .mnistCNN: return [1, 28, 28]
        default: return [3, 224, 224]
        }
    }

    public var defaultClasses: Int { self == .mnistCNN ? 10 : 1000 }

    /// Finds an architecture by name, suggesting the nearest on a typo.
    public static func named(_ name: String) throws(ModelError) -> Architecture {
        if let found = Architecture(rawValue: name.lowercased()) { return found }
        let aliases: [String: Architecture] = ["mobilenet_v2": .mobilenetV2, "mobilenet-v2": .mobilenetV2, "efficientnet_lite0": .efficientNetLite0, "mnist_cnn": .mnistCNN]
        if let alias = aliases[name.lowercased()] { return alias }
        throw .invalidArgument(what: "architecture", reason: "unknown '\(name)'"
            + (nearest(name, in: allCases.map(\.rawValue)).map { "; did you mean '\($0)'?" } ?? " (known: \(allCases.map(\.rawValue).joined(separator: ", ")))"))
    }

    /// A freshly initialized model.
    public func build(classes: Int? = nil, inputShape: [Int]? = nil, widthMultiplier: Float = 1, generator: Generator,
                      name: String? = nil) throws(ModelError) -> Model {
        let classes = classes ?? defaultClasses
        guard classes >= 2 else { throw .invalidArgument(what: "classes", reason: "must be at least 2, got \(classes)") }
        let input = inputShape ?? defaultInputShape
        guard input.count == 3 else { throw .invalidArgument(what: "input", reason: "must be CxHxW, got \(formatShape(input))") }
        guard widthMultiplier > 0, widthMultiplier <= 4 else { throw .invalidArgument(what: "width", reason: "must be in (0, 4], got \(widthMultiplier)") }
        if self != .mobilenetV2 && widthMultiplier != 1 {
            throw .invalidArgument(what: "width", reason: "only mobilenetv2 takes a width multiplier")
        }
        let names = classes == 1000 && self != .mnistCNN ? nil : (0..<classes).map(String.init)
        let model: Model
        switch self {
        case .mnistCNN: model = try MNISTCNN.build(classes: classes, input: input, generator: generator)
        case .resnet18: model = try ResNet.build(blocks: [2, 2, 2, 2], classes: classes, input: input, generator: generator)
        case .resnet34: model = try ResNet.build(blocks: [3, 4, 6, 3], classes: classes, input: input, generator: generator)
        case .mobilenetV2: model = try MobileNetV2.build(width: widthMultiplier, classes: classes, input: input, generator: generator)
        case .efficientNetLite0: model = try EfficientNetLite.build(classes: classes, input: input, generator: generator)
        }
        model.name = name ?? rawValue
        model.classNames = names ?? (0..<classes).map(String.init)
        return model
    }
}
