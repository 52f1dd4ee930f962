import GraftTensor

/// How layer configs spell their settings: pairs as two-element lists, padding as four values
/// (top, bottom, left, right) or nil for "same".
extension PaddingMode {
    /// The config spelling: nil for `same`, else [top, bottom, left, right].
    public var configValues: [Int]? {
        switch self {
        case .same: return nil
        case let .explicit(p): return [p.top, p.bottom, p.left, p.right]
        }
    }

    /// Reads the config spelling back; four non-negative values or nil.
    public init(configValues values: [Int]?, layer: String) throws(ModelError) {
        guard let values else { self = .same; return }
        guard values.count == 4, values.allSatisfy({ $0 >= 0 }) else {
            throw .invalidArgument(what: layer, reason: "padding needs 4 non-negative values, got \(values)")
        }
        self = .explicit(Padding2D(top: values[0], bottom: values[1], left: values[2], right: values[3]))
    }
}

/// A two-element config list as a pair (kernel, stride, dilation).
func configPair(_ values: [Int], _ what: String, layer: String) throws(ModelError) -> (Int, Int) {
    guard values.count == 2 else { throw .invalidArgument(what: layer, reason: "\(what) needs 2 values, got \(values)") }
    return (values[0], values[1])
}

/// Weights of layers rebuilt from a config are overwritten by the saved ones, so they are built
/// without drawing any (lazily mapped zeros: a description naming a Dense(2^31, 2) takes no memory
/// before the file is found not to hold its weights).
func configGenerator() -> Generator { .structureOnly() }

/// The elements of a sample shape, or an error when they overflow or pass what a tensor can hold
/// (shapes come from files: [2^63 − 1, 28, 28] trapped in Flatten).
func elementCount(_ shape: [Int], layer: String) throws(ModelError) -> Int {
    var total = 1
    for dim in shape {
        let (product, overflow) = total.multipliedReportingOverflow(by: dim)
        guard dim >= 0, !overflow, product <= 1 << 32 else {
            throw .shapeMismatch(layer: layer, reason: "shape \(formatShape(shape)) has more than 2^32 elements")
        }
        total = product
    }
    return total
}

/// The most channels or features a layer takes (2³¹): a size read from a file above it is refused,
/// so the arithmetic on sizes (fans, parameter counts, output shapes) cannot overflow; memory is
/// the allocation budget's to refuse (see `AllocationBudget`).
let featureLimit = 1 << 31

/// Whether every channel or feature count is within 1…``featureLimit``.
func featuresFit(_ counts: Int...) -> Bool { counts.allSatisfy { (1...featureLimit).contains($0) } }

/// The largest kernel, stride, dilation or padding a layer takes: sizes read from a file stay far
/// from overflowing the window arithmetic (no real model comes near it).
let windowLimit = 1 << 16

/// Whether every window setting is within 1…``windowLimit`` (padding 0…) .
func windowFits(_ pairs: [(Int, Int)], padding: PaddingMode = .valid) -> Bool {
    var pads: [Int] = []
    if case let .explicit(p) = padding { pads = [p.top, p.bottom, p.left, p.right] }
    return pairs.allSatisfy { $0.0 > 0 && $0.1 > 0 && $0.0 <= windowLimit && $0.1 <= windowLimit } && pads.allSatisfy { $0 >= 0 && $0 <= windowLimit }
}
