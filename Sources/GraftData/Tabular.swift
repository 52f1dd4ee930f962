import Foundation
import GraftFormats

/// Tabular and array datasets: a CSV with a label column, or NumPy `.npy` features with labels.
public enum Tabular {
    /// Rows of numbers with one label column (`labelColumn`, negative counts from the end). Labels may
    /// be integers or names; names become classes in sorted order. A first row that is not numeric is
    /// taken as a header. Every row must have the same number of fields.
    public static func loadCSV(_ path: String, labelColumn: Int = -1, name: String? = nil) throws(DataError) -> Dataset {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .unreadable(path: path, reason: "no such file, or not UTF-8 text")
        }
        return try parseCSV(text, path: path, labelColumn: labelColumn, name: name)
    }

    /// A CSV file's text as a dataset (`path` names it in messages).
    public static func parseCSV(_ text: String, path: String, labelColumn: Int = -1, name: String? = nil) throws(DataError) -> Dataset {
        var features: [Float] = [], rawLabels: [String] = []
        var fieldCount: Int? = nil, labelIndex = 0, sawHeader = false
        // "\r\n" is one Character in Swift: splitting on "\n" alone read a Windows CSV as one line.
        for (offset, line) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).enumerated() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let lineNumber = offset + 1
            if fieldCount == nil {
                guard fields.count >= 2 else { throw .badLine(path: path, line: lineNumber, reason: "need at least one feature and a label, found \(fields.count) field") }
                fieldCount = fields.count
                labelIndex = labelColumn < 0 ? fields.count + labelColumn : labelColumn
                guard (0..<fields.count).contains(labelIndex) else {
                    throw .invalidArgument(what: "label column", reason: "\(labelColumn) is outside the \(fields.count) columns of \(path)")
                }
                let numeric = fields.enumerated().allSatisfy { $0.offset == labelIndex || Double($0.element) != nil }
                if !numeric && !sawHeader { sawHeader = true; continue }
            }
            guard fields.count == fieldCount else {
                throw .badLine(path: path, line: lineNumber, reason: "\(fields.count) fields, expected \(fieldCount ?? 0)")
            }
            for (column, field) in fields.enumerated() where column != labelIndex {
                guard let value = Double(field), value.isFinite else {
                    throw .badLine(path: path, line: lineNumber, reason: "field \(column + 1) '\(field)' is not a number")
                }
                features.append(Float(value))
            }
            guard !fields[labelIndex].isEmpty else { throw .badLine(path: path, line: lineNumber, reason: "empty label") }
            rawLabels.append(fields[labelIndex])
        }
        guard let fieldCount, !rawLabels.isEmpty else { throw .empty(path: path, reason: "no data rows") }
        let (labels, classNames) = classify(rawLabels)
        return Dataset(name: name ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent, classNames: classNames,
                       train: Samples(sampleShape: [fieldCount - 1], labels: labels, floats: features))
    }

    /// Features [N, …] from one `.npy` file and integer labels [N] from another.
    public static func loadArrays(features featuresPath: String, labels labelsPath: String, name: String? = nil) throws(DataError) -> Dataset {
        let features = try readNumPy(featuresPath)
        let labelArray = try readNumPy(labelsPath)
        guard let labels = labelArray.integers, labelArray.shape.count == 1 else {
            throw .unreadable(path: labelsPath, reason: "labels must be a 1-D integer array, found \(labelArray.dtype.rawValue) \(labelArray.shape)")
        }
        guard features.shape.count >= 2, features.shape[0] == labels.count else {
            throw .unreadable(path: featuresPath, reason: "features \(features.shape) do not match \(labels.count) labels")
        }
        guard labels.allSatisfy({ $0 >= 0 }) else { throw .unreadable(path: labelsPath, reason: "labels must be non-negative") }
        let classes = (labels.max() ?? 0) + 1
        return Dataset(name: name ?? URL(fileURLWithPath: featuresPath).deletingPathExtension().lastPathComponent,
                       classNames: (0..<classes).map(String.init),
                       train: Samples(sampleShape: Array(features.shape.dropFirst()), labels: labels, floats: features.values))
    }

    public static func readNumPy(_ path: String) throws(DataError) -> NumPyArray {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw .unreadable(path: path, reason: "no such file or unreadable")
        }
        do { return try NumPyArray(data: data, name: URL(fileURLWithPath: path).lastPathComponent) } catch {
            throw .unreadable(path: path, reason: error.description)
        }
    }

    /// Integer labels stay as they are (classes 0…max); names become classes in sorted order.
    static func classify(_ raw: [String]) -> ([Int], [String]) {
        let integers = raw.compactMap { Int($0) }
        if integers.count == raw.count, integers.allSatisfy({ $0 >= 0 && $0 < 100_000 }) {
            return (integers, (0...(integers.max() ?? 0)).map(String.init))
        }
        let names = Array(Set(raw)).sorted()
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        return (raw.map { index[$0] ?? 0 }, names)
    }
}
