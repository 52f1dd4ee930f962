import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// A layer kind that writes itself as standard ONNX operators (inference semantics).
public protocol ONNXExportable {
    /// Appends the operators computing `node.output` from `node.inputs`.
    func exportONNX(to writer: inout ONNXWriter, _ node: ONNXWriter.Node) throws
}

/// The graph being written: nodes, initializers and fresh names.
public struct ONNXWriter {
    /// The layer being exported: its name (also its output's), input value names and shapes.
    public struct Node {
        public let name: String
        public let inputs: [String]
        /// The first input's shape without the batch axis.
        public let inputShape: [Int]
        public let outputShape: [Int]
        public var output: String { name }
        /// A name under this layer (`layer1.0.conv1.weight`).
        public func key(_ suffix: String) -> String { "\(name).\(suffix)" }

        /// ONNX pads [top, left, bottom, right] for a window over this node's input.
        func pads(_ mode: PaddingMode, kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int) = (1, 1)) -> [Int] {
            let p = mode.resolve(height: inputShape[1], width: inputShape[2], kernel: kernel, stride: stride, dilation: dilation)
            return [p.top, p.left, p.bottom, p.right]
        }
    }

    var graph = Onnx_GraphProto()
    var initializers: [Onnx_TensorProto] = []
    private var counter = 0

    /// A float initializer; returns its name.
    @discardableResult
    mutating func initializer(_ name: String, _ tensor: Tensor) -> String {
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

    /// A float constant of the given shape ([] for a scalar).
    mutating func constant(_ values: [Float], shape: [Int] = [], name: String) -> String {
        initializer(name, (try? Tensor(shape: shape, scalars: values)) ?? Tensor(0))
    }

    mutating func int64Constant(_ values: [Int], name: String) -> String {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dataType = 7
        proto.dims = [Int64(values.count)]
        proto.int64Data = values.map(Int64.init)
        initializers.append(proto)
        return name
    }

    static func attribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = ints.map(Int64.init); return a
    }
    static func attribute(_ name: String, int: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = Int64(int); return a
    }
    static func attribute(_ name: String, float: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = float; return a
    }

    /// Appends one operator; returns its output's name (`output`, or a fresh one).
    @discardableResult
    mutating func emit(_ op: String, _ inputs: [String], output: String? = nil, _ attributes: [Onnx_AttributeProto] = []) -> String {
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
}
