import Foundation
import GraftTensor

/// PyTorch `.pth`/`.pt` state dicts, in both layouts `torch.save` has written: the zip archive of
/// torch ≥ 1.6 (`<name>/data.pkl` plus one entry per storage) and the legacy stream before it
/// (five pickles, then every storage's bytes in the order of the last pickle's key list).
/// Tensors honour their storage offset and strides: many real checkpoints hold permuted views.
public enum PyTorchCheckpoint {
    static let format = "pytorch"
    /// The legacy format's magic number, as pickled (PROTO 2, LONG1 of 10 bytes, STOP).
    static let legacyMagic: [UInt8] = [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]

    /// The largest `data.pkl` read (a state dict's is about a kilobyte per tensor).
    static let pickleLimit = 64 << 20
    /// How much a compressed storage may expand: weights compress little, a zip bomb a thousandfold.
    static let maxExpansion = 100

    public static func isLegacy(_ data: Data) -> Bool { data.starts(with: legacyMagic) }
    public static func isZip(_ data: Data) -> Bool { data.starts(with: [0x50, 0x4B, 0x03, 0x04]) }

    public static func read(_ data: Data, name: String) throws(FormatError) -> StateDict {
        if isZip(data) { return try readZip(data, name: name) }
        if isLegacy(data) { return try readLegacy(data, name: name) }
        throw .malformed(format: format, where: name, reason: "neither a zip archive nor a legacy torch.save stream (wrong magic bytes)")
    }

    /// A persistent id `('storage', <type global>, key, location, numel[, view_metadata])` → a storage.
    static func storage(_ pid: PickleValue, source: String) throws(FormatError) -> PickleValue {
        guard let items = pid.asTuple, items.count >= 5, items[0].asString == "storage",
              case let .global(module, typeName) = items[1], module == "torch",
              let key = items[2].asString ?? items[2].asInt.map(String.init), let count = items[4].asInt, count >= 0 else {
            throw .malformed(format: format, where: source, reason: "a persistent id is not a torch storage reference")
        }
        guard element(typeName) != nil else { throw .unsupported(format: format, what: "storage type \(typeName) in \(source)") }
        return .storage(type: typeName, key: key, count: count)
    }

    /// Bytes per element of a storage type (nil: a type graft does not read).
    static func element(_ type: String) -> Int? { ElementType(torchStorage: type)?.size }

    /// The dict of tensors inside a loaded object: the top level, or under `state_dict`/`model`.
    static func tensors(in value: PickleValue, source: String) throws(FormatError) -> [(String, TensorReference)] {
        guard case let .dict(dict) = value else { throw .malformed(format: format, where: source, reason: "the checkpoint is not a dict") }
        var found: [(String, TensorReference)] = []
        for (key, item) in dict.entries {
            if let name = key.asString, case let .tensor(reference) = item { found.append((name, reference)) }
        }
        if !found.isEmpty { return found }
        for wrapper in ["state_dict", "model", "model_state_dict", "net"] {
            if let inner = dict.entries.first(where: { $0.key.asString == wrapper })?.value { return try tensors(in: inner, source: source) }
        }
        throw .malformed(format: format, where: source, reason: "no tensors found (not a state dict)")
    }

    static func readZip(_ data: Data, name: String) throws(FormatError) -> StateDict {
        let archive = try ZipArchive(data: data, source: name)
        guard let pickleEntry = archive.entries.first(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) else {
            throw .malformed(format: format, where: name, reason: "zip archive without data.pkl (not a torch.save file)")
        }
        let prefix = String(pickleEntry.name.dropLast("data.pkl".count))
        var machine = PickleMachine(data: try archive.contents(pickleEntry, limit: pickleLimit), source: "\(name) \(pickleEntry.name)", file: name)
        let root = try machine.load { (pid: PickleValue) throws(FormatError) in try storage(pid, source: name) }
        var state = StateDict()
        var cache: [String: Data] = [:]
        for (key, reference) in try tensors(in: root, source: name) {
            try Cancellation.check(name)
            guard let entry = archive.entry(prefix + "data/" + reference.storageKey) else {
                throw .malformed(format: format, where: "\(name) tensor '\(key)'", reason: "storage \(reference.storageKey) is not in the archive")
            }
            if let range = archive.storedRange(entry) {
                // Stored, as torch.save writes: decoded in place, its pages handed back after.
                state.tensors.append((key, try materialize(reference, storage: archive.data, base: range.lowerBound, end: range.upperBound, name: key, source: name)))
                MappedPages.release(archive.data, range)
                continue
            }
            if cache[reference.storageKey] == nil {
                // Compressed (not as torch.save writes, but valid zip): its declared size must be the
                // storage's, and within what weights compress to, before anything is inflated.
                let needed = try Checked.multiply(reference.storageCount, element(reference.storageType) ?? 4,
                                                  or: .malformed(format: format, where: "\(name) tensor '\(key)'", reason: "storage of \(reference.storageCount) elements overflows"))
                guard entry.size == needed else {
                    throw .malformed(format: format, where: "\(name) tensor '\(key)'", reason: "storage \(reference.storageKey) holds \(entry.size) bytes, the pickle says \(needed)")
                }
                guard entry.size / max(entry.compressedSize, 1) <= maxExpansion else {
                    throw .malformed(format: format, where: "\(name) tensor '\(key)'", reason: "storage \(reference.storageKey) would inflate \(entry.compressedSize) bytes to \(entry.size) (over \(maxExpansion)×: a zip bomb, not weights)")
                }
                cache[reference.storageKey] = try archive.contents(entry, limit: needed)
            }
            guard let bytes = cache[reference.storageKey] else { continue }
            state.tensors.append((key, try materialize(reference, storage: bytes, base: 0, name: key, source: name)))
        }
        return state
    }

    static func readLegacy(_ data: Data, name: String) throws(FormatError) -> StateDict {
        // The pickles come first, the storages after them: both are read in place from the mapped file.
        var machine = PickleMachine(data: data, at: 0, source: name)
        let bytes = ByteView(data: data)
        let noStorage: (PickleValue) throws(FormatError) -> PickleValue = { _ throws(FormatError) in
            throw FormatError.malformed(format: format, where: name, reason: "a storage reference outside the state dict")
        }
        _ = try machine.load(persistent: noStorage)          // magic number (checked by isLegacy)
        guard case let .int(protocolVersion) = try machine.load(persistent: noStorage), protocolVersion == 1001 else {
            throw .unsupported(format: format, what: "legacy protocol version in \(name) (graft reads 1001)")
        }
        if case let .dict(info) = try machine.load(persistent: noStorage),
           let little = info.entries.first(where: { $0.key.asString == "little_endian" })?.value, case .bool(false) = little {
            throw .unsupported(format: format, what: "big-endian checkpoint \(name)")
        }
        let root = try machine.load { (pid: PickleValue) throws(FormatError) in try storage(pid, source: name) }
        guard let keys = try machine.load(persistent: noStorage).asTuple?.compactMap({ $0.asString }) else {
            throw .malformed(format: format, where: name, reason: "the storage key list is missing")
        }
        // The storages follow, each as an int64 element count and its bytes, in the key list's order.
        let references = try tensors(in: root, source: name)
        let sizes = Dictionary(references.map { ($0.1.storageKey, $0.1.storageType) }, uniquingKeysWith: { a, _ in a })
        var offsets: [String: (Int, Int)] = [:]
        var cursor = machine.position
        for key in keys {
            guard Checked.fits(cursor, 8, in: bytes.count) else { throw .malformed(format: format, where: "\(name) offset \(cursor)", reason: "file is truncated before storage \(key)") }
            let count = bytes[cursor..<(cursor + 8)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            let size = element(sizes[key] ?? "FloatStorage") ?? 4
            let (length, overflow) = count.multipliedReportingOverflow(by: size)
            guard count >= 0, !overflow, Checked.fits(cursor + 8, length, in: bytes.count) else {
                throw .malformed(format: format, where: "\(name) offset \(cursor)", reason: "storage \(key) claims \(count) elements, more than the file holds")
            }
            offsets[key] = (cursor + 8, count)
            cursor += 8 + length
        }
        var state = StateDict()
        for (key, reference) in references {
            try Cancellation.check(name)
            guard let (start, count) = offsets[reference.storageKey] else {
                throw .malformed(format: format, where: "\(name) tensor '\(key)'", reason: "storage \(reference.storageKey) has no data")
            }
            guard count == reference.storageCount else {
                throw .malformed(format: format, where: "\(name) tensor '\(key)'", reason: "storage \(reference.storageKey) holds \(count) elements, the pickle says \(reference.storageCount)")
            }
            state.tensors.append((key, try materialize(reference, storage: data, base: start, name: key, source: name)))
            if let size = element(reference.storageType) { MappedPages.release(data, start..<(start + count * size)) }
        }
        return state
    }

    /// A contiguous Float32 tensor from a strided view of a storage (any dtype converted).
    /// Whether `strides` are those of a contiguous row-major tensor of `shape` (axes of size 1 aside).
    static func isRowMajor(_ shape: [Int], _ strides: [Int]) -> Bool {
        var expected = 1
        for (dim, stride) in zip(shape, strides).reversed() where dim != 1 {
            guard stride == expected else { return false }
            expected *= dim
        }
        return true
    }

    /// The storage's bytes run from `base` to `end` (the end of `storage` when nil).
    static func materialize(_ r: TensorReference, storage: Data, base: Int, end: Int? = nil, name: String, source: String) throws(FormatError) -> Tensor {
        func fail(_ reason: String) -> FormatError { .malformed(format: format, where: "\(source) tensor '\(name)'", reason: reason) }
        guard let type = ElementType(torchStorage: r.storageType) else { throw .unsupported(format: format, what: "storage type \(r.storageType)") }
        let size = type.size
        guard r.offset >= 0, r.shape.allSatisfy({ $0 >= 0 }), r.strides.allSatisfy({ $0 >= 0 }) else { throw fail("negative offset, size or stride") }
        var count = 1, last = r.offset
        for (dim, stride) in zip(r.shape, r.strides) {
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= 1 << 32 else { throw FormatError.tooLarge(format: format, what: "tensor '\(name)' of shape \(r.shape)", limit: "2^32 elements") }
            count = product
            if dim > 0 {
                let reach = try Checked.multiply(dim - 1, stride, or: fail("stride \(stride) overflows"))
                last = try Checked.add(last, reach, or: fail("offset \(r.offset) and strides \(r.strides) overflow"))
            }
        }
        if count > 0 {
            guard last < r.storageCount else { throw fail("view reaches element \(last) of a storage of \(r.storageCount)") }
            let bytes = try Checked.multiply(r.storageCount, size, or: fail("storage of \(r.storageCount) elements overflows"))
            guard Checked.fits(base, bytes, in: min(end ?? storage.count, storage.count)) else { throw fail("storage data runs past the end of the file") }
        }
        func fill(_ values: UnsafeMutableBufferPointer<Float>) { storage.withUnsafeBytes { raw in
            guard let start = raw.baseAddress?.advanced(by: base), count > 0 else { return }
            // A row-major view (what a state dict holds): one decode of a contiguous run.
            if isRowMajor(r.shape, r.strides) {
                type.decode(start + r.offset * size, count: count, into: values)
                return
            }
            // Otherwise walk the view in row-major order of its shape.
            let rank = r.shape.count
            var index = [Int](repeating: 0, count: rank)
            var position = r.offset
            // Positions stay between the offset and `last` (checked above): an axis steps forward only
            // while it has elements left, then goes back to its start.
            for i in 0..<count {
                values[i] = type.float(at: start, position)
                var axis = rank - 1
                while axis >= 0 {
                    if index[axis] + 1 < r.shape[axis] {
                        index[axis] += 1
                        position += r.strides[axis]
                        break
                    }
                    position -= r.strides[axis] * index[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        } }
        do { return try Tensor(shape: r.shape, writing: fill) } catch { throw fail("\(error)") }
    }
}
