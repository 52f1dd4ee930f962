/// The escaping functions for Markdown graft writes (transcripts, an export's README): text from a
/// file or a session (layer, class and dataset names, commands, output) goes through one of these,
/// so it cannot close a code block, start a link or an image, or carry live HTML.
public enum Markdown {
    static func visible(_ scalar: Unicode.Scalar) -> String? { scalar.escaped }
    static func hex(_ value: UInt32, _ digits: Int) -> String { Unicode.Scalar.hex(value, digits) }

    /// Running text (never at the start of a line: graft writes it after a heading mark, in a
    /// sentence or an image's alt text): the punctuation that means something inline
    /// backslash-escaped (emphasis, code, links, images, tables, strikethrough, math, a heading's
    /// closing `#`), `<`, `>` and `&` as entities, controls and newlines as visible escapes.
    public static func text(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if let shown = visible(scalar) {
                out += "\\" + shown  // the backslash itself escaped: the reader sees \x0a
            } else if scalar == "<" {
                out += "&lt;"
            } else if scalar == ">" {
                out += "&gt;"
            } else if scalar == "&" {
                out += "&amp;"
            } else if "\\`*_[](){}!|~#$^".unicodeScalars.contains(scalar) {
                out += "\\" + String(scalar)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Text with controls shown as escapes (for inside code, where Markdown escapes do not apply).
    static func literal(_ text: String, keepNewlines: Bool) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if keepNewlines, scalar == "\n" { out += "\n"; continue }
            if let shown = visible(scalar) { out += shown } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// The longest run of backticks in `text`.
    static func longestBacktickRun(_ text: String) -> Int {
        var longest = 0, run = 0
        for character in text {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        return longest
    }

    /// An inline code span: fenced by more backticks than the text holds in a row, on one line.
    public static func code(_ text: String) -> String {
        let content = literal(text, keepNewlines: false)
        let fence = String(repeating: "`", count: longestBacktickRun(content) + 1)
        let padded = content.hasPrefix("`") || content.hasSuffix("`") || content.hasPrefix(" ") && content.hasSuffix(" ") && !content.allSatisfy { $0 == " " }
        return fence + (padded ? " " + content + " " : content) + fence
    }

    /// A link or image destination: in angle brackets, with `<`, `>`, controls and newlines
    /// percent-encoded, so it cannot end early or carry more of the document.
    public static func destination(_ path: String) -> String {
        var out = "<"
        for byte in path.utf8 {
            if byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "\\") || byte >= 0x80 {
                out += "%" + hex(UInt32(byte), 2).uppercased()
            } else {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return out + ">"
    }

    /// A fenced code block (`info` such as `text`): the fence is longer than any run of backticks in
    /// the text, so no line of it can close the block.
    public static func codeBlock(_ text: String, info: String = "") -> String {
        let content = literal(text, keepNewlines: true)
        let fence = String(repeating: "`", count: max(3, longestBacktickRun(content) + 1))
        return fence + info + "\n" + content + "\n" + fence
    }
}
