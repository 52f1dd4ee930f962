/// How deep a JSON text nests, counted before it is parsed: a parser's own limit fails with "not
/// valid JSON", which says nothing of why.
public enum JSONDepth {
    /// The deepest nesting graft reads (Keras configs of real models stay under 40).
    public static let limit = 256

    /// The depth at which `bytes` first nests beyond `limit` (`limit + 1`), or nil. Brackets inside
    /// strings do not count.
    public static func beyond<Bytes: Sequence>(_ bytes: Bytes, limit: Int) -> Int? where Bytes.Element == UInt8 {
        var depth = 0, inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > limit { return depth }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return nil
    }
}
