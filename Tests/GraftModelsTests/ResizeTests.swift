import Foundation
import Testing
@testable import GraftModels
@testable import GraftNN
import GraftTensor

/// Resizing against the frameworks (fixtures from make_resize_fixtures.py): PyTorch's F.interpolate
/// (nearest by 2; bilinear to a size, align_corners False and True) as torch.onnx.export writes it,
/// and Keras 3's Resizing (bilinear, nearest) and UpSampling2D (nearest, bilinear), .keras and .h5.
@Suite("Resize against PyTorch and Keras")
struct ResizeTests {
    func expectClose(_ actual: Tensor, _ expected: Tensor, _ what: String) {
        #expect(actual.shape == expected.shape, "\(what) shape \(actual.shape)")
        let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-4 * (1 + (expected.scalars.map(abs).max() ?? 0)), "\(what): max |Δ| \(worst)")
    }

    @Test func torchInterpolateFromONNXMatches() throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent("resize_torch17.onnx").path)
        #expect(model.nodes.filter { $0.layer.kind == "Resize" }.count == 4)
        expectClose(try model.predict(try npy("resize_input.npy")), try npy("resize_torch_output.npy"), "torch opset 17")
    }

    @Test(arguments: ["resize_keras.keras", "resize_keras.h5"])
    func kerasResizingAndUpSamplingMatch(_ file: String) throws {
        let model = try ModelFiles.load(formatsFixtures.appendingPathComponent(file).path)
        expectClose(try model.predict(try npy("resize_keras_input.npy")), try npy("resize_keras_output.npy"), file)
    }

    /// The interpolation maps: every row sums to 1, a same-size half-pixel map is the identity, and
    /// nearest by 2 (asymmetric, floor) repeats each position twice.
    @Test func interpolationMapsAreWhatTheModesSay() throws {
        let bilinear = try Resize(size: (7, 5))
        for (n, m) in [(4, 7), (7, 3), (1, 4), (5, 1)] {
            let map: [Float] = bilinear.interpolation(from: n, to: m, factor: nil)
            for o in 0..<m {
                let total: Float = map[(o * n)..<((o + 1) * n)].reduce(0, +)
                #expect(abs(total - 1) < 1e-6)
            }
        }
        let identity: [Float] = (0..<25).map { $0 % 6 == 0 ? 1 : 0 }
        #expect(bilinear.interpolation(from: 5, to: 5, factor: nil) == identity)
        let nearest = try Resize(scale: (2, 2), mode: .nearest, coordinates: .asymmetric, rounding: .floor)
        let map: [Float] = nearest.interpolation(from: 3, to: 6, factor: 2)
        let sources: [Int?] = (0..<6).map { o in (0..<3).first { map[o * 3 + $0] == 1 } }
        #expect(sources == [0, 0, 1, 1, 2, 2])
        #expect(throws: ModelError.self) { try Resize(size: (0, 4)) }
        #expect(throws: ModelError.self) { try Resize(scale: (.nan, 2)) }
    }
}
