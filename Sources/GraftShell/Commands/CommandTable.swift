import Foundation

/// Every command of the shell, in the order `help` lists them.
public enum CommandTable {
    public static let all: [CommandSpec] = help + models + data + training + teaching + experiments + session
}

/// `0.938` → "0.9380": how figures are printed everywhere (four decimals).
func fixed(_ value: Float, _ digits: Int = 4) -> String { String(format: "%.\(digits)f", Double(value)) }

/// Lists joined for messages: "a, b and 3 more".
func listed(_ names: [String], limit: Int = 6) -> String {
    names.count <= limit ? names.joined(separator: ", ") : names.prefix(limit).joined(separator: ", ") + " and \(names.count - limit) more"
}
