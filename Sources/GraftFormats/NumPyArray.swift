import Foundation

/// A NumPy `.npy` array: read (float32, float64, uint8, int64, int32, bool; either byte order;
/// C order) and written (float32 or int64, C order), following the NPY format versions 1.0–3.0.
public struct NumPyArray: Sendable, Equatable {
    public enum DType: String, Sendable {
        case float32 = "f4", float64 = "f8", uint8 = "u1", int64 = "i8", int32 = "i4", bool = "b1"
        /// The element type it stores (decoded by ``ElementType``).
        var element: ElementType { ElementType(numpy: rawValue) ?? .float32 }
        var size: Int { element.size }
    }

    public let shape: [Int]
    public let dtype: DType
    /// The elements as Float (integers converted exactly up to 2^24).
    public let values: [Float]
    /// The elements as integers, for integer and bool arrays (labels); nil for float arrays.
    public let integers: [Int]?

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.dtype = .float32
        self.values = values
        self.integers = nil
    }

    public init(shape: [Int], integers: [Int]) {
        self.shape = shape
        self.dtype = .int64
        self.values = integers.map(Float.init)
        self.integers = integers
    }

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"
    /// Largest header accepted (NumPy itself writes a few hundred bytes).
    static let headerLimit = 1 << 16

    /// Parses the bytes of a `.npy` file; `name` appears in every error.
    public init(data: Data, name: String = "array") throws(FormatError) {
        let bytes = [UInt8](data)
        func fail(_ place: String, _ reason: String) -> FormatError { .malformed(format: "npy", where: "\(name) \(place)", reason: reason) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == Self.magic else { throw fail("header", "not a NumPy .npy file (bad magic)") }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("header", "file is truncated") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default: throw FormatError.unsupported(format: "npy", what: "format version \(major).\(bytes[7]) in \(name)")
        }
        guard headerLength <= Self.headerLimit else { throw FormatError.tooLarge(format: "npy", what: "\(name) header of \(headerLength) bytes", limit: "\(Self.headerLimit) bytes") }
        guard bytes.count >= headerStart + headerLength else { throw fail("header", "file is truncated") }
        guard let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw fail("header", "header is not text")
        }
        let fields = try Self.parseHeader(header, fail: fail)
        var descr = fields.descr
        let bigEndian = descr.hasPrefix(">")
        if let first = descr.first, "<>|=".contains(first) { descr.removeFirst() }
        guard let dtype = DType(rawValue: descr) else {
            throw FormatError.unsupported(format: "npy", what: "dtype '\(fields.descr)' in \(name) (graft reads float32, float64, uint8, int32, int64, bool)")
        }
        guard !fields.fortranOrder else {
            throw FormatError.unsupported(format: "npy", what: "Fortran-order array in \(name) (save it with numpy.ascontiguousarray)")
        }
        var count = 1
        for dim in fields.shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard dim >= 0, !overflow, product <= 1 << 32 else {
                throw FormatError.tooLarge(format: "npy", what: "\(name) shape \(fields.shape)", limit: "2^32 elements")
            }
            count = product
        }
        let dataStart = headerStart + headerLength
        let available = bytes.count - dataStart
        guard available >= count * dtype.size else {
            throw fail("data", "file is truncated: shape \(fields.shape) needs \(count * dtype.size) bytes, \(available) present")
        }
        guard available == count * dtype.size else {
            throw fail("data", "\(available - count * dtype.size) bytes after the array's data")
        }
        shape = fields.shape
        self.dtype = dtype
        var floats = [Float](repeating: 0, count: count)
        var ints: [Int]? = nil
        let element = dtype.element
        bytes.withUnsafeBytes { raw in
            guard let start = raw.baseAddress, count > 0 else { return }
            let base = start + dataStart
            floats.withUnsafeMutableBufferPointer { element.decode(base, count: count, bigEndian: bigEndian, into: $0) }
            // Integer arrays (labels) keep their exact values too (every one of these types fits an Int).
            if element.isInteger { ints = (0..<count).map { element.integer(at: base, $0, bigEndian: bigEndian) ?? 0 } }
        }
        values = floats
        integers = ints
    }

    /// The fields of the header dict: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
    static func parseHeader(_ header: String, fail: (String, String) -> FormatError) throws(FormatError)
        -> (descr: String, fortranOrder: Bool, shape: [Int]) {
        func value(of key: String) -> Substring? {
            guard let keyRange = header.range(of: "'\(key)'") else { return nil }
            var rest = header[keyRange.upperBound...].drop { $0 == " " }
            guard rest.first == ":" else { return nil }
            rest = rest.dropFirst().drop { $0 == " " }
            return rest
        }
        guard let descrStart = value(of: "descr"), descrStart.first == "'",
              let close = descrStart.dropFirst().firstIndex(of: "'") else { throw fail("header", "no 'descr' entry") }
        let descr = String(descrStart.dropFirst()[..<close])
        guard let order = value(of: "fortran_order") else { throw fail("header", "no 'fortran_order' entry") }
        let fortran: Bool
        if order.hasPrefix("False") { fortran = false } else if order.hasPrefix("True") { fortran = true } else {
            throw fail("header", "'fortran_order' is neither True nor False")
        }
        guard let shapeStart = value(of: "shape"), shapeStart.first == "(", let end = shapeStart.firstIndex(of: ")") else {
            throw fail("header", "no 'shape' tuple")
        }
        let items = shapeStart.dropFirst()[..<end].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard items.count <= 32 else { throw fail("header", "rank \(items.count) is above 32") }
        var shape: [Int] = []
        for item in items {
            guard let dim = Int(item), dim >= 0 else { throw fail("header", "shape entry '\(item)' is not a size") }
            shape.append(dim)
        }
        return (descr, fortran, shape)
    }

    /// The bytes of a `.npy` file (version 1.0, little-endian, C order, header padded to 64 bytes).
    public func encoded() -> Data {
        var data = Self.header(descr: integers != nil ? "<i8" : "<f4", shape: shape)
        if let integers {
            for v in integers { withUnsafeBytes(of: Int64(v).littleEndian) { data.append(contentsOf: $0) } }
        } else if 1.littleEndian == 1 {
            // Whole arrays at once on little-endian hosts (an exported dataset can be hundreds of MB).
            values.withUnsafeBytes { data.append(contentsOf: $0) }
        } else {
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        return data
    }

    /// The bytes of a uint8 `.npy` file (images as graft stores them: value = byte / 255).
    public static func encoded(shape: [Int], bytes: [UInt8]) -> Data {
        var data = header(descr: "|u1", shape: shape)
        data.append(contentsOf: bytes)
        return data
    }

    /// Magic, version 1.0 and the header dictionary, padded so the data starts at a multiple of 64.
    static func header(descr: String, shape: [Int]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(magic + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        return data
    }
}
