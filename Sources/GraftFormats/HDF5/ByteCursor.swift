import Foundation

/// Bounds-checked little-endian reads over a file's bytes: every read names where it failed.
struct ByteCursor {
    let bytes: ByteView
    let format: String
    let source: String
    var position: Int

    init(_ bytes: ByteView, at position: Int, format: String, source: String) {
        self.bytes = bytes
        self.position = position
        self.format = format
        self.source = source
    }

    func fail(_ reason: String, at offset: Int? = nil) -> FormatError {
        .malformed(format: format, where: "\(source) offset \(offset ?? position)", reason: reason)
    }

    mutating func skip(_ count: Int) throws(FormatError) {
        // The position may come from an address in the file: anywhere, negative included.
        guard Checked.fits(position, count, in: bytes.count) else { throw fail("needs \(count) more bytes, \(position >= 0 && position <= bytes.count ? bytes.count - position : 0) remain (file is truncated)") }
        position += count
    }

    mutating func take(_ count: Int) throws(FormatError) -> Slice<ByteView> {
        let start = position
        try skip(count)
        return bytes[start..<(start + count)]
    }

    mutating func u8() throws(FormatError) -> Int { Int(try take(1).first ?? 0) }

    /// An unsigned little-endian integer of `size` bytes (1–8).
    mutating func uint(_ size: Int) throws(FormatError) -> Int {
        guard (1...8).contains(size) else { throw fail("integer of \(size) bytes") }
        let raw = try take(size)
        var value: UInt64 = 0
        for (i, b) in raw.enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
        guard value <= UInt64(Int.max) else { throw fail("value \(value) is too large") }
        return Int(value)
    }

    /// A file address of `size` bytes; all ones (HDF5's "undefined address") gives -1.
    mutating func address(_ size: Int) throws(FormatError) -> Int {
        let raw = Array(try take(size))
        if raw.allSatisfy({ $0 == 0xFF }) { return -1 }
        var value: UInt64 = 0
        for (i, b) in raw.enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
        guard value <= UInt64(Int.max) else { throw fail("address \(value) is too large") }
        return Int(value)
    }

    mutating func u16() throws(FormatError) -> Int { try uint(2) }
    mutating func u32() throws(FormatError) -> Int { try uint(4) }

    mutating func signature(_ text: String) throws(FormatError) {
        let at = position
        guard Array(try take(text.utf8.count)) == Array(text.utf8) else { throw fail("expected the '\(text)' signature", at: at) }
    }

    /// A NUL-terminated string starting here (at most `limit` bytes).
    mutating func cString(limit: Int = 1 << 16) throws(FormatError) -> String {
        guard let end = bytes[position..<min(bytes.count, position + limit)].firstIndex(of: 0) else { throw fail("unterminated name") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }
}
