import Foundation
import GraftNN
import GraftTraining

/// Training curves as text (for the terminal) and as SVG (for transcripts).
enum Charts {
    /// How many of a bar's `width` cells show `fraction` (0…1, clamped). A diverged run's NaN or
    /// infinite loss shows as an empty or full bar, never a trap.
    static func cells(_ fraction: Float, width: Int) -> Int {
        guard fraction.isFinite else { return fraction == .infinity ? width : 0 }
        return Int((Swift.min(Swift.max(fraction, 0), 1) * Float(width)).rounded())
    }

    /// Loss and accuracy per epoch as rows of bars, scaled to the run's range; `marks` puts a
    /// labelled rule above the epochs it names (`fine-tune`'s phase 2).
    static func text(_ epochs: [EpochRecord], marks: [Int: String] = [:]) -> String {
        guard !epochs.isEmpty else { return "" }
        let width = 30
        let maxLoss = max(epochs.map(\.loss).max() ?? 1, epochs.compactMap(\.validationLoss).max() ?? 0, 1e-9)
        var lines = ["epoch  loss                              accuracy"]
        for record in epochs {
            if let mark = marks[record.epoch] { lines.append("  ── \(mark) " + String(repeating: "─", count: max(4, 40 - mark.count))) }
            let lossBar = String(repeating: "▇", count: max(1, cells(record.loss / maxLoss, width: width)))
            let accuracyBar = String(repeating: "▇", count: cells(record.accuracy, width: width / 2))
            lines.append(String(format: "%5d  %@ %.4f", record.epoch, lossBar.padding(toLength: width, withPad: " ", startingAt: 0), record.loss)
                + "  " + accuracyBar.padding(toLength: width / 2, withPad: " ", startingAt: 0) + " " + fixed(record.accuracy)
                + (record.validationAccuracy.map { "  (val " + fixed($0) + ")" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }

    /// Training curves as two line charts, loss and accuracy per epoch (validation dashed when
    /// present): for transcripts, as one SVG of two panels.
    static func curves(_ epochs: [EpochRecord], title: String) -> (loss: LineChart, accuracy: LineChart) {
        func points(_ value: (EpochRecord) -> Float?) -> [(x: Double, y: Double)] {
            epochs.compactMap { record in value(record).map { (Double(record.epoch), Double($0)) } }
        }
        var loss = LineChart(title: "\(title): loss", xTitle: "epoch", yTitle: "loss (cross-entropy)",
                             series: [.init(name: "train loss", colour: "#d62728", points: points { $0.loss })], integerX: true)
        var accuracy = LineChart(title: "\(title): accuracy", xTitle: "epoch", yTitle: "accuracy (fraction correct)",
                                 series: [.init(name: "train accuracy", colour: "#1f77b4", points: points { $0.accuracy })], integerX: true)
        if epochs.contains(where: { $0.validationLoss != nil }) {
            loss.series.append(.init(name: "val loss", colour: "#d62728", points: points(\.validationLoss), dashed: true))
            accuracy.series.append(.init(name: "val accuracy", colour: "#1f77b4", points: points(\.validationAccuracy), dashed: true))
        }
        return (loss, accuracy)
    }

    /// The two panels of ``curves`` side by side in one SVG.
    static func svg(_ epochs: [EpochRecord], title: String) -> String {
        let (loss, accuracy) = curves(epochs, title: title)
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1280\" height=\"360\" viewBox=\"0 0 1280 360\">\n"
            + "<g>\n" + loss.svg() + "</g>\n<g transform=\"translate(640 0)\">\n" + accuracy.svg() + "</g>\n</svg>\n"
    }
}

/// A line chart of one or more series, drawn as text (braille dots, for the terminal) or as SVG
/// (for transcripts): axes with ticks and titles, an optional logarithmic x axis, marked x
/// positions, a legend outside the plot.
struct LineChart {
    struct Series {
        let name: String
        let colour: String
        let points: [(x: Double, y: Double)]
        var dashed = false
    }
    struct Mark {
        let x: Double
        let label: String
    }
    var title: String
    var xTitle: String
    var yTitle: String
    var series: [Series]
    var logX = false
    var marks: [Mark] = []
    /// Ticks on whole numbers only (epochs).
    var integerX = false

    private var finite: [(x: Double, y: Double)] {
        series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (!logX || $0.x > 0) }
    }

    /// The plotted ranges (x in log10 when logarithmic), padded when flat.
    private var ranges: (x: ClosedRange<Double>, y: ClosedRange<Double>)? {
        let points = finite
        guard !points.isEmpty else { return nil }
        let xs = points.map { logX ? Foundation.log10($0.x) : $0.x }, ys = points.map(\.y)
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1), (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x1 - x0 < 1e-12 { x0 -= 0.5; x1 += 0.5 }
        if y1 - y0 < 1e-12 { y0 -= 0.5; y1 += 0.5 }
        return (x0...x1, y0...y1)
    }

    static func label(_ value: Double, log: Bool) -> String {
        if log { return String(format: "%.0e", Foundation.pow(10, value)).replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e") }
        return abs(value) >= 1000 || (abs(value) < 0.01 && value != 0) ? String(format: "%.2g", value) : String(format: "%.3g", value)
    }

    /// Tick positions: whole decades on a log axis (counted down from the last, so the axis is
    /// labelled up to where the run went), about `count` round numbers otherwise.
    static func ticks(_ range: ClosedRange<Double>, log: Bool, count: Int) -> [Double] {
        if log {
            let first = Foundation.ceil(range.lowerBound - 1e-9), last = Foundation.floor(range.upperBound + 1e-9)
            guard first <= last else { return [range.lowerBound, range.upperBound] }
            let every = Swift.max(1, Int(((last - first) / Double(count)).rounded(.up)))
            return stride(from: last, through: first, by: -Double(every)).reversed()
        }
        let raw = (range.upperBound - range.lowerBound) / Double(Swift.max(count, 1))
        let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        let first = Foundation.ceil(range.lowerBound / step) * step
        return stride(from: first, through: range.upperBound + step * 1e-9, by: step).map { $0 }
    }

    func xTicks(_ range: ClosedRange<Double>, count: Int) -> [Double] {
        let ticks = Self.ticks(range, log: logX, count: count)
        guard integerX else { return ticks }
        let whole = ticks.filter { $0 == $0.rounded() }
        return whole.isEmpty ? [range.lowerBound.rounded(.up)].filter { range.contains($0) } : whole
    }

    /// The chart in braille dots: `width` × `height` character cells of plot.
    func text(width: Int = 60, height: Int = 12) -> String {
        guard let (xr, yr) = ranges else { return "\(title): nothing to plot" }
        let dotsW = width * 2, dotsH = height * 4
        var cells = [[UInt8]](repeating: [UInt8](repeating: 0, count: width), count: height)
        func dot(_ x: Int, _ y: Int) {
            guard x >= 0, x < dotsW, y >= 0, y < dotsH else { return }
            let bits: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]
            cells[y / 4][x / 2] |= bits[x % 2][y % 4]
        }
        func position(_ point: (x: Double, y: Double)) -> (Int, Int) {
            let x = logX ? Foundation.log10(point.x) : point.x
            let px = (x - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * Double(dotsW - 1)
            let py = (yr.upperBound - point.y) / (yr.upperBound - yr.lowerBound) * Double(dotsH - 1)
            return (Int(px.rounded()), Int(py.rounded()))
        }
        for s in series {
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite && (!logX || $0.x > 0) }
            for (a, b) in zip(points, points.dropFirst()) {
                let (x0, y0) = position(a), (x1, y1) = position(b)
                let n = Swift.max(abs(x1 - x0), abs(y1 - y0), 1)
                for i in 0...n { dot(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) }
            }
            if points.count == 1 { let (x, y) = position(points[0]); dot(x, y) }
        }
        let yLabels = [yr.upperBound, (yr.upperBound + yr.lowerBound) / 2, yr.lowerBound].map { Self.label($0, log: false) }
        let margin = (yLabels.map(\.count).max() ?? 1) + 1
        var lines = [title, String(repeating: " ", count: margin) + yTitle]
        for row in 0..<height {
            let label = row == 0 ? yLabels[0] : row == height / 2 ? yLabels[1] : row == height - 1 ? yLabels[2] : ""
            let axis = label.isEmpty ? "│" : "┤"
            lines.append(label.leftPadded(margin - 1) + " " + axis + String(cells[row].map { Character(Unicode.Scalar(0x2800 + UInt32($0)) ?? " ") }))
        }
        // The x axis: ticks, their labels, the marks.
        func column(_ x: Double) -> Int {
            let v = logX ? Foundation.log10(x) : x
            return Int(((v - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * Double(width - 1)).rounded())
        }
        var axis = [Character](repeating: "─", count: width), labels = [Character](repeating: " ", count: width + 12)
        for tick in xTicks(xr, count: 5) {
            let c = Int(((tick - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * Double(width - 1)).rounded())
            guard c >= 0, c < width else { continue }
            axis[c] = "┬"
            let text = Array(Self.label(tick, log: logX))
            let at = Swift.max(0, Swift.min(c - text.count / 2, labels.count - text.count))
            if labels[at..<at + text.count].allSatisfy({ $0 == " " }) && (at == 0 || labels[at - 1] == " ") {
                for (i, ch) in text.enumerated() { labels[at + i] = ch }
            }
        }
        let pad = String(repeating: " ", count: margin)
        lines.append(pad + "└" + String(axis))
        lines.append(pad + " " + String(labels).replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression) + "   " + xTitle)
        if !marks.isEmpty {
            var row = [Character](repeating: " ", count: width)
            let symbols: [Character] = ["▲", "△", "◆", "◇"]
            for (i, mark) in marks.enumerated() where mark.x.isFinite && (!logX || mark.x > 0) {
                let c = column(mark.x)
                if c >= 0 && c < width { row[c] = symbols[i % symbols.count] }
            }
            lines.append(pad + " " + String(row).replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression))
            lines.append(pad + " " + marks.enumerated().map { "\(symbols[$0.offset % symbols.count]) \($0.element.label)" }.joined(separator: "   "))
        }
        if series.count > 1 { lines.append(pad + " " + series.map(\.name).joined(separator: ", ")) }
        return lines.map { $0.replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression) }.joined(separator: "\n")
    }

    /// The chart as SVG: 640×360, legend above the plot, axis titles, tick labels.
    func svg() -> String {
        let (w, h, left, right, top, bottom) = (640.0, 360.0, 64.0, 24.0, 56.0, 48.0)
        let plotW = w - left - right, plotH = h - top - bottom
        var out = [String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">", w, h, w, h),
                   "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>",
                   "<text x=\"\(Int(left))\" y=\"20\" font-size=\"14\" font-weight=\"bold\">\(xmlEscaped(title))</text>"]
        guard let (xr, yr) = ranges else { out.append("</svg>"); return out.joined(separator: "\n") + "\n" }
        let yPad = (yr.upperBound - yr.lowerBound) * 0.05
        let y0 = yr.lowerBound - yPad, y1 = yr.upperBound + yPad
        func px(_ x: Double) -> Double { left + plotW * ((logX ? Foundation.log10(x) : x) - xr.lowerBound) / (xr.upperBound - xr.lowerBound) }
        func pxRaw(_ v: Double) -> Double { left + plotW * (v - xr.lowerBound) / (xr.upperBound - xr.lowerBound) }
        func py(_ y: Double) -> Double { top + plotH * (1 - (y - y0) / (y1 - y0)) }
        out.append(String(format: "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>", left, top, plotW, plotH))
        for tick in xTicks(xr, count: 6) {
            let x = pxRaw(tick)
            out.append(String(format: "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#eee\"/>", x, top, x, top + plotH))
            out.append(String(format: "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%@</text>", x, top + plotH + 16, Self.label(tick, log: logX)))
        }
        for tick in Self.ticks(y0...y1, log: false, count: 5) {
            let y = py(tick)
            out.append(String(format: "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#eee\"/>", left, y, left + plotW, y))
            out.append(String(format: "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%@</text>", left - 6, y + 4, Self.label(tick, log: false)))
        }
        out.append(String(format: "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%@</text>", left + plotW / 2, h - 10, xmlEscaped(xTitle)))
        out.append(String(format: "<text x=\"16\" y=\"%.0f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.0f)\">%@</text>", top + plotH / 2, top + plotH / 2, xmlEscaped(yTitle)))
        var legendX = left
        for s in series {
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite && (!logX || $0.x > 0) }
            let d = points.enumerated().map { String(format: "%@%.1f,%.1f", $0.offset == 0 ? "M" : "L", px($0.element.x), py($0.element.y)) }.joined(separator: " ")
            out.append("<path d=\"\(d)\" fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"2\"\(s.dashed ? " stroke-dasharray=\"5 3\"" : "")/>")
            out.append(String(format: "<line x1=\"%.0f\" y1=\"38\" x2=\"%.0f\" y2=\"38\" stroke=\"%@\" stroke-width=\"2\"%@/>", legendX, legendX + 18, s.colour, s.dashed ? " stroke-dasharray=\"5 3\"" : ""))
            out.append(String(format: "<text x=\"%.0f\" y=\"42\">%@</text>", legendX + 22, xmlEscaped(s.name)))
            legendX += 34 + Double(s.name.count) * 7
        }
        let markColours = ["#2ca02c", "#9467bd", "#8c564b", "#e377c2"]
        for (i, mark) in marks.enumerated() where mark.x.isFinite && (!logX || mark.x > 0) {
            let x = px(mark.x), colour = markColours[i % markColours.count]
            out.append(String(format: "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"%@\" stroke-dasharray=\"3 3\"/>", x, top, x, top + plotH, colour))
            out.append(String(format: "<text x=\"%.0f\" y=\"42\" fill=\"%@\">┆ %@</text>", legendX, colour, xmlEscaped(mark.label)))
            legendX += 24 + Double(mark.label.count) * 7
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// The chart as PNG, laid out as the SVG is (1.5× its size for legibility in the 5×7 font).
    func png() throws -> Data { try canvas().png() }

    /// The PNG's raster (its texts kept for the check that none overlap).
    func canvas() -> Canvas {
        let (w, h, left, right, top, bottom) = (900, 500, 90, 30, 78, 64)
        let plotW = w - left - right, plotH = h - top - bottom
        var canvas = Canvas(width: w, height: h)
        canvas.text(title, x: left, y: 12, scale: 2)
        guard let (xr, yr) = ranges else { return canvas }
        let yPad = (yr.upperBound - yr.lowerBound) * 0.05
        let y0 = yr.lowerBound - yPad, y1 = yr.upperBound + yPad
        func pxRaw(_ v: Double) -> Int { left + Int((Double(plotW) * (v - xr.lowerBound) / (xr.upperBound - xr.lowerBound)).rounded()) }
        func px(_ x: Double) -> Int { pxRaw(logX ? Foundation.log10(x) : x) }
        func py(_ y: Double) -> Int { top + Int((Double(plotH) * (1 - (y - y0) / (y1 - y0))).rounded()) }
        for tick in xTicks(xr, count: 6) {
            let x = pxRaw(tick)
            canvas.line(x, top, x, top + plotH, .light)
            canvas.text(Self.label(tick, log: logX), x: x, y: top + plotH + 8, anchor: .middle)
        }
        for tick in Self.ticks(y0...y1, log: false, count: 5) {
            let y = py(tick)
            canvas.line(left, y, left + plotW, y, .light)
            canvas.text(Self.label(tick, log: false), x: left - 8, y: y - 3, anchor: .end)
        }
        canvas.frame(x: left, y: top, width: plotW, height: plotH, .grey)
        canvas.text(xTitle, x: left + plotW / 2, y: h - 22, anchor: .middle)
        canvas.text(yTitle, x: 8, y: top - 14)
        var legendX = left
        for s in series {
            let colour = Canvas.Colour(hex: s.colour)
            let points = s.points.filter { $0.x.isFinite && $0.y.isFinite && (!logX || $0.x > 0) }.map { (px($0.x), py($0.y)) }
            for (a, b) in zip(points, points.dropFirst()) { canvas.line(a.0, a.1, b.0, b.1, colour, thickness: 2, dash: s.dashed ? 6 : 0) }
            canvas.line(legendX, 52, legendX + 24, 52, colour, thickness: 2, dash: s.dashed ? 6 : 0)
            canvas.text(s.name, x: legendX + 30, y: 49)
            legendX += 48 + Canvas.textWidth(s.name)
        }
        let markColours = ["#2ca02c", "#9467bd", "#8c564b", "#e377c2"]
        for (i, mark) in marks.enumerated() where mark.x.isFinite && (!logX || mark.x > 0) {
            let x = px(mark.x), colour = Canvas.Colour(hex: markColours[i % markColours.count])
            canvas.line(x, top, x, top + plotH, colour, dash: 4)
            canvas.line(legendX, 46, legendX, 58, colour, dash: 3)
            canvas.text(mark.label, x: legendX + 8, y: 49, colour)
            legendX += 32 + Canvas.textWidth(mark.label)
        }
        return canvas
    }
}

/// Text for XML and HTML (SVG charts, the HTML transcript): &, <, > and " escaped.
func xmlEscaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        .replacingOccurrences(of: "\"", with: "&quot;")
}
