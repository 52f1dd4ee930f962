import Foundation
import GraftNN

/// A notebook-style Markdown transcript: each command as an input cell, its output below it,
/// training curves as SVG files in a folder beside the transcript, linked from it.
public final class Transcript {
    let path: URL
    let assets: URL
    private var markdown: String
    private var charts = 0
    private let capture = CapturedOutput()

    public init(path: String, title: String) throws {
        self.path = URL(fileURLWithPath: path)
        self.assets = self.path.deletingPathExtension().appendingPathExtension("files")
        markdown = "# \(title)\n\nTranscript written by graft \(graftVersion). Each cell is a command and its output.\n"
    }

    /// The sink to tee the shell's output into.
    public var sink: OutputSink { capture }

    /// Starts a cell: drops whatever was printed before it (the echoed command).
    public func begin() { _ = capture.take() }

    public func cell(number: Int, command: String, failed: Bool) {
        var output = capture.take()
        if output.hasPrefix("> " + command + "\n") { output.removeFirst(command.count + 3) }
        markdown += "\n**[\(number)]** `\(command)`\n"
        let text = output.trimmingCharacters(in: .newlines)
        if !text.isEmpty { markdown += "\n```text\n\(text)\n```\n" }
        if failed { markdown += "\n*(this command failed)*\n" }
    }

    /// Writes a training chart as SVG and links it from the current cell.
    public func chart(title: String, epochs: [EpochRecord]) {
        guard !epochs.isEmpty else { return }
        charts += 1
        let name = "training-\(charts).svg"
        do {
            try FileManager.default.createDirectory(at: assets, withIntermediateDirectories: true)
            try Data(Charts.svg(epochs, title: title).utf8).write(to: assets.appendingPathComponent(name), options: .atomic)
            pendingImages.append("![\(title): loss and accuracy per epoch](\(assets.lastPathComponent)/\(name))")
        } catch {}
    }

    private var pendingImages: [String] = []

    /// Links the charts made during the last cell.
    public func flushImages() {
        for image in pendingImages { markdown += "\n\(image)\n" }
        pendingImages = []
    }

    public func write() throws {
        try FileManager.default.createDirectory(at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = path.deletingLastPathComponent().appendingPathComponent(".\(path.lastPathComponent).tmp")
        try Data(markdown.utf8).write(to: temporary)
        _ = rename(temporary.path, path.path)
    }
}
