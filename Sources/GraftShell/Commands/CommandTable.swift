import Foundation
import GraftFormats
import GraftNN

/// Every command of the shell, in the order `help` lists them.
public enum CommandTable {
    public static let all: [CommandSpec] = help + models + data + training + teaching + experiments + session
}

/// `0.938` → "0.9380": how figures are printed everywhere (four decimals).
func fixed(_ value: Float, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", Double(value)) }

/// Lists joined for messages: "a, b and 3 more".
/// Names from files (layers, classes) as the terminal shows them: escaped and cut (``TextTable/cell(_:limit:)``).
func listed(_ names: [String], limit: Int = 6) -> String {
    let shown = names.prefix(limit).map { TextTable.cell($0) }
    return names.count <= limit ? shown.joined(separator: ", ") : shown.joined(separator: ", ") + " and \(names.count - limit) more"
}
