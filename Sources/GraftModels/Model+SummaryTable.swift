import Foundation
import GraftFormats
import GraftNN

extension Model {
    /// The summary table (a pure function of the model): index, name, type, output shape,
    /// parameters, trainable, mode during training, and inputs for non-sequential graphs; then
    /// the totals. `rows` limits the table to some layers (the totals stay whole).
    public func summary(rows selected: [Int]? = nil) -> String {
        let all = summaryRows
        let rows = selected.map { picks in all.filter { picks.contains($0.index) } } ?? all
        let showInputs = !isSequential
        var header = ["#", "name", "type", "output", "params", "trainable", "mode"]
        if showInputs { header.append("inputs") }
        var table = rows.map { row -> [String] in
            var cells = [String(row.index), TextTable.cell(row.name), TextTable.cell(row.kind + (row.details.isEmpty ? "" : " (\(row.details))")),
                         row.outputShape.map(String.init).joined(separator: "×"), grouped(row.parameters), row.trainable, row.mode]
            if showInputs { cells.append(TextTable.cell(row.inputs.map { TextTable.cell($0) }.joined(separator: ", "), limit: 4 * TextTable.cellLimit)) }
            return cells
        }
        table.insert(header, at: 0)
        var lines = TextTable.render(table, numeric: [0, 4])
        let total = parameterCount, trainable = trainableParameterCount
        lines.append("")
        lines.append("model \(TextTable.cell(name)) (\(TextTable.cell(architecture))): \(nodes.count - 1) layers, input \(describedInputShape)\(freeInputAxes.isEmpty ? "" : " (shapes shown for \(inputShape.map(String.init).joined(separator: "×")))"), output \(outputShape.map(String.init).joined(separator: "×"))" + (classNames.isEmpty ? "" : ", \(classNames.count) classes"))
        lines.append("total params: \(grouped(total)) (\(megabytes(total)))")
        lines.append("trainable params: \(grouped(trainable)) (\(megabytes(trainable)))")
        lines.append("non-trainable params: \(grouped(total - trainable)) (\(megabytes(total - trainable)))")
        let norms = statisticsLayers.filter { !$0.trainsStatistics }
        let frozenNorms = norms.filter(\.isFrozen).count
        let keptNorms = norms.count - frozenNorms
        if frozenNorms > 0 {
            lines.append("frozen BatchNorm: \(frozenNorms) layer\(frozenNorms == 1 ? "" : "s") run in inference mode (running statistics fixed)")
        }
        if keptNorms > 0 {
            lines.append("trainable BatchNorm keeping its statistics: \(keptNorms) layer\(keptNorms == 1 ? "" : "s") (γ and β train; inference mode; unfreeze … bn=train to update them)")
        }
        return lines.joined(separator: "\n")
    }

    private func megabytes(_ count: Int) -> String { String(format: "%.2f MB", Double(count * 4) / 1_048_576) }
}

/// 11689512 → "11,689,512".
public func grouped(_ value: Int) -> String {
    let digits = String(Swift.abs(value))
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return (value < 0 ? "-" : "") + out
}
