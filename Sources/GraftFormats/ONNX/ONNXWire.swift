import Foundation
import SwiftProtobuf
import GraftTensor

/// Reading an ONNX file without a second copy of its weights: the protobuf is walked at the wire
/// level, the model decoded without its initializers, and each initializer (a TensorProto) decoded
/// on its own when the importer asks for it, so at most one tensor's raw bytes are copied at once.
public struct ONNXFile {
    /// The model, its graph without initializers.
    public let model: Onnx_ModelProto
    /// Where each of the graph's initializers lies in the file, in order.
    let initializerRanges: [Range<Int>]
    let data: Data
    let source: String

    public var initializerCount: Int { initializerRanges.count }

    public init(_ data: Data, source: String) throws(FormatError) {
        self.data = data
        self.source = source
        var rest = Data(), graph = Data(), initializers: [Range<Int>] = []
        // ModelProto field 7 is the graph; GraphProto field 5 its initializers.
        try Self.fields(data, 0..<data.count, source: source) { field, wire, whole, payload throws(FormatError) in
            guard field == 7 && wire == 2 else { rest.append(Self.bytes(data, whole)); return }
            try Self.fields(data, payload, source: source) { field, wire, whole, _ in
                if field == 5 && wire == 2 { initializers.append(whole) } else { graph.append(Self.bytes(data, whole)) }
            }
        }
        rest.append(Self.varint(7 << 3 | 2))
        rest.append(Self.varint(UInt64(graph.count)))
        rest.append(graph)
        do { model = try Onnx_ModelProto(serializedBytes: rest) } catch {
            throw .malformed(format: "onnx", where: source, reason: "not a valid ONNX protobuf (\(error))")
        }
        initializerRanges = initializers.map { whole in
            // The payload after the tag and the length (re-walked: cheap, and already validated).
            var at = whole.lowerBound
            _ = Self.readVarint(data, &at, end: whole.upperBound)
            _ = Self.readVarint(data, &at, end: whole.upperBound)
            return at..<whole.upperBound
        }
    }

    /// Decodes initializer `index`; its bytes in the file are handed back to the kernel afterwards
    /// when `release` is set.
    public func initializer(_ index: Int, release: Bool = true) throws(FormatError) -> Onnx_TensorProto {
        try Cancellation.check(source)
        let range = initializerRanges[index]
        let proto: Onnx_TensorProto
        do { proto = try Onnx_TensorProto(serializedBytes: Self.bytes(data, range)) } catch {
            throw .malformed(format: "onnx", where: source, reason: "initializer \(index) is not a valid TensorProto (\(error))")
        }
        if release { MappedPages.release(data, range) }
        return proto
    }

    static func bytes(_ data: Data, _ range: Range<Int>) -> Data {
        data[(data.startIndex + range.lowerBound)..<(data.startIndex + range.upperBound)]
    }

    static func varint(_ value: UInt64) -> Data {
        var value = value, out = Data()
        repeat {
            out.append(UInt8(value & 0x7F) | (value >= 0x80 ? 0x80 : 0))
            value >>= 7
        } while value > 0
        return out
    }

    /// A varint at `at` (advanced past it), or nil if it runs past `end` or over 10 bytes.
    static func readVarint(_ data: Data, _ at: inout Int, end: Int) -> UInt64? {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard at < end else { return nil }
            let byte = data[data.startIndex + at]
            at += 1
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte < 0x80 { return value }
        }
        return nil
    }

    /// Calls `body(field, wire type, the field's bytes, its payload)` for each field in `range`.
    static func fields(_ data: Data, _ range: Range<Int>, source: String,
                       _ body: (Int, Int, Range<Int>, Range<Int>) throws(FormatError) -> Void) throws(FormatError) {
        func fail(_ at: Int, _ reason: String) -> FormatError { .malformed(format: "onnx", where: "\(source) byte \(at)", reason: reason) }
        var at = range.lowerBound
        while at < range.upperBound {
            let start = at
            guard let tag = readVarint(data, &at, end: range.upperBound) else { throw fail(start, "a field tag runs past its message") }
            let wire = Int(tag & 7)
            guard tag >> 3 > 0, tag >> 3 < 1 << 29 else { throw fail(start, "field number \(tag >> 3) is out of range") }
            let payloadStart: Int, payloadEnd: Int
            switch wire {
            case 0:
                guard readVarint(data, &at, end: range.upperBound) != nil else { throw fail(start, "a varint runs past its message") }
                (payloadStart, payloadEnd) = (start, at)
            case 1, 5:
                let size = wire == 1 ? 8 : 4
                guard range.upperBound - at >= size else { throw fail(start, "a fixed-size field runs past its message") }
                (payloadStart, payloadEnd) = (at, at + size)
                at += size
            case 2:
                guard let length = readVarint(data, &at, end: range.upperBound), length <= UInt64(range.upperBound - at) else {
                    throw fail(start, "a length-delimited field runs past its message")
                }
                (payloadStart, payloadEnd) = (at, at + Int(length))
                at += Int(length)
            default: throw fail(start, "wire type \(wire) is not used by ONNX")
            }
            try body(Int(tag >> 3), wire, start..<at, payloadStart..<payloadEnd)
        }
    }
}
