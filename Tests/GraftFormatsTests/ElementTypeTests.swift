import Foundation
import Testing
@testable import GraftFormats

/// The one element-type table every reader decodes through: each type's bytes, in both byte
/// orders, become the Float32 (and, for integers, the Int) they stand for; each format's spelling
/// names the right type.
@Suite("Element types")
struct ElementTypeTests {
    /// Little-endian bytes of each type for a few values, written by Swift's own representations
    /// (IEEE 754 binary16/32/64, bfloat16 as a float32's top half, two's complement), and what they
    /// must decode to.
    static let cases: [(ElementType, [UInt8], [Float])] = {
        func bytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) } }
        return [
            (.float32, bytes([Float(1.5).bitPattern, Float(-0.0).bitPattern, Float.infinity.bitPattern, Float(3.4e38).bitPattern]), [1.5, -0.0, .infinity, 3.4e38]),
            (.float16, bytes([Float16(1.5).bitPattern, Float16(-65504).bitPattern, UInt16(0x0001)]), [1.5, -65504, Float(Float16(bitPattern: 1))]),
            (.bfloat16, bytes([UInt16(0x3F80), UInt16(0xC040), UInt16(0x7F80)]), [1, -3, .infinity]),
            (.float64, bytes([Double(0.1).bitPattern, Double(1e300).bitPattern]), [Float(0.1), .infinity]),
            (.int8, [0x7F, 0x80, 0xFF], [127, -128, -1]),
            (.int16, bytes([Int16(-2), Int16.max]), [-2, 32767]),
            (.int32, bytes([Int32(-70000), Int32(16_777_217)]), [-70000, 16_777_216]),
            (.int64, bytes([Int64(-1), Int64(1) << 40]), [-1, 1_099_511_627_776]),
            (.uint8, [0, 255], [0, 255]),
            (.uint16, bytes([UInt16(65535)]), [65535]),
            (.uint32, bytes([UInt32.max]), [4_294_967_296]),
            (.uint64, bytes([UInt64(1) << 63]), [9_223_372_036_854_775_808]),
            (.bool, [0, 1], [0, 1]),
        ]
    }()

    @Test func everyTypeDecodesInBothByteOrders() {
        #expect(Set(Self.cases.map(\.0)) == Set(ElementType.allCases))
        for (type, little, expected) in Self.cases {
            let count = expected.count
            #expect(little.count == count * type.size, "\(type)")
            // The same values in big-endian order: each element's bytes reversed.
            let big = (0..<count).flatMap { little[($0 * type.size)..<(($0 + 1) * type.size)].reversed() }
            for (bytes, bigEndian) in [(little, false), (big, true)] {
                var out = [Float](repeating: .nan, count: count + 1)
                bytes.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { type.decode(raw.baseAddress!, count: count, bigEndian: bigEndian, into: $0) } }
                #expect(out.prefix(count).map(\.bitPattern) == expected.map(\.bitPattern), "\(type) bigEndian \(bigEndian): \(out)")
                #expect(out[count].isNaN, "\(type) wrote past count")
                let one = bytes.withUnsafeBytes { raw in (0..<count).map { type.float(at: raw.baseAddress!, $0, bigEndian: bigEndian) } }
                #expect(one.map(\.bitPattern) == expected.map(\.bitPattern), "\(type) one at a time")
            }
        }
    }

    @Test func integersKeepTheirExactValues() {
        let values: [Int64] = [-9_007_199_254_740_993, 16_777_217, -1]
        let bytes = values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) }
        let read = bytes.withUnsafeBytes { raw in (0..<3).map { ElementType.int64.integer(at: raw.baseAddress!, $0) } }
        #expect(read == values.map { Int($0) })
        let huge = withUnsafeBytes(of: UInt64.max.littleEndian, Array.init)
        #expect(huge.withUnsafeBytes { ElementType.uint64.integer(at: $0.baseAddress!, 0) } == nil)
        #expect(huge.withUnsafeBytes { ElementType.float64.integer(at: $0.baseAddress!, 0) } == nil)
        #expect(ElementType.allCases.filter(\.isInteger).count == 9)
    }

    /// Each format's names for the types, and names that are not types.
    @Test func eachFormatsSpellingNamesTheRightType() {
        #expect(ElementType(safetensors: "BF16") == .bfloat16 && ElementType(safetensors: "BOOL") == .bool && ElementType(safetensors: "U64") == .uint64)
        #expect(ElementType(safetensors: "f32") == nil && ElementType(safetensors: "F8_E4M3") == nil)
        #expect(ElementType(torchStorage: "HalfStorage") == .float16 && ElementType(torchStorage: "CharStorage") == .int8 && ElementType(torchStorage: "ByteStorage") == .uint8)
        #expect(ElementType(torchStorage: "ComplexFloatStorage") == nil)
        #expect(ElementType(onnx: 1) == .float32 && ElementType(onnx: 16) == .bfloat16 && ElementType(onnx: 9) == .bool && ElementType(onnx: 8) == nil && ElementType(onnx: 14) == nil)
        #expect(ElementType(numpy: "f2") == .float16 && ElementType(numpy: "b1") == .bool && ElementType(numpy: "c8") == nil && ElementType(numpy: "<f4") == nil)
        #expect(ElementType(hdf5Integer: 2, signed: false) == .uint16 && ElementType(hdf5Integer: 3, signed: true) == nil && ElementType(hdf5Float: 8) == .float64 && ElementType(hdf5Float: 16) == nil)
        // Every type has a spelling in each format that has one for it.
        let named = Set(["F32", "F16", "BF16", "F64", "I8", "I16", "I32", "I64", "U8", "U16", "U32", "U64", "BOOL"].compactMap { ElementType(safetensors: $0) })
        #expect(named == Set(ElementType.allCases))
        #expect(Set((1...16).compactMap { ElementType(onnx: Int32($0)) }) == Set(ElementType.allCases))
    }
}
