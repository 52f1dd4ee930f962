
/// A table of text in aligned columns (the summaries): cells from files are shown with controls
/// escaped and cut to ``TextTable/cellLimit`` characters (their start and end around "…"; `show
/// LAYER` gives a name whole), and the layout is linear in what it is given.
public enum TextTable {
    /// The most characters a cell shows.
    public static let cellLimit = 64

    /// `text` as a cell: controls, separators and bidi characters as escapes (`\x1b`), and at most
    /// `limit` characters.
    public static func cell(_ text: String, limit: Int = cellLimit) -> String {
        var shown = ""
        for scalar in text.unicodeScalars {
            if let escape = scalar.escaped { shown += escape } else { shown.unicodeScalars.append(scalar) }
        }
        let count = shown.count
        guard count > limit, limit > 1 else { return shown }
        // Too long: its start and its end around "…" (the end tells `layer1.0.conv1` from `layer1.1.conv1`).
        let head = (limit - 1) / 2
        return String(shown.prefix(head)) + "…" + String(shown.suffix(limit - 1 - head))
    }

    /// Lines of `rows` (the first is the header) in columns two spaces apart, `numeric` columns
    /// right-aligned, a rule under the header, no trailing spaces.
    public static func render(_ rows: [[String]], numeric: Set<Int> = []) -> [String] {
        guard let header = rows.first else { return [] }
        let counted = rows.map { $0.map(\.count) }
        let widths = header.indices.map { column in counted.map { column < $0.count ? $0[column] : 0 }.max() ?? 0 }
        var lines = zip(rows, counted).map { cells, counts in
            var line = ""
            for (column, cell) in cells.enumerated() {
                if column > 0 { line += "  " }
                let pad = String(repeating: " ", count: max(0, widths[column] - counts[column]))
                line += numeric.contains(column) ? pad + cell : cell + pad
            }
            while line.last == " " { line.removeLast() }
            return line
        }
        lines.insert(String(repeating: "─", count: widths.reduce(0, +) + 2 * (widths.count - 1)), at: 1)
        return lines
    }
}
