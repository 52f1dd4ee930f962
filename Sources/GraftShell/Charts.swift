import Foundation
import GraftNN

/// Training curves as text (for the terminal) and as SVG (for transcripts).
enum Charts {
    /// How many of a bar's `width` cells show `fraction` (0…1, clamped). A diverged run's NaN or
    /// infinite loss shows as an empty or full bar, never a trap.
    static func cells(_ fraction: Float, width: Int) -> Int {
        guard fraction.isFinite else { return fraction == .infinity ? width : 0 }
        return Int((Swift.min(Swift.max(fraction, 0), 1) * Float(width)).rounded())
    }

    /// Loss and accuracy per epoch as rows of bars, scaled to the run's range.
    static func text(_ epochs: [EpochRecord]) -> String {
        guard !epochs.isEmpty else { return "" }
        let width = 30
        let maxLoss = max(epochs.map(\.loss).max() ?? 1, epochs.compactMap(\.validationLoss).max() ?? 0, 1e-9)
        var lines = ["epoch  loss                              accuracy"]
        for record in epochs {
            let lossBar = String(repeating: "▇", count: max(1, cells(record.loss / maxLoss, width: width)))
            let accuracyBar = String(repeating: "▇", count: cells(record.accuracy, width: width / 2))
            lines.append(String(format: "%5d  %@ %.4f", record.epoch, lossBar.padding(toLength: width, withPad: " ", startingAt: 0), record.loss)
                + "  " + accuracyBar.padding(toLength: width / 2, withPad: " ", startingAt: 0) + " " + fixed(record.accuracy)
                + (record.validationAccuracy.map { "  (val " + fixed($0) + ")" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }

    /// An SVG line chart: loss (left axis) and accuracy (right axis, 0–1) per epoch, with validation if present.
    static func svg(_ epochs: [EpochRecord], title: String) -> String {
        let (w, h, left, right, top, bottom) = (560.0, 300.0, 50.0, 50.0, 30.0, 40.0)
        let plotW = w - left - right, plotH = h - top - bottom
        let maxLoss = Double(max(epochs.map(\.loss).max() ?? 1, epochs.compactMap(\.validationLoss).max() ?? 0, 1e-9)) * 1.05
        let n = max(epochs.count - 1, 1)
        func x(_ i: Int) -> Double { left + plotW * Double(i) / Double(n) }
        func yLoss(_ v: Float) -> Double { top + plotH * (1 - Double(v) / maxLoss) }
        func yAcc(_ v: Float) -> Double { top + plotH * (1 - Double(v)) }
        func path(_ values: [Float?], _ y: (Float) -> Double) -> String {
            values.enumerated().compactMap { i, v in v.map { String(format: "%@%.1f,%.1f", i == 0 ? "M" : "L", x(i), y($0)) } }.joined(separator: " ")
        }
        var svg = [String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">", w, h),
                   "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
                   "<text x=\"\(Int(left))\" y=\"18\" font-weight=\"bold\">\(title.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;"))</text>",
                   String(format: "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>", left, top, plotW, plotH)]
        for (i, record) in epochs.enumerated() {
            svg.append(String(format: "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%d</text>", x(i), h - bottom + 16, record.epoch))
        }
        svg.append(String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">epoch</text>", left + plotW / 2, h - 6))
        svg.append(String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>", left - 4, top + 4, maxLoss))
        svg.append(String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">0</text>", left - 4, top + plotH))
        svg.append(String(format: "<text x=\"%.0f\" y=\"%.0f\">1.0</text>", w - right + 4, top + 4))
        svg.append(String(format: "<text x=\"%.0f\" y=\"%.0f\">0</text>", w - right + 4, top + plotH))
        let series: [(String, [Float?], (Float) -> Double, String, String)] = [
            ("loss", epochs.map { $0.loss }, yLoss, "#d62728", ""),
            ("val_loss", epochs.map(\.validationLoss), yLoss, "#d62728", " stroke-dasharray=\"4 3\""),
            ("accuracy", epochs.map { $0.accuracy }, yAcc, "#1f77b4", ""),
            ("val_accuracy", epochs.map(\.validationAccuracy), yAcc, "#1f77b4", " stroke-dasharray=\"4 3\""),
        ]
        var legend = 0
        for (name, values, y, colour, dash) in series where values.contains(where: { $0 != nil }) {
            svg.append("<path d=\"\(path(values, y))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash)/>")
            svg.append(String(format: "<text x=\"%.0f\" y=\"%.0f\" fill=\"%@\">%@</text>", left + 10 + Double(legend) * 110, top + 16, colour, name))
            legend += 1
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }
}
