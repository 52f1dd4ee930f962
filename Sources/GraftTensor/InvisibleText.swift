extension Unicode.Scalar {
    /// The escape that shows this character when it is one that text from a file must not carry
    /// raw into a terminal, generated code or a document: a control (C0, DEL, C1) as `\\x1b`, a
    /// line or paragraph separator, bidirectional override or other format character, private or
    /// unassigned code point as `\\u202e`; nil for a character that shows as itself. The one
    /// classification behind each sink's escaping function (``Markdown``, Python literals, the terminal).
    public var escaped: String? {
        if value < 0x20 || (0x7F...0x9F).contains(value) { return "\\x" + Self.hex(value, 2) }
        switch properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return value > 0xFFFF ? "\\U" + Self.hex(value, 8) : "\\u" + Self.hex(value, 4)
        default: return nil
        }
    }

    public static func hex(_ value: UInt32, _ digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
