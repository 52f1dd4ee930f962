import Foundation

/// What a restricted pickle evaluates to. Globals are names, never resolved; `REDUCE` builds only
/// the few objects a state dict needs, by name.
public indirect enum PickleValue: Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// `module.name`, checked against the allowlist when pushed.
    case global(module: String, name: String)
    /// A storage named by a persistent id: (dtype name, key, element count).
    case storage(type: String, key: String, count: Int)
    /// A tensor view of a storage.
    case tensor(TensorReference)

    var asInt: Int? { if case let .int(v) = self { return v } else { return nil } }
    var asString: String? { if case let .string(v) = self { return v } else { return nil } }
    var asTuple: [PickleValue]? {
        switch self {
        case let .tuple(items): return items
        case let .list(list): return list.items
        default: return nil
        }
    }
}

/// A tensor as the pickle describes it: which storage, where in it, what shape and strides.
public struct TensorReference: Sendable {
    public let storageType: String
    public let storageKey: String
    public let storageCount: Int
    public let offset: Int
    public let shape: [Int]
    public let strides: [Int]
}

/// Lists and dicts are shared through the memo (a later BINGET sees the same object), so they are classes.
/// Containers record how deeply they nest (for the machine's depth cap) and are sealed once
/// placed inside another value: a state dict fills every container before nesting it, and a
/// container changed afterwards could deepen values already counted.
public final class PickleList: @unchecked Sendable {
    public var items: [PickleValue] = []
    var depth = 1
    var sealed = false
    init(_ items: [PickleValue] = [], depth: Int = 1) { (self.items, self.depth) = (items, depth) }
}

public final class PickleDict: @unchecked Sendable {
    public var entries: [(key: PickleValue, value: PickleValue)] = []
    var depth = 1
    var sealed = false
}

/// A data-only pickle machine (protocols 2–4) that understands exactly what a PyTorch state dict
/// uses and refuses everything else by name. It never imports or calls anything: a global is a
/// name matched against the allowlist; `REDUCE` and `BUILD` are interpreted for those names only.
/// Every length is checked against the bytes that remain before anything is allocated.
public struct PickleMachine {
    /// Globals a state dict may name.
    public static let allowedGlobals: Set<String> = [
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
        "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.LongStorage",
        "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage", "torch.BoolStorage",
        "torch._utils._rebuild_tensor", "builtins.set",
    ]
    static let maxDepth = 100
    static let maxItems = 50_000_000
    /// Values one pickle may create in all (a state dict's has a few per tensor: thousands). Each
    /// takes tens of bytes, so a 10 MB pickle of ten million Nones no longer takes 290 MB.
    static let maxValues = 2_000_000
    /// How deeply values may nest (tuples in tuples, lists in dicts, …). Releasing a value recurses
    /// once per level, so a pickle of 10^5 nested tuples would overflow the stack; state dicts nest
    /// a handful of levels.
    static let maxNesting = 256

    /// The pickle's bytes, read in place (a legacy checkpoint's pickles sit at the start of the
    /// mapped file, its storages after them: nothing is copied but the fields read).
    let bytes: ByteView
    let source: String
    /// The file the pickle comes from (for refusals).
    let file: String
    public private(set) var position: Int

    public init(bytes: [UInt8], at position: Int = 0, source: String, file: String? = nil) {
        self.init(data: Data(bytes), at: position, source: source, file: file)
    }

    public init(data: Data, at position: Int = 0, source: String, file: String? = nil) {
        self.bytes = ByteView(data: data)
        self.position = position
        self.source = source
        self.file = file ?? source
    }

    private func fail(_ reason: String, at offset: Int? = nil) -> FormatError {
        .malformed(format: "pickle", where: "\(source) offset \(offset ?? position)", reason: reason)
    }

    private mutating func byte() throws(FormatError) -> UInt8 {
        guard position < bytes.count else { throw fail("pickle ends before STOP") }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func take(_ count: Int) throws(FormatError) -> [UInt8] {
        guard count >= 0, count <= bytes.count - position else {
            throw fail("a field claims \(count) bytes, \(bytes.count - position) remain")
        }
        defer { position += count }
        return bytes.array(position..<(position + count))
    }

    private mutating func uint(_ size: Int) throws(FormatError) -> Int {
        let raw = try take(size)
        var value: UInt64 = 0
        for (i, b) in raw.enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
        guard value <= UInt64(Int.max) else { throw fail("length \(value) is too large") }
        return Int(value)
    }

    private mutating func line() throws(FormatError) -> String {
        guard let end = bytes[position..<min(bytes.count, position + 1024)].firstIndex(of: 0x0A) else { throw fail("unterminated text field") }
        defer { position = end + 1 }
        return String(decoding: bytes.array(position..<end), as: UTF8.self)
    }

    /// Runs one pickle to its STOP. `persistent` turns a persistent id into a value (storages).
    public mutating func load(persistent: (PickleValue) throws(FormatError) -> PickleValue) throws(FormatError) -> PickleValue {
        var stack: [PickleValue] = []
        var depths: [Int] = []            // how deeply each stack value nests (tuples; containers keep their own)
        var marks: [Int] = []
        var memo: [Int: (PickleValue, Int)] = [:]
        /// A value's nesting depth: a container's own record, else what the stack or memo noted.
        func depth(_ value: PickleValue, _ noted: Int) -> Int {
            switch value {
            case let .list(list): return list.depth
            case let .dict(dict): return dict.depth
            default: return noted
            }
        }
        /// Seals the containers among `items` (they are being nested) and returns one level more
        /// than the deepest of them, refused beyond the cap.
        func nest(_ items: some Sequence<(PickleValue, Int)>) throws(FormatError) -> Int {
            var deepest = 0
            for (item, noted) in items {
                if case let .list(list) = item { list.sealed = true }
                if case let .dict(dict) = item { dict.sealed = true }
                deepest = max(deepest, depth(item, noted))
            }
            guard deepest < Self.maxNesting else { throw fail("values nest deeper than \(Self.maxNesting) levels") }
            return deepest + 1
        }
        var created = 0
        func push(_ value: PickleValue, depth: Int = 1) {
            stack.append(value)
            depths.append(depth)
            created += 1
        }
        func pop() throws(FormatError) -> (PickleValue, Int) {
            guard let value = stack.popLast(), let noted = depths.popLast() else { throw fail("stack underflow") }
            if let mark = marks.last, stack.count < mark { throw fail("stack underflow past a MARK") }
            return (value, noted)
        }
        func popMark() throws(FormatError) -> [(PickleValue, Int)] {
            guard let mark = marks.popLast(), mark <= stack.count else { throw fail("no MARK to pop to") }
            defer { stack.removeSubrange(mark...); depths.removeSubrange(mark...) }
            return Array(zip(stack[mark...], depths[mark...]))
        }
        /// The list or dict on top of the stack, to be filled; refused once it is nested elsewhere.
        func openList(_ what: String, at offset: Int) throws(FormatError) -> PickleList {
            guard case let .list(list)? = stack.last else { throw fail("\(what) to a non-list", at: offset) }
            guard !list.sealed else { throw fail("\(what) to a list already nested in another value", at: offset) }
            return list
        }
        func openDict(_ what: String, at offset: Int) throws(FormatError) -> PickleDict {
            guard case let .dict(dict)? = stack.last else { throw fail("\(what) on a non-dict", at: offset) }
            guard !dict.sealed else { throw fail("\(what) on a dict already nested in another value", at: offset) }
            return dict
        }
        while true {
            let offset = position
            let opcode = try byte()
            switch opcode {
            case 0x80: _ = try byte()                                            // PROTO
            case 0x95: _ = try take(8)                                           // FRAME (length only)
            case 0x2E:                                                           // STOP
                guard let result = stack.popLast(), stack.isEmpty || marks.isEmpty else { throw fail("STOP with an empty stack") }
                depths.removeAll()
                return result
            case 0x28: marks.append(stack.count)                                // MARK
            case 0x4E: push(.none)                                      // NONE
            case 0x88: push(.bool(true))                                // NEWTRUE
            case 0x89: push(.bool(false))                               // NEWFALSE
            case 0x4B: push(.int(Int(try byte())))                      // BININT1
            case 0x4D: push(.int(try uint(2)))                          // BININT2
            case 0x4A: push(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x8A:                                                           // LONG1
                let length = Int(try byte())
                let raw = try take(length)
                guard length <= 8 else { push(.bytes(Array(raw))); continue }  // too wide for Int: keep the bytes
                var value: UInt64 = 0
                for (i, b) in raw.enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
                if length > 0, length < 8, raw.last.map({ $0 & 0x80 != 0 }) == true { value |= ~UInt64(0) << (8 * UInt64(length)) }
                push(.int(Int(Int64(bitPattern: value))))
            case 0x47: push(.float(Double(bitPattern: UInt64(bigEndian: try take(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))))  // BINFLOAT
            case 0x58: push(.string(String(decoding: try take(try uint(4)), as: UTF8.self)))   // BINUNICODE
            case 0x8C: push(.string(String(decoding: try take(Int(try byte())), as: UTF8.self)))  // SHORT_BINUNICODE
            case 0x8D: push(.string(String(decoding: try take(try uint(8)), as: UTF8.self)))   // BINUNICODE8
            case 0x54: push(.bytes(Array(try take(try uint(4)))))                              // BINSTRING
            case 0x55: push(.bytes(Array(try take(Int(try byte())))))                          // SHORT_BINSTRING
            case 0x43: push(.bytes(Array(try take(Int(try byte())))))                          // SHORT_BINBYTES
            case 0x42: push(.bytes(Array(try take(try uint(4)))))                              // BINBYTES
            case 0x29: push(.tuple([]))                                          // EMPTY_TUPLE
            case 0x74: let items = try popMark(); push(.tuple(items.map(\.0)), depth: try nest(items))         // TUPLE
            case 0x85: let a = try pop(); push(.tuple([a.0]), depth: try nest([a]))                        // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); push(.tuple([a.0, b.0]), depth: try nest([a, b]))  // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); push(.tuple([a.0, b.0, c.0]), depth: try nest([a, b, c]))  // TUPLE3
            case 0x5D: push(.list(PickleList()))                                 // EMPTY_LIST
            case 0x6C: let items = try popMark(); push(.list(PickleList(items.map(\.0), depth: try nest(items))))  // LIST
            case 0x61:                                                           // APPEND
                let item = try pop()
                let list = try openList("APPEND", at: offset)
                list.depth = max(list.depth, try nest([item]))
                list.items.append(item.0)
            case 0x65:                                                           // APPENDS
                let items = try popMark()
                let list = try openList("APPENDS", at: offset)
                guard list.items.count + items.count <= Self.maxItems else { throw fail("list too long") }
                list.depth = max(list.depth, try nest(items))
                list.items += items.map(\.0)
            case 0x7D: push(.dict(PickleDict()))                                 // EMPTY_DICT
            case 0x64:                                                           // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items", at: offset) }
                let dict = PickleDict()
                dict.depth = try nest(items)
                for i in stride(from: 0, to: items.count, by: 2) { dict.entries.append((items[i].0, items[i + 1].0)) }
                push(.dict(dict))
            case 0x73:                                                           // SETITEM
                let value = try pop(), key = try pop()
                let dict = try openDict("SETITEM", at: offset)
                dict.depth = max(dict.depth, try nest([key, value]))
                dict.entries.append((key.0, value.0))
            case 0x75:                                                           // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd count", at: offset) }
                let dict = try openDict("SETITEMS", at: offset)
                dict.depth = max(dict.depth, try nest(items))
                for i in stride(from: 0, to: items.count, by: 2) { dict.entries.append((items[i].0, items[i + 1].0)) }
            case 0x71: guard let top = stack.last, let noted = depths.last else { throw fail("BINPUT on an empty stack") }; memo[Int(try byte())] = (top, noted)        // BINPUT
            case 0x72: guard let top = stack.last, let noted = depths.last else { throw fail("LONG_BINPUT on an empty stack") }; memo[try uint(4)] = (top, noted)      // LONG_BINPUT
            case 0x94: guard let top = stack.last, let noted = depths.last else { throw fail("MEMOIZE on an empty stack") }; memo[memo.count] = (top, noted)          // MEMOIZE
            case 0x68:                                                           // BINGET
                let key = Int(try byte())
                guard let (value, noted) = memo[key] else { throw fail("BINGET of memo \(key), which was never set", at: offset) }
                push(value, depth: noted)
            case 0x6A:                                                           // LONG_BINGET
                let key = try uint(4)
                guard let (value, noted) = memo[key] else { throw fail("LONG_BINGET of memo \(key), which was never set", at: offset) }
                push(value, depth: noted)
            case 0x63:                                                           // GLOBAL "module\nname\n"
                let module = try line(), name = try line()
                try allow(module, name)
                push(.global(module: module, name: name))
            case 0x93:                                                           // STACK_GLOBAL
                let nameValue = try pop().0, moduleValue = try pop().0
                guard let module = moduleValue.asString, let name = nameValue.asString else { throw fail("STACK_GLOBAL needs two strings", at: offset) }
                try allow(module, name)
                push(.global(module: module, name: name))
            case 0x51: push(try persistent(try pop().0))                         // BINPERSID
            case 0x52:                                                           // REDUCE
                let arguments = try pop(), callable = try pop()
                push(try reduce(callable.0, arguments.0, at: offset), depth: try nest([arguments]))
            case 0x62:                                                           // BUILD: state for an object
                _ = try pop()
                guard stack.last != nil else { throw fail("BUILD on an empty stack", at: offset) }
            default:
                throw FormatError.unsupported(format: "pickle", what: "opcode 0x\(String(opcode, radix: 16)) at offset \(offset) of \(source)")
            }
            guard stack.count <= Self.maxItems, marks.count <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth) or too many items") }
            guard created <= Self.maxValues else { throw fail("more than \(Self.maxValues) values (a state dict has a few per tensor)") }
        }
    }

    private func allow(_ module: String, _ name: String) throws(FormatError) {
        guard Self.allowedGlobals.contains("\(module).\(name)") else {
            // A whole pickled module (torch.save(model)) needs its Python classes to load; its weights do not.
            let hint = module.hasPrefix("torch") || module.hasPrefix("torchvision") || module.hasPrefix("timm") || module.hasPrefix("__main__") || name.first?.isUppercase == true
                ? "; this looks like a whole model saved with torch.save(model): graft reads weights, so save them with torch.save(model.state_dict(), 'model.pth') (or safetensors' save_file(model.state_dict(), 'model.safetensors')) and load that"
                : ""
            throw .refused(file: file, reason: "pickle global '\(module).\(name)' is not allowed" + hint)
        }
    }

    /// The only calls a state dict makes, interpreted by name.
    private func reduce(_ callable: PickleValue, _ arguments: PickleValue, at offset: Int) throws(FormatError) -> PickleValue {
        guard case let .global(module, name) = callable, let args = arguments.asTuple else {
            throw fail("REDUCE of something that is not an allowed global", at: offset)
        }
        switch "\(module).\(name)" {
        case "collections.OrderedDict", "builtins.set":
            return .dict(PickleDict())
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            guard args.count >= 4, case let .storage(type, key, count) = args[0], let offset = args[1].asInt,
                  let size = args[2].asTuple, let stride = args[3].asTuple else {
                throw fail("_rebuild_tensor_v2 needs (storage, offset, size, stride, …)", at: offset)
            }
            let shape = size.compactMap(\.asInt), strides = stride.compactMap(\.asInt)
            guard shape.count == size.count, strides.count == stride.count, shape.count == strides.count, shape.count <= 32 else {
                throw fail("tensor size \(size.count) and stride \(stride.count) do not match", at: offset)
            }
            return .tensor(TensorReference(storageType: type, storageKey: key, storageCount: count, offset: offset, shape: shape, strides: strides))
        case "torch._utils._rebuild_parameter":
            guard let first = args.first, case .tensor = first else { throw fail("_rebuild_parameter needs a tensor", at: offset) }
            return first
        default:
            throw .unsupported(format: "pickle", what: "call of \(module).\(name) in \(source)")
        }
    }
}
