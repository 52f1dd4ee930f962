import Foundation
import Testing
@testable import GraftFormats
@testable import GraftModels
import GraftNN
import GraftTensor

/// The ONNX converter table: each operator's rows cover its opsets from its introduction on, once
/// each; the importer picks the row for the model's opset, and an operator used before ONNX had it
/// is refused by name.
@Suite("ONNX converters by opset")
struct ONNXConverterTests {
    @Test func eachOperatorsOpsetsAreCoveredOnce() {
        #expect(ONNXImporter.convertersByOp.count >= 40)
        for (op, rows) in ONNXImporter.convertersByOp {
            let sorted = rows.sorted { $0.opsets.lowerBound < $1.opsets.lowerBound }
            for (a, b) in zip(sorted, sorted.dropFirst()) {
                #expect(a.opsets.upperBound + 1 == b.opsets.lowerBound, "\(op): \(a.opsets) then \(b.opsets)")
            }
            #expect(sorted.last?.opsets.upperBound == Int.max, "\(op) stops at \(sorted.last?.opsets.upperBound ?? 0)")
        }
    }

    /// Softmax's default axis changed at opset 13 (1 before, −1 since): on a [N, 3, 4] input, opset 11's
    /// default is the channel axis, opset 13's the last; each imports as a softmax over that axis.
    @Test func theRowForTheModelsOpsetDecides() throws {
        func softmax(_ opset: Int64) throws -> String? {
            let model = try ONNXImporter.load(try ONNXShapeOpsTests.graph("Softmax", dims: [1, 3, 4], opset: opset), name: "t.onnx", modelName: "t", inputShape: nil)
            return model.nodes.last.map { "\($0.layer.kind) \($0.layer.details)" }
        }
        #expect(try softmax(11) == "Softmax ")
        #expect(try softmax(13) == "Softmax axis -1")
        // Squeeze reads its axes from an attribute before opset 13, from an input since.
        let attribute = ONNXShapeOpsTests.attribute("axes", ints: [2])
        #expect(ONNXShapeOpsTests.outcome(try ONNXShapeOpsTests.graph("Squeeze", dims: [1, 3, 1], attributes: [attribute], opset: 11)) == nil)
        #expect(ONNXShapeOpsTests.outcome(try ONNXShapeOpsTests.graph("Squeeze", dims: [1, 3, 1], constants: [ONNXShapeOpsTests.ints("axes", [2])], opset: 13)) == nil)
    }

    @Test func anOperatorBeforeItsIntroductionIsRefused() throws {
        let early = ONNXShapeOpsTests.outcome(try ONNXShapeOpsTests.graph("LayerNormalization", dims: [1, 3, 4], opset: 12))
        #expect(early == "op 'LayerNormalization' (node 'n') does not exist at opset 12: ONNX introduced it at opset 17", "\(early ?? "loaded")")
        let unknown = ONNXShapeOpsTests.outcome(try ONNXShapeOpsTests.graph("Einsum", dims: [1, 3, 4]))
        #expect(unknown == "unsupported op 'Einsum' (node 'n')", "\(unknown ?? "loaded")")
    }
}
