/// One token of a command line, with where it starts (for carets under bad arguments).
public struct Token: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// A bare word or a quoted string.
        case word(String)
        /// `key=value` (the value may be quoted).
        case option(key: String, value: String)
    }
    public let kind: Kind
    /// 0-based column of the token's first character in the line.
    public let column: Int
    /// Characters the token spans in the line (quotes included).
    public let width: Int

    public var word: String? { if case let .word(w) = kind { return w } else { return nil } }
}

/// Splits a command line into words, quoted strings and `key=value` options; `#` starts a comment
/// outside quotes. Quotes: "…" with \" and \\ escapes, or '…' taken literally.
public enum Lexer {
    public static func tokens(_ line: String) throws(ShellError) -> [Token] {
        let chars = Array(line)
        var tokens: [Token] = []
        var i = 0
        while i < chars.count {
            if chars[i] == " " || chars[i] == "\t" { i += 1; continue }
            if chars[i] == "#" { break }
            let start = i
            var text = ""
            var key: String? = nil
            var quoted = false
            while i < chars.count && chars[i] != " " && chars[i] != "\t" {
                let c = chars[i]
                if c == "\"" || c == "'" {
                    quoted = true
                    let quote = c
                    i += 1
                    var closed = false
                    while i < chars.count {
                        if chars[i] == quote { closed = true; i += 1; break }
                        if quote == "\"" && chars[i] == "\\" && i + 1 < chars.count && (chars[i + 1] == "\"" || chars[i + 1] == "\\") {
                            text.append(chars[i + 1]); i += 2; continue
                        }
                        text.append(chars[i]); i += 1
                    }
                    if !closed { throw ShellError("unterminated quote", column: start, width: chars.count - start) }
                    continue
                }
                if c == "#" && !quoted && text.isEmpty && key == nil { break }
                if c == "=" && key == nil && !quoted && !text.isEmpty {
                    key = text
                    text = ""
                    i += 1
                    continue
                }
                text.append(c)
                i += 1
            }
            if let key {
                tokens.append(Token(kind: .option(key: key, value: text), column: start, width: i - start))
            } else {
                tokens.append(Token(kind: .word(text), column: start, width: i - start))
            }
        }
        return tokens
    }

    /// `text` as one token that reads back as `text`: bare when it can be, else in double quotes
    /// with `"` and `\` escaped (a newline or other control character cannot be typed on a line: nil).
    public static func quoted(_ text: String) -> String? {
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return nil }
        let plain = !text.isEmpty && !text.contains(where: { " \t\"'#=\\".contains($0) })
        if plain { return text }
        return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
