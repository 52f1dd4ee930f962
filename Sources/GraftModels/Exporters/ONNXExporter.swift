import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// Writes any graft model as an ONNX graph (opset 17) that onnxruntime runs with the same outputs:
/// every layer as standard operators (inference semantics: dropout off, BatchNorm on its running
/// statistics), weights as float initializers, a free batch dimension.
public enum ONNXExporter {
    struct Failure: Error, CustomStringConvertible { let description: String }

    public static let opset: Int64 = 17

    public static func encode(_ model: Model) throws -> Data {
        var graph = Onnx_GraphProto()
        graph.name = model.name
        var initializers: [Onnx_TensorProto] = []
        var outputsOf: [Int: String] = [:]
        var counter = 0

        func initializer(_ name: String, _ tensor: Tensor) -> String {
            var proto = Onnx_TensorProto()
            proto.name = name
            proto.dataType = 1
            proto.dims = tensor.shape.map(Int64.init)
            var raw = Data(capacity: tensor.count * 4)
            for value in tensor.scalars { withUnsafeBytes(of: value.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
            proto.rawData = raw
            initializers.append(proto)
            return name
        }
        func constant(_ values: [Float], shape: [Int], name: String) -> String {
            initializer(name, (try? Tensor(shape: shape, scalars: values)) ?? Tensor(0))
        }
        func int64Constant(_ values: [Int64], name: String) -> String {
            var proto = Onnx_TensorProto()
            proto.name = name
            proto.dataType = 7
            proto.dims = [Int64(values.count)]
            proto.int64Data = values
            initializers.append(proto)
            return name
        }
        func attribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = ints.map(Int64.init); return a
        }
        func attribute(_ name: String, int: Int) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = Int64(int); return a
        }
        func attribute(_ name: String, float: Float) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = float; return a
        }
        @discardableResult
        func emit(_ op: String, _ inputs: [String], output: String? = nil, _ attributes: [Onnx_AttributeProto] = []) -> String {
            counter += 1
            var node = Onnx_NodeProto()
            node.opType = op
            node.name = "\(op)_\(counter)"
            node.input = inputs
            let name = output ?? "\(op.lowercased())_\(counter)"
            node.output = [name]
            node.attribute = attributes
            graph.node.append(node)
            return name
        }

        let input = model.nodes[0].name
        outputsOf[0] = input
        for (index, node) in model.nodes.enumerated().dropFirst() {
            let layer = node.layer
            let x = node.inputs.compactMap { outputsOf[$0] }
            let inShape = node.inputs.first.map { model.nodes[$0].outputShape } ?? []
            let out = node.name
            func key(_ k: String) -> String { "\(node.name).\(k)" }
            func value(_ k: String) -> Tensor? { layer.parameters.first { $0.key == k }?.parameter.value ?? layer.buffers.first { $0.key == k }?.tensor }
            func pads(_ mode: PaddingMode, kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int) = (1, 1)) -> [Int] {
                let p = mode.resolve(height: inShape[1], width: inShape[2], kernel: kernel, stride: stride, dilation: dilation)
                return [p.top, p.left, p.bottom, p.right]
            }
            switch layer {
            case let l as Conv2d:
                guard let w = value("weight") else { throw Failure(description: "\(node.name): no weight") }
                var inputs = [x[0], initializer(key("weight"), w)]
                if let b = value("bias") { inputs.append(initializer(key("bias"), b)) }
                emit("Conv", inputs, output: out, [attribute("kernel_shape", ints: [l.kernel.0, l.kernel.1]), attribute("strides", ints: [l.stride.0, l.stride.1]),
                                                   attribute("dilations", ints: [l.dilation.0, l.dilation.1]), attribute("group", int: l.groups),
                                                   attribute("pads", ints: pads(l.padding, kernel: l.kernel, stride: l.stride, dilation: l.dilation))])
            case let l as SeparableConv2d:
                guard let dw = value("depthwise_weight"), let pw = value("pointwise_weight") else { throw Failure(description: "\(node.name): no weights") }
                let mid = emit("Conv", [x[0], initializer(key("depthwise_weight"), dw)],
                               [attribute("kernel_shape", ints: [l.kernel.0, l.kernel.1]), attribute("strides", ints: [l.stride.0, l.stride.1]),
                                attribute("group", int: l.inChannels), attribute("pads", ints: pads(l.padding, kernel: l.kernel, stride: l.stride))])
                var inputs = [mid, initializer(key("pointwise_weight"), pw)]
                if let b = value("bias") { inputs.append(initializer(key("bias"), b)) }
                emit("Conv", inputs, output: out, [attribute("kernel_shape", ints: [1, 1])])
            case is Dense:
                guard let w = value("weight") else { throw Failure(description: "\(node.name): no weight") }
                if inShape.count == 1 {
                    var inputs = [x[0], initializer(key("weight"), w)]
                    if let b = value("bias") { inputs.append(initializer(key("bias"), b)) }
                    emit("Gemm", inputs, output: out, [attribute("transB", int: 1)])
                } else {
                    let product = emit("MatMul", [x[0], initializer(key("weight_t"), try w.transposed())], output: value("bias") == nil ? out : nil)
                    if let b = value("bias") { emit("Add", [product, initializer(key("bias"), b)], output: out) }
                }
            case let l as BatchNorm:
                let channels = l.channels
                let ones = try Tensor.ones([channels]), zeros = try Tensor.zeros([channels])
                let scale = value("weight") ?? ones, shift = value("bias") ?? zeros
                guard let mean = value("running_mean"), let variance = value("running_var") else { throw Failure(description: "\(node.name): no statistics") }
                emit("BatchNormalization", [x[0], initializer(key("weight"), scale), initializer(key("bias"), shift),
                                            initializer(key("running_mean"), mean), initializer(key("running_var"), variance)],
                     output: out, [attribute("epsilon", float: l.epsilon)])
            case let l as Pool2d:
                var attributes = [attribute("kernel_shape", ints: [l.kernel.0, l.kernel.1]), attribute("strides", ints: [l.stride.0, l.stride.1]),
                                  attribute("pads", ints: pads(l.padding, kernel: l.kernel, stride: l.stride))]
                if l.function == .average { attributes.append(attribute("count_include_pad", int: l.countPadding && l.padding != .same ? 1 : 0)) }
                emit(l.function == .max ? "MaxPool" : "AveragePool", [x[0]], output: out, attributes)
            case let l as GlobalPool2d:
                let pooled = emit(l.function == .max ? "GlobalMaxPool" : "GlobalAveragePool", [x[0]])
                emit("Flatten", [pooled], output: out, [attribute("axis", int: 1)])
            case let l as Activation:
                switch l.function {
                case .relu: emit("Relu", x, output: out)
                case .relu6: emit("Clip", [x[0], constant([0], shape: [], name: key("min")), constant([6], shape: [], name: key("max"))], output: out)
                case let .leakyRelu(slope): emit("LeakyRelu", x, output: out, [attribute("alpha", float: slope)])
                case .sigmoid: emit("Sigmoid", x, output: out)
                case .tanh: emit("Tanh", x, output: out)
                case .hardswish: emit("HardSwish", x, output: out)
                case .hardsigmoid: emit("HardSigmoid", x, output: out, [attribute("alpha", float: 1.0 / 6.0), attribute("beta", float: 0.5)])
                case .silu: emit("Mul", [x[0], emit("Sigmoid", x)], output: out)
                case .gelu:
                    // 0.5·x·(1 + erf(x/√2)): opset 17 has no Gelu.
                    let scaled = emit("Div", [x[0], constant([Float(2).squareRoot()], shape: [], name: key("sqrt2"))])
                    let shifted = emit("Add", [emit("Erf", [scaled]), constant([1], shape: [], name: key("one"))])
                    emit("Mul", [emit("Mul", [x[0], shifted]), constant([0.5], shape: [], name: key("half"))], output: out)
                case .erf: emit("Erf", x, output: out)
                case .softmax: emit("Softmax", x, output: out, [attribute("axis", int: 1)])
                case .logSoftmax: emit("LogSoftmax", x, output: out, [attribute("axis", int: 1)])
                }
            case is Dropout, is DropPath:
                emit("Identity", x, output: out)
            case is Flatten:
                emit("Flatten", x, output: out, [attribute("axis", int: 1)])
            case is Reshape:
                emit("Reshape", [x[0], int64Constant([-1] + node.outputShape.map(Int64.init), name: key("shape"))], output: out)
            case let l as ZeroPadding2d:
                let p = l.padding
                emit("Pad", [x[0], int64Constant([0, 0, p.top, p.left, 0, 0, p.bottom, p.right].map(Int64.init), name: key("pads"))], output: out)
            case let l as Merge:
                switch l.function {
                case .concatenate: emit("Concat", x, output: out, [attribute("axis", int: 1)])
                default:
                    let op = ["add": "Add", "subtract": "Sub", "multiply": "Mul", "divide": "Div"][l.function.rawValue] ?? "Add"
                    var running = x[0]
                    for (k, next) in x.dropFirst().enumerated() { running = emit(op, [running, next], output: k == x.count - 2 ? out : nil) }
                }
            case let l as Permute:
                emit("Transpose", x, output: out, [attribute("perm", ints: [0] + l.order.map { $0 + 1 })])
            case let l as Affine:
                func perChannel(_ v: [Float], _ name: String) -> String {
                    v.count == 1 ? constant(v, shape: [], name: key(name)) : constant(v, shape: [v.count] + [Int](repeating: 1, count: max(0, inShape.count - 1)), name: key(name))
                }
                let scaled = emit("Mul", [x[0], perChannel(l.scale, "scale")])
                emit("Add", [scaled, perChannel(l.offset, "offset")], output: out)
            case let l as ConstantOp:
                let c = initializer(key("constant"), l.constant)
                switch l.function {
                case .add: emit("Add", [x[0], c], output: out)
                case .subtract: emit("Sub", [x[0], c], output: out)
                case .reverseSubtract: emit("Sub", [c, x[0]], output: out)
                case .multiply: emit("Mul", [x[0], c], output: out)
                case .divide: emit("Div", [x[0], c], output: out)
                case .reverseDivide: emit("Div", [c, x[0]], output: out)
                }
            case let l as Clamp:
                emit("Clip", [x[0], constant([l.low], shape: [], name: key("min")), constant([l.high], shape: [], name: key("max"))], output: out)
            default:
                throw Failure(description: "layer \(node.name) (\(layer.kind)) cannot be exported to ONNX")
            }
            outputsOf[index] = out
        }
        graph.initializer = initializers
        func valueInfo(_ name: String, _ shape: [Int]) -> Onnx_ValueInfoProto {
            var info = Onnx_ValueInfoProto()
            info.name = name
            var type = Onnx_TypeProto.Tensor()
            type.elemType = 1
            var tensorShape = Onnx_TensorShapeProto()
            var batch = Onnx_TensorShapeProto.Dimension(); batch.dimParam = "N"
            tensorShape.dim = [batch] + shape.map { var d = Onnx_TensorShapeProto.Dimension(); d.dimValue = Int64($0); return d }
            type.shape = tensorShape
            info.type.tensorType = type
            return info
        }
        graph.input = [valueInfo(input, model.inputShape)]
        graph.output = [valueInfo(model.nodes[model.nodes.count - 1].name, model.outputShape)]
        var proto = Onnx_ModelProto()
        proto.irVersion = 8
        proto.producerName = "graft"
        var opsetImport = Onnx_OperatorSetIdProto()
        opsetImport.version = opset
        proto.opsetImport = [opsetImport]
        proto.graph = graph
        var metadata = Onnx_StringStringEntryProto()
        metadata.key = "graft.classes"
        metadata.value = model.classNames.joined(separator: "\n")
        proto.metadataProps = [metadata]
        return try proto.serializedData()
    }
}
