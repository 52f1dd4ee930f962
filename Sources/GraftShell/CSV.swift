/// The one escaping function for text that graft writes into CSV files (`predict FOLDER save=`).
enum CSV {
    /// `text` as one RFC 4180 field: quoted when it holds a comma, a quote or a line break (quotes
    /// doubled); other control characters become `?`; a leading `=`, `+`, `-` or `@` (which
    /// spreadsheets run as a formula) gets a `'` before it.
    static func field(_ text: String) -> String {
        var clean = String(text.unicodeScalars.map { scalar -> Character in
            scalar.properties.generalCategory == .control && scalar != "\n" && scalar != "\r" ? "?" : Character(scalar)
        })
        if let first = clean.first, "=+-@".contains(first) { clean = "'" + clean }
        guard clean.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return clean }
        return "\"" + clean.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
