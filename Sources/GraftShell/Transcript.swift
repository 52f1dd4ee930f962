import Foundation
import GraftFormats
import GraftNN
import GraftTraining

/// A notebook-style transcript of a script: each command as an input cell, its output below it, and
/// every picture it made (training curves, the LR finder, confusion matrices, top losses, filters,
/// CAM) as a file in a folder beside it. Written as Markdown (pictures linked) and, when asked, as
/// one self-contained HTML page (pictures inlined).
public final class Transcript {
    let path: URL
    let assets: URL
    let html: URL?
    let title: String
    private let capture = CapturedOutput()

    enum Block {
        case command(number: Int, text: String)
        case output(String)
        case failed
        case picture(title: String, file: String, data: Data)
    }
    private var blocks: [Block] = []
    private var pending: [Block] = []
    private var counts: [String: Int] = [:]

    public init(path: String, title: String, html: String? = nil) throws {
        self.path = URL(fileURLWithPath: path)
        self.assets = self.path.deletingPathExtension().appendingPathExtension("files")
        self.html = html.map { URL(fileURLWithPath: $0) }
        self.title = title
    }

    /// The sink to tee the shell's output into.
    public var sink: OutputSink { capture }

    /// Starts a cell: drops whatever was printed before it (the echoed command).
    public func begin() { _ = capture.take() }

    public func cell(number: Int, command: String, failed: Bool) {
        var output = capture.take()
        if output.hasPrefix("> " + command + "\n") { output.removeFirst(command.count + 3) }
        blocks.append(.command(number: number, text: command))
        // Terminal colours and cursor codes have no place in a document.
        let text = output.replacingOccurrences(of: "\u{1B}\\[[0-9;]*[A-Za-z]", with: "", options: .regularExpression).trimmingCharacters(in: .newlines)
        if !text.isEmpty { blocks.append(.output(text)) }
        if failed { blocks.append(.failed) }
    }

    /// Training curves: loss and accuracy per epoch, as one SVG of two panels.
    public func chart(title: String, epochs: [EpochRecord]) {
        guard !epochs.isEmpty else { return }
        picture(title: "\(title): loss and accuracy per epoch", name: "training.svg", data: Data(Charts.svg(epochs, title: title).utf8))
    }

    /// A picture for the current cell: written beside the transcript as NAME-N.EXT.
    public func picture(title: String, name: String, data: Data) {
        let url = URL(fileURLWithPath: name)
        let base = url.deletingPathExtension().lastPathComponent, ext = url.pathExtension
        counts[base, default: 0] += 1
        pending.append(.picture(title: title, file: "\(base)-\(counts[base] ?? 1).\(ext)", data: data))
    }

    /// Puts the pictures made during the last cell under it.
    public func flushImages() {
        blocks += pending
        pending = []
    }

    public func write() throws {
        // Commands, output and titles hold names from files: each goes through Markdown's escaping.
        var markdown = "# \(Markdown.text(title))\n\nTranscript written by graft \(graftVersion). Each cell is a command and its output.\n"
        var pictures: [(String, Data)] = []
        for block in blocks {
            switch block {
            case let .command(number, text): markdown += "\n**[\(number)]** \(Markdown.code(text))\n"
            case let .output(text): markdown += "\n" + Markdown.codeBlock(text, info: "text") + "\n"
            case .failed: markdown += "\n*(this command failed)*\n"
            case let .picture(title, file, data):
                markdown += "\n![\(Markdown.text(title))](\(Markdown.destination(assets.lastPathComponent + "/" + file)))\n"
                pictures.append((file, data))
            }
        }
        if !pictures.isEmpty {
            // A picture that cannot be written takes back the ones this write made (and their folder, if it made it).
            let made = !FileManager.default.fileExists(atPath: assets.path)
            try makeFolder(assets)
            var written: [URL] = []
            do {
                for (file, data) in pictures {
                    let url = assets.appendingPathComponent(file)
                    if !FileManager.default.fileExists(atPath: url.path) { written.append(url) }
                    try writeAtomically(data, to: url)
                }
            } catch {
                for url in written { try? FileManager.default.removeItem(at: url) }
                if made { try? FileManager.default.removeItem(at: assets) }
                throw error
            }
        }
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        try writeAtomically(Data(markdown.utf8), to: path)
        if let html {
            try FileManager.default.createDirectory(at: html.deletingLastPathComponent(), withIntermediateDirectories: true)
            try writeAtomically(Data(page().utf8), to: html)
        }
    }

    /// One HTML page, pictures inlined as data URLs, no script and nothing fetched.
    func page() -> String {
        var body = ""
        for block in blocks {
            switch block {
            case let .command(number, text): body += "<div class=\"cell\"><span class=\"n\">[\(number)]</span> <code>\(xmlEscaped(text))</code></div>\n"
            case let .output(text): body += "<pre>\(xmlEscaped(text))</pre>\n"
            case .failed: body += "<p class=\"failed\">(this command failed)</p>\n"
            case let .picture(title, file, data):
                let type = file.hasSuffix(".svg") ? "image/svg+xml" : "image/png"
                body += "<figure><img alt=\"\(xmlEscaped(title))\" src=\"data:\(type);base64,\(data.base64EncodedString())\"><figcaption>\(xmlEscaped(title))</figcaption></figure>\n"
            }
        }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(xmlEscaped(title))</title>
        <style>
        body { font-family: sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em; color: #222; }
        .cell { margin-top: 1.6em; font-weight: bold; } .n { color: #888; }
        code { background: #f3f3f3; padding: 0.1em 0.3em; }
        pre { background: #fafafa; border-left: 3px solid #ddd; padding: 0.6em; overflow-x: auto; font-size: 0.85em; line-height: 1.25; }
        figure { margin: 1em 0; } img { max-width: 100%; border: 1px solid #eee; } figcaption { color: #666; font-size: 0.85em; }
        .failed { color: #b00; font-style: italic; }
        </style></head>
        <body>
        <h1>\(xmlEscaped(title))</h1>
        <p>Transcript written by graft \(graftVersion). Each cell is a command and its output.</p>
        \(body)</body></html>

        """
    }
}
