import Foundation

/// A read-only ZIP archive (PyTorch checkpoints, Keras `.keras` files): stored or deflated
/// entries, ZIP64 sizes. The central directory is trusted only after checking it: names without
/// `..` or a leading `/`, every entry inside the file and not overlapping another, inflation
/// stopping at the declared size.
public struct ZipArchive {
    public struct Entry: Sendable {
        public let name: String
        public let method: Int
        public let compressedSize: Int
        public let size: Int
        /// Offset of the entry's data (after its local header).
        public let dataOffset: Int
    }

    public let entries: [Entry]
    let data: Data
    let source: String

    static let format = "zip"

    public init(data: Data, source: String) throws(FormatError) {
        self.data = data
        self.source = source
        func fail(_ place: String, _ reason: String) -> FormatError { .malformed(format: Self.format, where: "\(source) \(place)", reason: reason) }
        let bytes = ByteView(data: data)  // the archive itself is never copied: only its headers are read
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        func u64(_ at: Int) -> Int { Int(UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 & 0x7FFF_FFFF_FFFF_FFFF) }
        // End of central directory: the last signature within 64 KiB of the end.
        guard bytes.count >= 22 else { throw fail("end", "too short to be a zip archive") }
        var end = -1
        var at = bytes.count - 22
        while at >= max(0, bytes.count - 22 - 65_535) {
            if bytes[at] == 0x50 && bytes[at + 1] == 0x4B && bytes[at + 2] == 0x05 && bytes[at + 3] == 0x06 { end = at; break }
            at -= 1
        }
        guard end >= 0 else { throw fail("end", "no end-of-central-directory record") }
        var count = u16(end + 10), directorySize = u32(end + 12), directoryOffset = u32(end + 16)
        // ZIP64: a locator just before the end record points at the ZIP64 end record.
        if (count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF), end >= 20,
           u32(end - 20) == 0x0706_4B50 {
            let record = u64(end - 20 + 8)
            guard Checked.fits(record, 56, in: bytes.count), u32(record) == 0x0606_4B50 else { throw fail("zip64 end record", "missing or outside the file") }
            count = u64(record + 32)
            directorySize = u64(record + 40)
            directoryOffset = u64(record + 48)
        }
        guard count <= 1_000_000, Checked.fits(directoryOffset, directorySize, in: bytes.count) else {
            throw fail("central directory", "offset \(directoryOffset) + size \(directorySize) outside the file of \(bytes.count) bytes")
        }
        var entries: [Entry] = []
        var cursor = directoryOffset
        for index in 0..<count {
            guard Checked.fits(cursor, 46, in: bytes.count), u32(cursor) == 0x0201_4B50 else { throw fail("central directory entry \(index)", "bad signature") }
            let method = u16(cursor + 10)
            var compressed = u32(cursor + 20), size = u32(cursor + 24)
            let nameLength = u16(cursor + 28), extraLength = u16(cursor + 30), commentLength = u16(cursor + 32)
            var localOffset = u32(cursor + 42)
            guard Checked.fits(cursor + 46, nameLength + extraLength + commentLength, in: bytes.count) else { throw fail("central directory entry \(index)", "runs past the end") }
            let name = String(decoding: bytes[(cursor + 46)..<(cursor + 46 + nameLength)], as: UTF8.self)
            // ZIP64 extra field (id 1): the sizes and offset that overflowed, in order.
            var extra = cursor + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = u16(extra), length = u16(extra + 2)
                guard extra + 4 + length <= extraEnd else { throw fail("central directory entry \(index)", "an extra field runs past its header") }
                if id == 1 {
                    var field = extra + 4
                    if size == 0xFFFF_FFFF, field + 8 <= extra + 4 + length { size = u64(field); field += 8 }
                    if compressed == 0xFFFF_FFFF, field + 8 <= extra + 4 + length { compressed = u64(field); field += 8 }
                    if localOffset == 0xFFFF_FFFF, field + 8 <= extra + 4 + length { localOffset = u64(field) }
                }
                extra += 4 + length
            }
            cursor += 46 + nameLength + extraLength + commentLength
            guard !name.hasPrefix("/"), !name.split(separator: "/").contains(".."), !name.contains("\\") else {
                throw fail("entry '\(name)'", "unsafe name")
            }
            guard method == 0 || method == 8 else { throw FormatError.unsupported(format: Self.format, what: "compression method \(method) of entry '\(name)' in \(source)") }
            guard Checked.fits(localOffset, 30, in: bytes.count), u32(localOffset) == 0x0403_4B50 else { throw fail("entry '\(name)'", "local header missing at \(localOffset)") }
            let dataOffset = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28)
            // (localOffset + 30 is inside the file, the two header lengths are 16-bit: no overflow.)
            guard size >= 0, Checked.fits(dataOffset, compressed, in: bytes.count) else { throw fail("entry '\(name)'", "data runs past the end of the file") }
            if method == 0 && compressed != size { throw fail("entry '\(name)'", "stored entry with different sizes") }
            entries.append(Entry(name: name, method: method, compressedSize: compressed, size: size, dataOffset: dataOffset))
        }
        // No two entries' data may overlap.
        let sorted = entries.sorted { $0.dataOffset < $1.dataOffset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.dataOffset + a.compressedSize > b.dataOffset {
            throw fail("entry '\(b.name)'", "overlaps entry '\(a.name)'")
        }
        guard Set(entries.map(\.name)).count == entries.count else { throw fail("central directory", "duplicate entry names") }
        self.entries = entries
    }

    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }

    /// Where a stored (uncompressed) entry's bytes lie in the archive's data, to read them in place.
    func storedRange(_ entry: Entry) -> Range<Int>? {
        entry.method == 0 && entry.compressedSize == entry.size ? entry.dataOffset..<(entry.dataOffset + entry.size) : nil
    }

    /// The entry's bytes (inflated if deflated, never beyond its declared size).
    public func contents(_ entry: Entry, limit: Int = 4 << 30) throws(FormatError) -> Data {
        guard entry.size <= limit else { throw .tooLarge(format: Self.format, what: "entry '\(entry.name)' of \(entry.size) bytes", limit: "\(limit) bytes") }
        // A stored entry is the archive's own bytes (a slice, not a copy: a model's weights file).
        if let range = storedRange(entry) { return ByteView(data: data).data(range) }
        let raw = data.subdata(in: (data.startIndex + entry.dataOffset)..<(data.startIndex + entry.dataOffset + entry.compressedSize))
        if entry.method == 0 { return raw }
        return try Inflate.decompress(raw, wrapping: .raw, limit: entry.size, expected: entry.size, what: "\(source) entry '\(entry.name)'")
    }
}
