import Foundation
import GraftNN
import GraftFormats

/// The files a session reads and writes: one place that turns the paths commands are given into
/// files, and that keeps a replay from destroying what it did not write.
///
/// - Relative paths resolve against the folder of the session being replayed (so a session runs
///   the same from any folder), or the current folder at the prompt; `~` is the home folder.
/// - A replay never replaces a file or folder it did not write itself in this run: when what it
///   would write is byte for byte what is there, nothing is written; otherwise the new file goes
///   beside the old one (`weights-2.safetensors`), the run says so, and its later lines that name
///   the old path read the new file.
/// - At the prompt, `save model` replaces a file (the user just asked for it); a file or folder the
///   command did not make is never removed.
struct SessionFiles {
    /// Absolute paths this shell wrote (files and export folders).
    var written: Set<String> = []
    /// Paths a replay wrote beside an existing file, by the path the session gave.
    var beside: [String: String] = [:]
    /// Folders of the scripts being replayed, innermost last.
    var folders: [String] = []
}

extension Shell {
    /// The folder relative paths resolve against: the replayed session's, else the current one.
    var pathBase: String { files.folders.last ?? FileManager.default.currentDirectoryPath }

    /// `path` as a file: `~` expanded, made absolute against ``pathBase``, and (in a replay that
    /// wrote it beside an existing file) the file the run wrote.
    /// At the prompt a relative path stays relative (the current folder is its base, and messages
    /// show it as typed).
    func resolve(_ path: String) -> String {
        let expanded = NSString(string: path).expandingTildeInPath
        let full = absolute(expanded)
        if let moved = files.beside[full] { return moved }
        // A file inside a folder that was written beside (an export's weights).
        for (old, new) in files.beside where full.hasPrefix(old + "/") { return new + full.dropFirst(old.count) }
        return files.folders.isEmpty ? expanded : full
    }

    /// `path` made absolute against ``pathBase`` (how written files are told apart).
    func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? URL(fileURLWithPath: path).standardizedFileURL.path : URL(fileURLWithPath: pathBase).appendingPathComponent(path).standardizedFileURL.path
    }

    /// `path` as a message shows it: as the user gave it, or the file written beside it.
    func shown(_ given: String, _ resolved: String) -> String {
        files.beside.values.contains(resolved) ? resolved : given
    }

    /// True while a script is replayed (`graft run`, `replay`), where existing files are kept.
    var keepsExistingFiles: Bool { !replaying.isEmpty || mode == .script }

    /// Where a command that makes `path` (resolved) writes: `path` itself, unless a replay would
    /// replace something it did not write in this run; then the first of `path`, `NAME-2.EXT`, …
    /// that is free or already holds what would be written (`same`: then `write` is false).
    func destination(for given: String, same: (String) -> Bool) -> (path: String, write: Bool) {
        let fm = FileManager.default
        let path = absolute(given)
        let url = URL(fileURLWithPath: path)
        let ext = url.pathExtension, stem = url.deletingPathExtension().lastPathComponent, folder = url.deletingLastPathComponent()
        var candidate = path
        for n in 2... {
            guard keepsExistingFiles, fm.fileExists(atPath: candidate), !files.written.contains(candidate) else { return (candidate == path ? given : candidate, true) }
            if same(candidate) { return (candidate == path ? given : candidate, false) }
            candidate = folder.appendingPathComponent(stem + "-\(n)" + (ext.isEmpty ? "" : "." + ext)).path
        }
        return (path, true)
    }

    /// Notes that `resolved` (what the session named `given`) was written at `actual`.
    func wrote(_ actual: String, for resolved: String, given: String) {
        files.written.insert(absolute(actual))
        if actual != resolved {
            files.beside[absolute(resolved)] = actual
            print("note: \(given) exists and this run did not write it, so it was kept; this run's is \(actual), beside it (later lines naming \(given) read that)")
        } else {
            files.beside[absolute(resolved)] = nil
        }
    }

    /// Writes `data` to the file a command named `given`, atomically and by the rules above;
    /// returns the path written (or already holding these bytes).
    /// `same` tells whether a file's bytes count as what would be written (default: equal bytes).
    @discardableResult
    func write(_ data: Data, to given: String, same: @escaping (Data, Data) -> Bool = { $0 == $1 }) throws -> String {
        let resolved = resolve(given)
        // A link at the target is refused at the prompt and in replays alike (never written through,
        // never taken for a file this run may keep and write beside).
        let entry = URL(fileURLWithPath: absolute(resolved))
        if (try? FileManager.default.attributesOfItem(atPath: entry.path))?[.type] as? FileAttributeType == .typeSymbolicLink, let reason = writeRefusal(entry) {
            throw FormatError.cannotWrite(path: given, reason: reason)
        }
        let original = files.beside.first { $0.value == resolved }?.key ?? resolved
        let target = destination(for: original, same: { (try? Data(contentsOf: URL(fileURLWithPath: $0))).map { same($0, data) } ?? false })
        if target.write {
            // Temporary files that killed saves left in that folder go first, and the run says so.
            let url = URL(fileURLWithPath: target.path)
            if let note = staleTemporariesNote(removeStaleTemporaries(in: url.deletingLastPathComponent())) { print(note) }
            try writeAtomically(data, to: url)
        }
        wrote(target.path, for: original, given: given)
        return target.path
    }

    /// `line` (recorded with its relative paths resolved against `base`) with those paths made
    /// relative to `folder` (absolute when `folder` is nil); absolute paths, `~` paths and sample
    /// numbers stay as they are.
    func relocated(_ line: String, from base: String, to folder: String?) -> String {
        guard base != folder, let parsed = try? parser.parse(line), !parsed.pathTokens.isEmpty else { return line }
        var characters = Array(line)
        for token in parsed.pathTokens.sorted(by: { $0.column > $1.column }) {
            let value = token.value
            guard !value.hasPrefix("/"), !value.hasPrefix("~"), value != "-", !value.allSatisfy(\.isNumber) else { continue }
            let absolute = URL(fileURLWithPath: base).appendingPathComponent(value).standardizedFileURL.path
            let path = folder.map { Self.relativePath(absolute, from: $0) } ?? absolute
            guard let text = Lexer.quoted(path) else { continue }
            characters.replaceSubrange(token.column..<min(characters.count, token.column + token.width), with: Array((token.key.map { $0 + "=" } ?? "") + text))
        }
        return String(characters)
    }

    /// `path` relative to `folder` (both absolute): `../Examples/x.png`.
    static func relativePath(_ path: String, from folder: String) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        let base = URL(fileURLWithPath: folder).standardizedFileURL.pathComponents
        var common = 0
        while common < min(target.count, base.count), target[common] == base[common] { common += 1 }
        let parts = Array(repeating: "..", count: base.count - common) + target[common...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// "; did you mean 'r18.pth'?" when `path` does not exist and its folder holds a name close to it.
    func nearbyName(_ path: String) -> String? {
        let resolved = resolve(path)
        guard !FileManager.default.fileExists(atPath: resolved) else { return nil }
        let url = URL(fileURLWithPath: resolved)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path),
              let near = nearest(url.lastPathComponent, in: names.filter { !$0.hasPrefix(".") }) else { return nil }
        let folder = (path as NSString).deletingLastPathComponent
        return "; did you mean '\(folder.isEmpty ? near : folder + "/" + near)'?"
    }
}

/// The note that announces ``removeStaleTemporaries(in:)``'s work (nil when it removed nothing).
public func staleTemporariesNote(_ removed: [String]) -> String? {
    guard !removed.isEmpty else { return nil }
    let shown = removed.prefix(3).map { Terminal.visible($0) }.joined(separator: ", ")
    let more = removed.count > 3 ? " and \(removed.count - 3) more" : ""
    return "note: removed \(shown)\(more): temporary \(removed.count == 1 ? "file" : "files") of a save that was killed before it finished (the process is gone; the saved files are whole)"
}
