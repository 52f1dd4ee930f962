import Foundation
import GraftTensor

/// A value read from an HDF5 attribute.
public enum HDF5Value: Sendable, Equatable {
    case strings([String])
    case numbers([Double])

    /// The strings, or an empty list for "no elements of any type" (Keras writes empty float arrays).
    public var strings: [String]? {
        switch self {
        case let .strings(s): return s
        case let .numbers(n): return n.isEmpty ? [] : nil
        }
    }
    public var string: String? { strings?.first }
}

/// graft's own read-only HDF5 reader, for weight files from the internet (Keras `.h5`): safe Swift,
/// every size and address checked against the file before use, a named refusal for everything
/// outside what h5py and Keras write.
///
/// Supported: superblock versions 0–3; object headers v1 and v2 with continuation blocks; groups as
/// symbol tables (v1 B-tree + local heap + SNOD nodes, any depth) or compact link messages;
/// attributes (v1–v3) in object headers, including variable-length strings in global heap
/// collections; datasets with compact, contiguous or chunked (v1 B-tree) layout, deflate and
/// shuffle filters; fixed-point, IEEE float and string types. Refused by name: external storage,
/// virtual datasets, soft and external links, dense (fractal-heap) link or attribute storage,
/// other filters and chunk indexes.
public final class HDF5File {
    let bytes: ByteView
    let source: String
    var offsetSize = 8, lengthSize = 8
    var base = 0
    public private(set) var rootAddress = 0
    private var headers: [Int: [Message]] = [:]
    static let format = "hdf5"

    struct Message { let type: Int; let data: Slice<ByteView>; let start: Int }

    public init(data: Data, source: String) throws(FormatError) {
        bytes = ByteView(data: data)
        self.source = source
        try readSuperblock()
    }

    private func cursor(at position: Int) -> ByteCursor { ByteCursor(bytes, at: position, format: Self.format, source: source) }

    private func fail(_ place: String, _ reason: String) -> FormatError { .malformed(format: Self.format, where: "\(source) \(place)", reason: reason) }
    private func unsupported(_ what: String) -> FormatError { .unsupported(format: Self.format, what: "\(what) in \(source)") }

    /// The superblock sits at 0, 512, 1024, 2048, … (after a user block).
    private func readSuperblock() throws(FormatError) {
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        var at = 0
        while at + 8 <= bytes.count, Array(bytes[at..<(at + 8)]) != signature {
            at = at == 0 ? 512 : at * 2
        }
        guard at + 8 <= bytes.count else { throw fail("superblock", "no HDF5 signature (not an HDF5 file)") }
        var c = cursor(at: at + 8)
        let version = try c.u8()
        switch version {
        case 0, 1:
            try c.skip(4)                       // free-space, root symbol table, reserved, shared header versions
            offsetSize = try c.u8(); lengthSize = try c.u8()
            try c.skip(1)
            try c.skip(4)                       // group leaf K, internal K
            try c.skip(4)                       // consistency flags
            if version == 1 { try c.skip(4) }   // indexed storage K + reserved
            guard [2, 4, 8].contains(offsetSize), [2, 4, 8].contains(lengthSize) else { throw fail("superblock", "offset size \(offsetSize) / length size \(lengthSize)") }
            base = try c.address(offsetSize)
            try c.skip(3 * offsetSize)          // free space, end of file, driver information
            try c.skip(offsetSize)              // root: link name offset
            rootAddress = try c.address(offsetSize)
        case 2, 3:
            offsetSize = try c.u8(); lengthSize = try c.u8()
            try c.skip(1)
            guard [2, 4, 8].contains(offsetSize), [2, 4, 8].contains(lengthSize) else { throw fail("superblock", "offset size \(offsetSize) / length size \(lengthSize)") }
            base = try c.address(offsetSize)
            try c.skip(2 * offsetSize)          // superblock extension, end of file
            rootAddress = try c.address(offsetSize)
        default:
            throw unsupported("superblock version \(version)")
        }
        if base < 0 { base = 0 }
        guard base == 0 || base == at else { throw unsupported("base address \(base)") }
        guard rootAddress >= 0, rootAddress < bytes.count else { throw fail("superblock", "root group address \(rootAddress) is outside the file") }
    }

    // MARK: Object headers

    /// The messages of the object header at `address` (v1 or v2), following continuation blocks.
    func messages(at address: Int) throws(FormatError) -> [Message] {
        if let cached = headers[address] { return cached }
        guard address >= 0, address < bytes.count else { throw fail("object header", "address \(address) is outside the file") }
        var found: [Message] = []
        var blocks: [(Int, Int, Bool)] = []   // (start, length, is first v2 chunk)
        var visited = Set<Int>()
        var c = cursor(at: address)
        var version = 1
        var v2Flags = 0
        if Array(bytes[address..<min(bytes.count, address + 4)]) == Array("OHDR".utf8) {
            try c.skip(4)
            version = try c.u8()
            guard version == 2 else { throw unsupported("object header version \(version)") }
            v2Flags = try c.u8()
            if v2Flags & 0x20 != 0 { try c.skip(16) }   // times
            if v2Flags & 0x10 != 0 { try c.skip(4) }    // attribute phase change values
            let size = try c.uint(1 << (v2Flags & 0x3))
            blocks.append((c.position, size, true))
        } else {
            version = try c.u8()
            guard version == 1 else { throw unsupported("object header version \(version) at \(address)") }
            try c.skip(1)
            _ = try c.u16()                              // number of messages
            try c.skip(4)                                // reference count
            let size = try c.u32()
            try c.skip(4)                                // alignment padding
            blocks.append((c.position, size, false))
        }
        var index = 0
        while index < blocks.count {
            let (start, length, _) = blocks[index]
            index += 1
            guard visited.insert(start).inserted, visited.count <= 10_000 else { throw fail("object header at \(address)", "continuation blocks form a cycle") }
            guard Checked.fits(start, length, in: bytes.count) else { throw fail("object header at \(address)", "a block of \(length) bytes at \(start) runs past the end of the file") }
            var m = cursor(at: start)
            var end = start + length
            if version == 2 {
                if index > 1 { try m.signature("OCHK") }
                end -= 4                                 // checksum
            }
            while m.position < end {
                let type: Int, size: Int
                if version == 1 {
                    guard end - m.position >= 8 else { break }
                    type = try m.u16(); size = try m.u16(); try m.skip(4)
                } else {
                    guard end - m.position >= 4 else { break }
                    type = try m.u8(); size = try m.u16()
                    let flags = try m.u8()
                    if v2Flags & 0x04 != 0 { try m.skip(2) }   // creation order
                    _ = flags
                }
                guard size <= end - m.position else { throw fail("object header at \(address)", "message of \(size) bytes runs past its block") }
                let dataStart = m.position
                let data = try m.take(size)
                if type == 0x10 {                        // continuation
                    var cc = cursor(at: dataStart)
                    let next = try cc.address(offsetSize), nextLength = try cc.uint(lengthSize)
                    blocks.append((next, nextLength, false))
                } else if type != 0 {
                    found.append(Message(type: type, data: data, start: dataStart))
                }
            }
        }
        headers[address] = found
        return found
    }

    // MARK: Groups

    /// The members of the group at `address`: (name, object header address), in storage order.
    public func children(of address: Int) throws(FormatError) -> [(String, Int)] {
        var result: [(String, Int)] = []
        for message in try messages(at: address) {
            switch message.type {
            case 0x11:                                          // symbol table
                var c = cursor(at: message.start)
                let tree = try c.address(offsetSize), heap = try c.address(offsetSize)
                let names = try localHeap(heap)
                var visited = Set<Int>()
                try walkGroupTree(tree, heap: names, depth: 0, visited: &visited, into: &result)
            case 0x06:                                          // link message (compact storage)
                if let link = try link(message) { result.append(link) }
            case 0x02:                                          // link info
                var c = cursor(at: message.start)
                _ = try c.u8()
                let flags = try c.u8()
                if flags & 1 != 0 { try c.skip(8) }
                let fractalHeap = try c.address(offsetSize)
                if fractalHeap >= 0 { throw unsupported("dense link storage (fractal heap) of the group at \(address)") }
            default: break
            }
        }
        return result
    }

    private func link(_ message: Message) throws(FormatError) -> (String, Int)? {
        var c = cursor(at: message.start)
        guard try c.u8() == 1 else { throw unsupported("link message version") }
        let flags = try c.u8()
        var type = 0
        if flags & 0x08 != 0 { type = try c.u8() }
        if flags & 0x04 != 0 { try c.skip(8) }
        if flags & 0x10 != 0 { try c.skip(1) }
        let nameLength = try c.uint(1 << (flags & 0x3))
        let name = String(decoding: try c.take(nameLength), as: UTF8.self)
        switch type {
        case 0: return (name, try c.address(offsetSize))
        case 1: throw unsupported("soft link '\(name)'")
        case 64: throw unsupported("external link '\(name)'")
        default: throw unsupported("link type \(type) of '\(name)'")
        }
    }

    /// The data segment of a local heap (group member names).
    private func localHeap(_ address: Int) throws(FormatError) -> Slice<ByteView> {
        var c = cursor(at: address)
        try c.signature("HEAP")
        try c.skip(4)
        let size = try c.uint(lengthSize)
        try c.skip(lengthSize)
        let data = try c.address(offsetSize)
        guard Checked.fits(data, size, in: bytes.count) else { throw fail("local heap at \(address)", "data segment outside the file") }
        return bytes[data..<(data + size)]
    }

    private func walkGroupTree(_ address: Int, heap: Slice<ByteView>, depth: Int, visited: inout Set<Int>, into result: inout [(String, Int)]) throws(FormatError) {
        guard depth < 64, visited.insert(address).inserted else { throw fail("group B-tree at \(address)", "too deep or cyclic") }
        var c = cursor(at: address)
        try c.signature("TREE")
        guard try c.u8() == 0 else { throw fail("group B-tree at \(address)", "not a group node") }
        let level = try c.u8(), entries = try c.u16()
        try c.skip(2 * offsetSize)
        for _ in 0..<entries {
            try c.skip(lengthSize)                       // key
            let child = try c.address(offsetSize)
            if level > 0 {
                try walkGroupTree(child, heap: heap, depth: depth + 1, visited: &visited, into: &result)
            } else {
                guard visited.insert(child).inserted else { throw fail("group B-tree at \(address)", "symbol node \(child) listed twice") }
                var s = cursor(at: child)
                try s.signature("SNOD")
                try s.skip(2)
                let count = try s.u16()
                for _ in 0..<count {
                    let nameOffset = try s.uint(offsetSize)
                    let header = try s.address(offsetSize)
                    try s.skip(4 + 4 + 16)
                    guard nameOffset < heap.count else { throw fail("symbol node at \(child)", "name offset \(nameOffset) outside the heap") }
                    let start = heap.startIndex + nameOffset
                    let end = heap[start...].firstIndex(of: 0) ?? heap.endIndex
                    result.append((String(decoding: heap[start..<end], as: UTF8.self), header))
                }
            }
        }
    }

    /// Follows a `/`-separated path from the root.
    public func address(of path: String) throws(FormatError) -> Int {
        var address = rootAddress
        for part in path.split(separator: "/") where !part.isEmpty {
            guard let next = try children(of: address).first(where: { $0.0 == part })?.1 else {
                throw fail("path '\(path)'", "no member '\(part)'")
            }
            address = next
        }
        return address
    }

    // MARK: Types and spaces

    struct Datatype {
        enum Kind { case integer(signed: Bool), float, string, variableString, other(Int) }
        let kind: Kind
        let size: Int
        let bigEndian: Bool

        /// The element type its values decode as: integers and floats as they are; a dataset of
        /// another class (an enum, h5py's booleans) as unsigned integers of its size; nil for sizes
        /// no number has.
        var element: ElementType? {
            switch kind {
            case let .integer(signed): return ElementType(hdf5Integer: size, signed: signed)
            case .float: return ElementType(hdf5Float: size)
            default: return ElementType(hdf5Integer: size, signed: false)
            }
        }
    }

    /// A datatype message. Numbers decode at the sizes HDF5 writers use (integers of 1, 2, 4 or 8
    /// bytes, floats of 2, 4 or 8): a file claiming a 9-byte integer trapped in the decoder (found by
    /// fuzzing). A variable-length type names its base type, which is read once, not recursively.
    private func datatype(_ c: inout ByteCursor, nested: Bool = false) throws(FormatError) -> Datatype {
        let classAndVersion = try c.u8()
        let bits = try c.uint(3)
        let size = try c.u32()
        let typeClass = classAndVersion & 0x0F
        switch typeClass {
        case 0:
            try c.skip(4)
            guard [1, 2, 4, 8].contains(size) else { throw fail("datatype", "integers of \(size) bytes are not supported (1, 2, 4 or 8)") }
            return Datatype(kind: .integer(signed: bits & 0x08 != 0), size: size, bigEndian: bits & 1 != 0)
        case 1:
            try c.skip(12)
            guard [2, 4, 8].contains(size) else { throw fail("datatype", "floats of \(size) bytes are not supported (2, 4 or 8)") }
            return Datatype(kind: .float, size: size, bigEndian: bits & 1 != 0)
        case 3:
            return Datatype(kind: .string, size: size, bigEndian: false)
        case 9:
            // The base type (of a string: characters) is not needed; a variable-length base of a
            // variable-length type is refused rather than followed.
            guard !nested else { throw fail("datatype", "variable-length types nest") }
            _ = try datatype(&c, nested: true)
            return Datatype(kind: bits & 0x0F == 1 ? .variableString : .other(9), size: size, bigEndian: false)
        default:
            return Datatype(kind: .other(typeClass), size: size, bigEndian: false)
        }
    }

    /// The dimensions of a dataspace message (a scalar is [], a null space nil).
    private func dataspace(_ c: inout ByteCursor) throws(FormatError) -> [Int]? {
        let version = try c.u8()
        let rank = try c.u8()
        let flags = try c.u8()
        var type = 1
        if version == 1 { try c.skip(5) } else if version == 2 { type = try c.u8() } else { throw unsupported("dataspace version \(version)") }
        guard rank <= 32 else { throw fail("dataspace", "rank \(rank) is above 32") }
        if type == 2 { return nil }
        var dims: [Int] = []
        for _ in 0..<rank { dims.append(try c.uint(lengthSize)) }
        if flags & 1 != 0 { try c.skip(rank * lengthSize) }
        if version == 1 && flags & 2 != 0 { try c.skip(rank * lengthSize) }
        return rank == 0 && version == 1 ? [] : dims
    }

    private func count(_ dims: [Int]) throws(FormatError) -> Int {
        var total = 1
        for d in dims {
            let (p, o) = total.multipliedReportingOverflow(by: d)
            guard !o, p <= 1 << 32 else { throw FormatError.tooLarge(format: Self.format, what: "dataspace \(dims) in \(source)", limit: "2^32 elements") }
            total = p
        }
        return total
    }

    // MARK: Attributes

    public func attributes(of address: Int) throws(FormatError) -> [String: HDF5Value] {
        var result: [String: HDF5Value] = [:]
        for message in try messages(at: address) {
            if message.type == 0x15 {
                var c = cursor(at: message.start)
                _ = try c.u8()
                let flags = try c.u8()
                if flags & 1 != 0 { try c.skip(2) }
                if try c.address(offsetSize) >= 0 { throw unsupported("dense attribute storage (fractal heap) of the object at \(address)") }
            }
            guard message.type == 0x0C else { continue }
            var c = cursor(at: message.start)
            let version = try c.u8()
            guard (1...3).contains(version) else { throw unsupported("attribute message version \(version)") }
            try c.skip(1)
            let nameSize = try c.u16(), typeSize = try c.u16(), spaceSize = try c.u16()
            if version == 3 { try c.skip(1) }
            func padded(_ n: Int) -> Int { version == 1 ? (n + 7) / 8 * 8 : n }
            let nameStart = c.position
            let name = String(decoding: try c.take(nameSize).prefix { $0 != 0 }, as: UTF8.self)
            c.position = nameStart
            try c.skip(padded(nameSize))
            let typeStart = c.position
            var tc = c
            let type = try datatype(&tc)
            c.position = typeStart
            try c.skip(padded(typeSize))
            let spaceStart = c.position
            var sc = c
            guard let dims = try dataspace(&sc) else { result[name] = .numbers([]); c.position = spaceStart; continue }
            c.position = spaceStart
            try c.skip(padded(spaceSize))
            let n = try count(dims)
            result[name] = try values(type, count: n, cursor: &c, what: "attribute '\(name)'")
        }
        return result
    }

    private func values(_ type: Datatype, count n: Int, cursor c: inout ByteCursor, what: String) throws(FormatError) -> HDF5Value {
        switch type.kind {
        case .string:
            var strings: [String] = []
            for _ in 0..<n { strings.append(String(decoding: try c.take(type.size).prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)) }
            return .strings(strings)
        case .variableString:
            var strings: [String] = []
            for _ in 0..<n {
                let length = try c.u32()
                let collection = try c.address(offsetSize)
                let index = try c.u32()
                strings.append(try globalHeapObject(collection, index: index, length: length))
            }
            return .strings(strings)
        case .integer, .float:
            let byteCount = try Checked.multiply(n, type.size, or: fail(what, "\(n) values of \(type.size) bytes overflow"))
            guard Checked.fits(c.position, byteCount, in: c.bytes.count) else { throw fail(what, "data runs past the end of the file") }
            let raw = try c.take(byteCount)
            return .numbers(try decode(Array(raw), type: type, shape: [n]).scalars.map(Double.init))
        case let .other(kind):
            throw unsupported("datatype class \(kind) of \(what)")
        }
    }

    private func globalHeapObject(_ address: Int, index: Int, length: Int) throws(FormatError) -> String {
        guard address >= 0 else { return "" }
        var c = cursor(at: address)
        try c.signature("GCOL")
        try c.skip(4)
        let size = try c.uint(lengthSize)
        guard size <= bytes.count - address else { throw fail("global heap at \(address)", "collection runs past the end of the file") }
        let end = address + size
        while c.position + 8 + lengthSize <= end {
            let objectIndex = try c.u16()
            try c.skip(6)
            let objectSize = try c.uint(lengthSize)
            if objectIndex == 0 { break }
            let data = try c.take(objectSize)
            try c.skip(min((8 - objectSize % 8) % 8, max(0, end - c.position)))
            if objectIndex == index { return String(decoding: data.prefix(length).prefix { $0 != 0 }, as: UTF8.self) }
        }
        throw fail("global heap at \(address)", "no object \(index)")
    }

    // MARK: Datasets

    /// A dataset's shape and values as Float32 (integers and float64 converted).
    public func dataset(at address: Int, name: String) throws(FormatError) -> (shape: [Int], values: [Float]) {
        let values = try tensor(at: address, name: name)
        return (values.shape, values.scalars)
    }

    /// A dataset as a Float32 tensor, decoded straight from the file into it.
    public func tensor(at address: Int, name: String) throws(FormatError) -> Tensor {
        try Cancellation.check(source)
        var type: Datatype?, dims: [Int]?, layout: Message?, filters: [Int] = []
        for message in try messages(at: address) {
            var c = cursor(at: message.start)
            switch message.type {
            case 0x03: type = try datatype(&c)
            case 0x01: dims = try dataspace(&c) ?? []
            case 0x08: layout = message
            case 0x07: throw unsupported("external storage of dataset '\(name)'")
            case 0x0B: filters = try filterPipeline(&c, name: name)
            default: break
            }
        }
        guard let type, let dims, let layout else { throw fail("dataset '\(name)'", "missing datatype, dataspace or layout") }
        guard case .integer = type.kind, [1, 2, 4, 8].contains(type.size) else {
            guard case .float = type.kind, [2, 4, 8].contains(type.size) else { throw unsupported("datatype of dataset '\(name)'") }
            return try readLayout(layout, type: type, dims: dims, filters: filters, name: name)
        }
        return try readLayout(layout, type: type, dims: dims, filters: filters, name: name)
    }

    private func filterPipeline(_ c: inout ByteCursor, name: String) throws(FormatError) -> [Int] {
        let version = try c.u8()
        let n = try c.u8()
        if version == 1 { try c.skip(6) }
        var ids: [Int] = []
        for _ in 0..<n {
            let id = try c.u16()
            var nameLength = 0
            if version == 1 || id >= 256 { nameLength = try c.u16() }
            try c.skip(2)                                           // flags
            let values = try c.u16()
            if nameLength > 0 { try c.skip(version == 1 ? (nameLength + 7) / 8 * 8 : nameLength) }
            try c.skip(4 * values)
            if version == 1 && values % 2 == 1 { try c.skip(4) }
            guard id == 1 || id == 2 else { throw unsupported("filter \(id) of dataset '\(name)' (graft reads deflate and shuffle)") }
            ids.append(id)
        }
        return ids
    }

    private func readLayout(_ message: Message, type: Datatype, dims: [Int], filters: [Int], name: String) throws(FormatError) -> Tensor {
        var c = cursor(at: message.start)
        let version = try c.u8()
        guard version == 3 || version == 4 else { throw unsupported("layout message version \(version) of dataset '\(name)'") }
        let layoutClass = try c.u8()
        let n = try count(dims)
        let byteCount = try Checked.multiply(n, type.size, or: fail("dataset '\(name)'", "\(n) values of \(type.size) bytes overflow"))
        switch layoutClass {
        case 0:
            let size = try c.u16()
            guard size >= byteCount else { throw fail("dataset '\(name)'", "compact data of \(size) bytes, \(byteCount) needed") }
            return try decode(Array(try c.take(byteCount)), type: type, shape: dims)
        case 1:
            let address = try c.address(offsetSize)
            let size = try c.uint(lengthSize)
            if address < 0 { return try decode([UInt8](repeating: 0, count: byteCount), type: type, shape: dims) }
            guard size >= byteCount, Checked.fits(address, byteCount, in: bytes.count) else {
                throw fail("dataset '\(name)'", "contiguous data of \(byteCount) bytes at \(address) runs past the end of the file")
            }
            // Read in one move from the mapped file, whose pages go back to the kernel after.
            defer { MappedPages.release(bytes.data, address..<(address + byteCount)) }
            return try decode(bytes.data(address..<(address + byteCount)), type: type, shape: dims)
        case 2:
            guard version == 3 else { throw unsupported("chunk index of layout version 4 for dataset '\(name)'") }
            let rank = try c.u8()
            let tree = try c.address(offsetSize)
            var chunk: [Int] = []
            for _ in 0..<rank { chunk.append(try c.u32()) }
            guard rank == dims.count + 1, chunk.last == type.size, chunk.dropLast().allSatisfy({ $0 > 0 }) else {
                throw fail("dataset '\(name)'", "chunk dimensions \(chunk) do not fit the dataspace \(dims)")
            }
            let output = try readChunks(tree, chunk: Array(chunk.dropLast()), dims: dims, elementSize: type.size, filters: filters, byteCount: byteCount, name: name)
            return try decode(output, type: type, shape: dims)
        case 3: throw unsupported("virtual dataset '\(name)'")
        default: throw unsupported("layout class \(layoutClass) of dataset '\(name)'")
        }
    }

    /// A chunk as its B-tree lists it: where in the dataset it starts, where its bytes are, and
    /// which filters were skipped for it.
    private struct ChunkEntry { let origin: [Int]; let address: Int; let stored: Int; let mask: Int }

    /// Every chunk of a chunked dataset, read from its B-tree (at most 64 levels, no cycles).
    private func chunkEntries(_ address: Int, rank: Int, depth: Int, visited: inout Set<Int>, into entries: inout [ChunkEntry], name: String) throws(FormatError) {
        guard depth < 64, visited.insert(address).inserted else { throw fail("chunk B-tree of '\(name)'", "too deep or cyclic") }
        var c = cursor(at: address)
        try c.signature("TREE")
        guard try c.u8() == 1 else { throw fail("chunk B-tree of '\(name)'", "not a chunk node") }
        let level = try c.u8(), count = try c.u16()
        try c.skip(2 * offsetSize)
        for _ in 0..<count {
            let stored = try c.u32()
            let mask = try c.u32()
            var origin: [Int] = []
            for _ in 0...rank { origin.append(try c.uint(8)) }
            let child = try c.address(offsetSize)
            if level > 0 {
                try chunkEntries(child, rank: rank, depth: depth + 1, visited: &visited, into: &entries, name: name)
            } else {
                guard Checked.fits(child, stored, in: bytes.count) else { throw fail("chunk of '\(name)'", "data at \(child) runs past the end of the file") }
                entries.append(ChunkEntry(origin: Array(origin.prefix(rank)), address: child, stored: stored, mask: mask))
            }
        }
    }

    /// Deflate's largest expansion (a stream of repeated bytes): no chunk inflates beyond 1,032×.
    static let deflateExpansion = 1032

    /// The bytes of a chunked dataset, assembled from its chunks. Its size is checked against what
    /// the chunks could hold before anything is allocated (a 21 KB file may not claim 2 GB).
    private func readChunks(_ tree: Int, chunk: [Int], dims: [Int], elementSize: Int, filters: [Int], byteCount: Int, name: String) throws(FormatError) -> [UInt8] {
        let rank = dims.count
        var entries: [ChunkEntry] = []
        if tree >= 0 {
            var visited = Set<Int>()
            try chunkEntries(tree, rank: rank, depth: 0, visited: &visited, into: &entries, name: name)
        }
        var chunkCount = 1
        for size in chunk { chunkCount = try Checked.multiply(chunkCount, size, or: fail("dataset '\(name)'", "chunk dimensions \(chunk) overflow")) }
        let chunkBytes = try Checked.multiply(chunkCount, elementSize, or: fail("dataset '\(name)'", "chunk dimensions \(chunk) overflow"))
        let deflated = filters.firstIndex(of: 1)
        var backed = 0
        for entry in entries {
            let expands = deflated.map { entry.mask & (1 << $0) == 0 } ?? false
            let (inflated, overflow) = entry.stored.multipliedReportingOverflow(by: Self.deflateExpansion)
            let most = min(chunkBytes, expands ? (overflow ? Int.max : inflated) : entry.stored)
            backed += min(byteCount - backed, most)     // never past byteCount: no overflow
        }
        guard backed >= byteCount else {
            throw fail("dataset '\(name)'", "declares \(byteCount) bytes, its \(entries.count) chunks hold at most \(backed)")
        }
        var output = [UInt8](repeating: 0, count: byteCount)
        let chunkStrides = (0..<rank).map { axis in chunk[(axis + 1)...].reduce(1, *) }
        let datasetStrides = (0..<rank).map { axis in dims[(axis + 1)...].reduce(1, *) }
        for entry in entries where zip(entry.origin, dims).allSatisfy({ $0 < $1 }) {
            var data = bytes.array(entry.address..<(entry.address + entry.stored))
            MappedPages.release(bytes.data, entry.address..<(entry.address + entry.stored))
            for (i, filter) in filters.enumerated().reversed() where entry.mask & (1 << i) == 0 {
                if filter == 1 {
                    data = [UInt8](try Inflate.decompress(Data(data), wrapping: .zlib, limit: chunkBytes, what: "\(source) chunk of '\(name)'"))
                } else {
                    data = unshuffle(data, elementSize: elementSize)
                }
            }
            guard data.count == chunkBytes else { throw fail("chunk of '\(name)'", "holds \(data.count) bytes, \(chunkBytes) expected") }
            // Copy the chunk's part that lies inside the dataset (its origin is inside: no overflow).
            for element in 0..<chunkCount {
                var target = 0, inside = true, rest = element
                for axis in 0..<rank {
                    let local = rest / chunkStrides[axis]
                    rest %= chunkStrides[axis]
                    let global = entry.origin[axis] + local
                    if global >= dims[axis] { inside = false; break }
                    target += global * datasetStrides[axis]
                }
                guard inside else { continue }
                for b in 0..<elementSize { output[target * elementSize + b] = data[element * elementSize + b] }
            }
        }
        return output
    }

    /// Undoes HDF5's shuffle filter: byte k of every element was stored together.
    private func unshuffle(_ data: [UInt8], elementSize: Int) -> [UInt8] {
        guard elementSize > 1 else { return data }
        let count = data.count / elementSize
        var out = data
        for k in 0..<elementSize { for i in 0..<count { out[i * elementSize + k] = data[k * count + i] } }
        return out
    }

    /// The tensor of `shape` whose elements `raw` holds in `type`.
    private func decode(_ raw: some ContiguousBytes, type: Datatype, shape: [Int]) throws(FormatError) -> Tensor {
        let n = try count(shape)
        let needed = try Checked.multiply(n, type.size, or: fail("data", "\(n) values of \(type.size) bytes overflow"))
        let enough = raw.withUnsafeBytes { $0.count >= needed }
        guard enough else { throw fail("data", "too short") }
        guard let element = type.element else { throw fail("data", "values of \(type.size) bytes are not numbers graft reads") }
        do {
            return try Tensor(shape: shape) { out in raw.withUnsafeBytes { Self.decode($0, type: element, bigEndian: type.bigEndian, into: out) } }
        } catch {
            throw fail("data", "\(error)")
        }
    }

    private static func decode(_ raw: UnsafeRawBufferPointer, type: ElementType, bigEndian: Bool, into out: UnsafeMutableBufferPointer<Float>) {
        guard let base = raw.baseAddress else { return }
        type.decode(base, count: out.count, bigEndian: bigEndian, into: out)
    }
}
