import GraftTensor

/// The model's input: declares the sample shape (without the batch axis).
public final class Input: Layer, LayerKind, DeclaresInput {
    public struct Config: Codable, Sendable, Equatable {
        public var shape: [Int]
        /// Sample axes the source left free (an ONNX `N×3×H×W`, a Keras `(None, None, 3)`).
        public var free: [Int]?
    }
    public static let key = "input"
    /// The declared sample shape; at free axes, the nominal size the graph was built for.
    public let shape: [Int]
    /// Sample axes the source file left free: any size the layers allow runs there.
    public let freeAxes: [Int]

    public init(_ shape: [Int], freeAxes: [Int] = []) throws(ModelError) {
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }), shape.count <= 4 else {
            throw .invalidArgument(what: "input", reason: "shape \(formatShape(shape)) must have 1–4 positive dimensions")
        }
        guard freeAxes.allSatisfy({ shape.indices.contains($0) }) else { throw .invalidArgument(what: "input", reason: "free axes \(freeAxes) outside \(formatShape(shape))") }
        _ = try elementCount(shape, layer: "input")
        self.shape = shape
        self.freeAxes = freeAxes.sorted()
        super.init(kind: "Input")
    }

    public convenience init(config: Config) throws(ModelError) { try self.init(config.shape, freeAxes: config.free ?? []) }
    public var config: Config { Config(shape: shape, free: freeAxes.isEmpty ? nil : freeAxes) }

    /// The shape with `?` at free axes (`3×?×?`).
    public var described: String { shape.enumerated().map { freeAxes.contains($0.offset) ? "?" : String($0.element) }.joined(separator: "×") }

    public override var details: String { freeAxes.isEmpty ? "" : "\(described), built for \(shape.map(String.init).joined(separator: "×"))" }

    public override var arity: Int? { 0 }
    public override func outputShape(_ inputs: [[Int]]) throws(ModelError) -> [Int] { shape }
}
