import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// Writes any graft model as an ONNX graph (opset 17) that onnxruntime runs with the same outputs:
/// every layer as standard operators (inference semantics: dropout off, BatchNorm on its running
/// statistics), weights as float initializers, a free batch dimension. Each layer kind writes its
/// own operators (its `ONNXExportable` conformance, in its file under `GraftNN/Layers/`); this
/// encodes them.
public enum ONNXExporter {
    struct Failure: Error, CustomStringConvertible { let description: String }

    public static let opset: Int64 = 17

    /// Whether the layer's kind writes itself as ONNX.
    public static func canExport(_ layer: Layer) -> Bool { layer is any ONNXExportable }

    public static func encode(_ model: Model) throws -> Data {
        var writer = ONNXWriter()
        var graph = Onnx_GraphProto()
        graph.name = model.name
        var outputsOf: [Int: String] = [:]
        let input = model.nodes[0].name
        outputsOf[0] = input
        for (index, node) in model.nodes.enumerated().dropFirst() {
            guard let layer = node.layer as? any ONNXExportable else {
                throw Failure(description: "layer \(node.name) (\(node.layer.kind)) cannot be exported to ONNX")
            }
            let context = ONNXWriter.Node(name: node.name, inputs: node.inputs.compactMap { outputsOf[$0] },
                                          inputShape: node.inputs.first.map { model.nodes[$0].outputShape } ?? [], outputShape: node.outputShape)
            try layer.exportONNX(to: &writer, context)
            outputsOf[index] = node.name
        }
        graph.node = writer.operators.map(\.proto)
        graph.initializer = writer.initializers.map(\.proto)
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
        func entry(_ key: String, _ value: String) -> Onnx_StringStringEntryProto {
            var metadata = Onnx_StringStringEntryProto()
            (metadata.key, metadata.value) = (key, value)
            return metadata
        }
        proto.metadataProps = [entry("graft.classes", model.classNames.joined(separator: "\n"))]
        // How image files become inputs, and how pixels are scaled: what graft's own files keep.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        if let preprocessing = model.preprocessing, let json = try? encoder.encode(preprocessing) {
            proto.metadataProps.append(entry(ONNXImporter.preprocessingKey, String(decoding: json, as: UTF8.self)))
        }
        if let normalization = model.normalization, let json = try? encoder.encode(GraphDescription.NormalizationDescription(normalization)) {
            proto.metadataProps.append(entry(ONNXImporter.normalizationKey, String(decoding: json, as: UTF8.self)))
        }
        return try proto.serializedData()
    }
}
