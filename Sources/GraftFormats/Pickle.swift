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
public final class PickleList: @unchecked Sendable {
    public var items: [PickleValue] = []
    init(_ items: [PickleValue] = []) { self.items = items }
}

public final class PickleDict: @unchecked Sendable {
    public var entries: [(key: PickleValue, value: PickleValue)] = []
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

    let bytes: [UInt8]
    let source: String
    /// The file the pickle comes from (for refusals).
    let file: String
    public private(set) var position: Int

    public init(bytes: [UInt8], at position: Int = 0, source: String, file: String? = nil) {
        self.bytes = bytes
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

    private mutating func take(_ count: Int) throws(FormatError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - position else {
            throw fail("a field claims \(count) bytes, \(bytes.count - position) remain")
        }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    private mutating func uint(_ size: Int) throws(FormatError) -> Int {
        let raw = try take(size)
        var value: UInt64 = 0
        for (i, b) in raw.enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
        guard value <= UInt64(Int.max) else { throw fail("length \(value) is too large") }
        return Int(value)
    }

    private mutating func line() throws(FormatError) -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A), end - position < 1024 else { throw fail("unterminated text field") }
        defer { position = end + 1 }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    /// Runs one pickle to its STOP. `persistent` turns a persistent id into a value (storages).
    public mutating func load(persistent: (PickleValue) throws(FormatError) -> PickleValue) throws(FormatError) -> PickleValue {
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]
        func pop() throws(FormatError) -> PickleValue {
            guard let value = stack.popLast() else { throw fail("stack underflow") }
            if let mark = marks.last, stack.count < mark { throw fail("stack underflow past a MARK") }
            return value
        }
        func popMark() throws(FormatError) -> [PickleValue] {
            guard let mark = marks.popLast(), mark <= stack.count else { throw fail("no MARK to pop to") }
            defer { stack.removeSubrange(mark...) }
            return Array(stack[mark...])
        }
        while true {
            let offset = position
            let opcode = try byte()
            switch opcode {
            case 0x80: _ = try byte()                                            // PROTO
            case 0x95: _ = try take(8)                                           // FRAME (length only)
            case 0x2E:                                                           // STOP
                guard let result = stack.popLast(), stack.isEmpty || marks.isEmpty else { throw fail("STOP with an empty stack") }
                return result
            case 0x28: marks.append(stack.count)                                // MARK
            case 0x4E: stack.append(.none)                                      // NONE
            case 0x88: stack.append(.bool(true))                                // NEWTRUE
            case 0x89: stack.append(.bool(false))                               // NEWFALSE
            case 0x4B: stack.append(.int(Int(try byte())))                      // BININT1
            case 0x4D: stack.append(.int(try uint(2)))                          // BININT2
            case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x8A:                                                           // LONG1
                let length = Int(try byte())
                let raw = try take(length)
                guard length <= 8 else { stack.append(.bytes(Array(raw))); continue }  // too wide for Int: keep the bytes
                var value: UInt64 = 0
                for (i, b) in raw.enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
                if length > 0, length < 8, raw.last.map({ $0 & 0x80 != 0 }) == true { value |= ~UInt64(0) << (8 * UInt64(length)) }
                stack.append(.int(Int(Int64(bitPattern: value))))
            case 0x47: stack.append(.float(Double(bitPattern: UInt64(bigEndian: try take(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))))  // BINFLOAT
            case 0x58: stack.append(.string(String(decoding: try take(try uint(4)), as: UTF8.self)))   // BINUNICODE
            case 0x8C: stack.append(.string(String(decoding: try take(Int(try byte())), as: UTF8.self)))  // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(String(decoding: try take(try uint(8)), as: UTF8.self)))   // BINUNICODE8
            case 0x54: stack.append(.bytes(Array(try take(try uint(4)))))                              // BINSTRING
            case 0x55: stack.append(.bytes(Array(try take(Int(try byte())))))                          // SHORT_BINSTRING
            case 0x43: stack.append(.bytes(Array(try take(Int(try byte())))))                          // SHORT_BINBYTES
            case 0x42: stack.append(.bytes(Array(try take(try uint(4)))))                              // BINBYTES
            case 0x29: stack.append(.tuple([]))                                 // EMPTY_TUPLE
            case 0x74: stack.append(.tuple(try popMark()))                      // TUPLE
            case 0x85: stack.append(.tuple([try pop()]))                        // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))            // TUPLE2
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))  // TUPLE3
            case 0x5D: stack.append(.list(PickleList()))                        // EMPTY_LIST
            case 0x6C: stack.append(.list(PickleList(try popMark())))           // LIST
            case 0x61:                                                           // APPEND
                let item = try pop()
                guard case let .list(list)? = stack.last else { throw fail("APPEND to a non-list", at: offset) }
                list.items.append(item)
            case 0x65:                                                           // APPENDS
                let items = try popMark()
                guard case let .list(list)? = stack.last else { throw fail("APPENDS to a non-list", at: offset) }
                guard list.items.count + items.count <= Self.maxItems else { throw fail("list too long") }
                list.items += items
            case 0x7D: stack.append(.dict(PickleDict()))                        // EMPTY_DICT
            case 0x64:                                                           // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items", at: offset) }
                let dict = PickleDict()
                for i in stride(from: 0, to: items.count, by: 2) { dict.entries.append((items[i], items[i + 1])) }
                stack.append(.dict(dict))
            case 0x73:                                                           // SETITEM
                let value = try pop(), key = try pop()
                guard case let .dict(dict)? = stack.last else { throw fail("SETITEM on a non-dict", at: offset) }
                dict.entries.append((key, value))
            case 0x75:                                                           // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0, case let .dict(dict)? = stack.last else { throw fail("SETITEMS on a non-dict or with an odd count", at: offset) }
                for i in stride(from: 0, to: items.count, by: 2) { dict.entries.append((items[i], items[i + 1])) }
            case 0x71: guard let top = stack.last else { throw fail("BINPUT on an empty stack") }; memo[Int(try byte())] = top        // BINPUT
            case 0x72: guard let top = stack.last else { throw fail("LONG_BINPUT on an empty stack") }; memo[try uint(4)] = top      // LONG_BINPUT
            case 0x94: guard let top = stack.last else { throw fail("MEMOIZE on an empty stack") }; memo[memo.count] = top          // MEMOIZE
            case 0x68:                                                           // BINGET
                let key = Int(try byte())
                guard let value = memo[key] else { throw fail("BINGET of memo \(key), which was never set", at: offset) }
                stack.append(value)
            case 0x6A:                                                           // LONG_BINGET
                let key = try uint(4)
                guard let value = memo[key] else { throw fail("LONG_BINGET of memo \(key), which was never set", at: offset) }
                stack.append(value)
            case 0x63:                                                           // GLOBAL "module\nname\n"
                let module = try line(), name = try line()
                try allow(module, name)
                stack.append(.global(module: module, name: name))
            case 0x93:                                                           // STACK_GLOBAL
                let nameValue = try pop(), moduleValue = try pop()
                guard let module = moduleValue.asString, let name = nameValue.asString else { throw fail("STACK_GLOBAL needs two strings", at: offset) }
                try allow(module, name)
                stack.append(.global(module: module, name: name))
            case 0x51: stack.append(try persistent(try pop()))                  // BINPERSID
            case 0x52:                                                           // REDUCE
                let arguments = try pop(), callable = try pop()
                stack.append(try reduce(callable, arguments, at: offset))
            case 0x62:                                                           // BUILD: state for an object
                _ = try pop()
                guard stack.last != nil else { throw fail("BUILD on an empty stack", at: offset) }
            default:
                throw FormatError.unsupported(format: "pickle", what: "opcode 0x\(String(opcode, radix: 16)) at offset \(offset) of \(source)")
            }
            guard stack.count <= Self.maxItems, marks.count <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth) or too many items") }
        }
    }

    private func allow(_ module: String, _ name: String) throws(FormatError) {
        guard Self.allowedGlobals.contains("\(module).\(name)") else {
            throw .refused(file: file, reason: "pickle global '\(module).\(name)' is not allowed")
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
