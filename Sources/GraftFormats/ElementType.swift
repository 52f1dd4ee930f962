import Foundation

/// The element types graft reads from files, in one table for every reader (safetensors, PyTorch
/// storages, ONNX tensors, HDF5 datasets, NumPy arrays): each type's size, how one element becomes
/// a Float32, and each format's spelling of it. Readers check sizes and counts against their bytes
/// before decoding; decoding itself cannot fail.
public enum ElementType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, float64
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case bool

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .float16, .bfloat16, .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// Integers and booleans: values that are exact whole numbers (labels, indices, shapes).
    public var isInteger: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: return false
        default: return true
        }
    }

    /// Element `index` of the array at `base` as the nearest Float32 (as Swift's `Float(_:)` rounds:
    /// float64 and integers beyond 2²⁴ round to nearest, even). Little-endian unless `bigEndian`.
    @inline(__always)
    public func float(at base: UnsafeRawPointer, _ index: Int, bigEndian: Bool = false) -> Float {
        let p = base + index * size
        @inline(__always) func word<T: FixedWidthInteger>(_: T.Type) -> T {
            let v = p.loadUnaligned(as: T.self)
            return bigEndian ? T(bigEndian: v) : T(littleEndian: v)
        }
        switch self {
        case .float32: return Float(bitPattern: word(UInt32.self))
        case .float64: return Float(Double(bitPattern: word(UInt64.self)))
        case .float16: return Float(Float16(bitPattern: word(UInt16.self)))
        // bfloat16 is the top half of a float32.
        case .bfloat16: return Float(bitPattern: UInt32(word(UInt16.self)) << 16)
        case .int8: return Float(p.load(as: Int8.self))
        case .int16: return Float(Int16(bitPattern: word(UInt16.self)))
        case .int32: return Float(Int32(bitPattern: word(UInt32.self)))
        case .int64: return Float(Int64(bitPattern: word(UInt64.self)))
        case .uint8, .bool: return Float(p.load(as: UInt8.self))
        case .uint16: return Float(word(UInt16.self))
        case .uint32: return Float(word(UInt32.self))
        case .uint64: return Float(word(UInt64.self))
        }
    }

    /// Element `index` as an exact integer (integer and boolean types); nil for a float type and for
    /// a uint64 beyond `Int.max`.
    public func integer(at base: UnsafeRawPointer, _ index: Int, bigEndian: Bool = false) -> Int? {
        let p = base + index * size
        func word<T: FixedWidthInteger>(_: T.Type) -> T {
            let v = p.loadUnaligned(as: T.self)
            return bigEndian ? T(bigEndian: v) : T(littleEndian: v)
        }
        switch self {
        case .float32, .float16, .bfloat16, .float64: return nil
        case .int8: return Int(p.load(as: Int8.self))
        case .int16: return Int(Int16(bitPattern: word(UInt16.self)))
        case .int32: return Int(Int32(bitPattern: word(UInt32.self)))
        case .int64: return Int(Int64(bitPattern: word(UInt64.self)))
        case .uint8, .bool: return Int(p.load(as: UInt8.self))
        case .uint16: return Int(word(UInt16.self))
        case .uint32: return Int(word(UInt32.self))
        case .uint64: return Int(exactly: word(UInt64.self))
        }
    }

    /// Decodes `count` contiguous elements at `source` into `out` (which holds at least `count`):
    /// one copy for little-endian float32 on a little-endian host, element by element otherwise.
    public func decode(_ source: UnsafeRawPointer, count: Int, bigEndian: Bool = false, into out: UnsafeMutableBufferPointer<Float>) {
        let count = Swift.min(count, out.count)
        if self == .float32, bigEndian == !littleEndianHost, let destination = out.baseAddress {
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: 4 * count)
            return
        }
        for i in 0..<count { out[i] = float(at: source, i, bigEndian: bigEndian) }
    }

    // MARK: Each format's spelling

    /// safetensors' `dtype` (`F32`, `BF16`, `I64`, `BOOL`, …).
    public init?(safetensors name: String) {
        let table: [String: ElementType] = [
            "F32": .float32, "F16": .float16, "BF16": .bfloat16, "F64": .float64, "I8": .int8, "I16": .int16, "I32": .int32, "I64": .int64,
            "U8": .uint8, "U16": .uint16, "U32": .uint32, "U64": .uint64, "BOOL": .bool,
        ]
        guard let type = table[name] else { return nil }
        self = type
    }

    /// A PyTorch storage class's name (`FloatStorage`, `BFloat16Storage`, …), or a typed storage's dtype name.
    public init?(torchStorage name: String) {
        let table: [String: ElementType] = [
            "FloatStorage": .float32, "HalfStorage": .float16, "BFloat16Storage": .bfloat16, "DoubleStorage": .float64,
            "CharStorage": .int8, "ShortStorage": .int16, "IntStorage": .int32, "LongStorage": .int64,
            "ByteStorage": .uint8, "BoolStorage": .bool,
        ]
        guard let type = table[name] else { return nil }
        self = type
    }

    /// ONNX's `TensorProto.DataType` (onnx.proto: FLOAT = 1, UINT8 = 2, INT8 = 3, UINT16 = 4, INT16 = 5,
    /// INT32 = 6, INT64 = 7, BOOL = 9, FLOAT16 = 10, DOUBLE = 11, UINT32 = 12, UINT64 = 13, BFLOAT16 = 16).
    public init?(onnx code: Int32) {
        let table: [Int32: ElementType] = [
            1: .float32, 2: .uint8, 3: .int8, 4: .uint16, 5: .int16, 6: .int32, 7: .int64, 9: .bool,
            10: .float16, 11: .float64, 12: .uint32, 13: .uint64, 16: .bfloat16,
        ]
        guard let type = table[code] else { return nil }
        self = type
    }

    /// A NumPy type code without its byte-order character (`f4`, `u1`, `i8`, `b1`).
    public init?(numpy code: String) {
        let table: [String: ElementType] = [
            "f4": .float32, "f2": .float16, "f8": .float64, "i1": .int8, "i2": .int16, "i4": .int32, "i8": .int64,
            "u1": .uint8, "u2": .uint16, "u4": .uint32, "u8": .uint64, "b1": .bool,
        ]
        guard let type = table[code] else { return nil }
        self = type
    }

    /// An HDF5 fixed-point (integer) or floating-point datatype of `size` bytes (HDF5 spec, datatype
    /// message classes 0 and 1); nil for sizes HDF5 writers do not use.
    public init?(hdf5Integer size: Int, signed: Bool) {
        switch (size, signed) {
        case (1, true): self = .int8
        case (2, true): self = .int16
        case (4, true): self = .int32
        case (8, true): self = .int64
        case (1, false): self = .uint8
        case (2, false): self = .uint16
        case (4, false): self = .uint32
        case (8, false): self = .uint64
        default: return nil
        }
    }

    public init?(hdf5Float size: Int) {
        switch size {
        case 2: self = .float16
        case 4: self = .float32
        case 8: self = .float64
        default: return nil
        }
    }
}
