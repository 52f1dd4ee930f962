import Foundation
import GraftFormats
import GraftNN
import GraftTensor

// What the layer kinds wrote (GraftNN's ONNXWriter, plain values) as ONNX's wire messages.

extension ONNXWriter.Attribute {
    var proto: Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        switch self {
        case let .int(name, value): a.name = name; a.type = .int; a.i = Int64(value)
        case let .ints(name, values): a.name = name; a.type = .ints; a.ints = values.map(Int64.init)
        case let .float(name, value): a.name = name; a.type = .float; a.f = value
        case let .string(name, value): a.name = name; a.type = .string; a.s = Data(value.utf8)
        }
        return a
    }
}

extension ONNXWriter.Operator {
    var proto: Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = name
        node.input = inputs
        node.output = [output]
        node.attribute = attributes.map(\.proto)
        return node
    }
}

extension ONNXWriter.Initializer {
    /// Float weights as little-endian raw data; int64 values as a vector.
    var proto: Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        switch self {
        case let .float(name, tensor):
            proto.name = name
            proto.dataType = 1
            proto.dims = tensor.shape.map(Int64.init)
            var raw = Data(capacity: tensor.count * 4)
            for value in tensor.scalars { withUnsafeBytes(of: value.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
            proto.rawData = raw
        case let .int64(name, values):
            proto.name = name
            proto.dataType = 7
            proto.dims = [Int64(values.count)]
            proto.int64Data = values.map(Int64.init)
        }
        return proto
    }
}
