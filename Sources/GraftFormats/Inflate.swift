import CZlib
import Foundation

/// Decompression of deflate data (gzip members, zlib streams, raw deflate) through zlib.
///
/// Every call states the most bytes it will produce; inflation stops there with an error, so a
/// small hostile stream cannot expand into all of memory.
public enum Inflate {
    public enum Wrapping: Sendable {
        /// A gzip member (header with any of FTEXT, FEXTRA, FNAME, FCOMMENT, FHCRC; CRC checked).
        case gzip
        /// A zlib stream (2-byte header, Adler-32 checked).
        case zlib
        /// Raw deflate (zip entries).
        case raw

        var windowBits: Int32 {
            switch self {
            case .gzip: return 16 + 15
            case .zlib: return 15
            case .raw: return -15
            }
        }
    }

    /// Inflates `data` into at most `limit` bytes. `expected`, when given, must match exactly.
    public static func decompress(_ data: Data, wrapping: Wrapping, limit: Int, expected: Int? = nil,
                                  what: String = "deflate stream") throws(FormatError) -> Data {
        var stream = z_stream()
        guard graft_inflate_init2(&stream, wrapping.windowBits) == Z_OK else {
            throw .malformed(format: "deflate", where: what, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        var status: Int32 = Z_OK
        let result: FormatError? = data.withUnsafeBytes { (input: UnsafeRawBufferPointer) -> FormatError? in
            guard let base = input.baseAddress else { return .malformed(format: "deflate", where: what, reason: "empty input") }
            stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            repeat {
                let produced: Int = buffer.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return chunk - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && produced > 0) else {
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    return .malformed(format: "deflate", where: what, reason: status == Z_BUF_ERROR ? "data is truncated" : message)
                }
                guard output.count + produced <= limit else {
                    return .tooLarge(format: "deflate", what: "\(what) inflated size", limit: "\(limit) bytes")
                }
                output.append(contentsOf: buffer[0..<produced])
                if status != Z_STREAM_END && stream.avail_in == 0 && produced < chunk {
                    return .malformed(format: "deflate", where: what, reason: "data is truncated")
                }
            } while status != Z_STREAM_END
            return nil
        }
        if let result { throw result }
        if let expected, output.count != expected {
            throw .malformed(format: "deflate", where: what, reason: "inflated to \(output.count) bytes, expected \(expected)")
        }
        return output
    }
}
