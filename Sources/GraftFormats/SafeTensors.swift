import Foundation
import GraftTensor

/// Named tensors with string metadata: what every weight file becomes before it meets a model.
public struct StateDict: Sendable {
    public var tensors: [(name: String, tensor: Tensor)]
    public var metadata: [String: String]

    public init(tensors: [(name: String, tensor: Tensor)] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
}

/// The safetensors format (graft's native weight format): an 8-byte little-endian header length,
/// a JSON header `{"__metadata__": {…}, "name": {"dtype", "shape", "data_offsets"}}`, then the data.
///
/// The reader treats the bytes as hostile: the header's size is capped, every tensor's dtype, rank,
/// shape and offsets are checked against the bytes present (contiguous, in bounds, not overlapping,
/// covering the data exactly) before anything is allocated.
public enum SafeTensors {
    static let format = "safetensors"
    /// The largest header accepted (the reference implementation's limit).
    public static let headerLimit = 100 << 20

    public static func read(_ data: Data, name: String = "file") throws(FormatError) -> StateDict {
        func fail(_ place: String, _ reason: String) -> FormatError { .malformed(format: format, where: "\(name) \(place)", reason: reason) }
        guard data.count >= 8 else { throw fail("header", "file is truncated (\(data.count) bytes)") }
        let length = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(headerLimit) else {
            throw .tooLarge(format: format, what: "\(name) header of \(length) bytes", limit: "\(headerLimit) bytes")
        }
        let headerLength = Int(length)
        guard data.count >= 8 + headerLength else { throw fail("header", "header claims \(headerLength) bytes, \(data.count - 8) present") }
        let headerBytes = data.subdata(in: data.startIndex + 8..<data.startIndex + 8 + headerLength)
        guard headerBytes.first == UInt8(ascii: "{") else { throw fail("header", "header is not a JSON object") }
        guard let parsed = JSONValue.parse(headerBytes) else { throw fail("header", "header is not valid JSON") }
        guard let header = parsed.object else { throw fail("header", "header is not a JSON object") }
        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let dictionary = raw.object else { throw fail("__metadata__", "must map strings to strings") }
            for (key, value) in dictionary {
                guard let text = value.string else { throw fail("__metadata__", "value of '\(key)' is not a string") }
                metadata[key] = text
            }
        }
        let dataStart = 8 + headerLength
        let available = data.count - dataStart
        var entries: [(name: String, dtype: ElementType, shape: [Int], begin: Int, end: Int)] = []
        // In name order, so a file with several faults is refused for the same one every time.
        for (key, value) in header.sorted(by: { $0.key < $1.key }) where key != "__metadata__" {
            guard let info = value.object else { throw fail("tensor '\(key)'", "entry is not an object") }
            guard let dtypeName = info["dtype"]?.string else { throw fail("tensor '\(key)'", "no dtype") }
            guard let dtype = ElementType(safetensors: dtypeName) else { throw FormatError.unsupported(format: format, what: "dtype \(dtypeName) of tensor '\(key)' in \(name)") }
            guard let shapeValues = info["shape"]?.array else { throw fail("tensor '\(key)'", "no shape") }
            guard shapeValues.count <= 32 else { throw fail("tensor '\(key)'", "rank \(shapeValues.count) is above 32") }
            var shape: [Int] = [], count = 1
            for dim in shapeValues {
                guard let size = dim.int, size >= 0 else {
                    throw fail("tensor '\(key)'", "shape \(shapeValues) has a bad dimension")
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: size)
                guard !overflow, product <= 1 << 32 else { throw FormatError.tooLarge(format: format, what: "tensor '\(key)' of shape \(shapeValues)", limit: "2^32 elements") }
                shape.append(size)
                count = product
            }
            guard let offsets = info["data_offsets"]?.array, offsets.count == 2,
                  let begin = offsets[0].int, let end = offsets[1].int, begin >= 0, end >= begin else {
                throw fail("tensor '\(key)'", "data_offsets must be [begin, end]")
            }
            guard end - begin == count * dtype.size else {
                throw fail("tensor '\(key)'", "data_offsets span \(end - begin) bytes, shape \(shape) of \(dtypeName) needs \(count * dtype.size)")
            }
            entries.append((key, dtype, shape, begin, end))
        }
        // In the file's order: the first tensor that runs past the data is the one named; then
        // contiguous, non-overlapping, exact coverage.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var position = 0
        for entry in entries {
            guard entry.end <= available else { throw fail("tensor '\(entry.name)'", "data ends at \(entry.end), file has \(available) bytes of data") }
            guard entry.begin == position else {
                throw fail("tensor '\(entry.name)'", entry.begin < position ? "data overlaps the previous tensor's" : "gap of \(entry.begin - position) bytes before its data")
            }
            position = entry.end
        }
        guard position == available else { throw fail("data", "\(available - position) bytes after the last tensor") }
        var tensors: [(String, Tensor)] = []
        for entry in entries {
            try Cancellation.check(name)
            let start = dataStart + entry.begin, count = (entry.end - entry.begin) / entry.dtype.size
            do {
                tensors.append((entry.name, try Tensor(shape: entry.shape) { out in
                    data.withUnsafeBytes { raw in
                        guard let base = raw.baseAddress else { return }
                        entry.dtype.decode(base + start, count: count, into: out)
                    }
                }))
            } catch {
                throw fail("tensor '\(entry.name)'", "\(error)")
            }
            MappedPages.release(data, start..<(dataStart + entry.end))
        }
        return StateDict(tensors: tensors, metadata: metadata)
    }

    /// The bytes of a safetensors file holding `state` (F32, in the given order, header padded to 8 bytes).
    public static func encode(_ state: StateDict) throws(FormatError) -> Data {
        var header = "{"
        if !state.metadata.isEmpty {
            let metadata = try json(state.metadata)
            header += "\"__metadata__\":\(metadata)"
        }
        var offset = 0
        var seen = Set<String>()
        for (name, tensor) in state.tensors {
            guard seen.insert(name).inserted else { throw .malformed(format: format, where: "tensor '\(name)'", reason: "name used twice") }
            if header.count > 1 { header += "," }
            header += "\(try json(name)):{\"dtype\":\"F32\",\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + 4 * tensor.count)]}"
            offset += 4 * tensor.count
        }
        header += "}"
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        var data = Data()
        data.reserveCapacity(8 + header.utf8.count + offset)
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        for (_, tensor) in state.tensors {
            tensor.withUnsafeBufferPointer { buffer in
                // Whole tensors at once where the host is little-endian (value by value, an 81 MB
                // ResNet-34 took 2.5 s to encode).
                if littleEndianHost { data.append(buffer) } else {
                    for value in buffer { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
                }
            }
        }
        return data
    }

    private static func json(_ value: Any) throws(FormatError) -> String {
        do {
            let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw .malformed(format: format, where: "metadata", reason: "cannot be written as JSON")
        }
    }
}
