import Foundation

/// Writing files: every file graft writes goes through ``writeAtomically(_:to:)``, so that a file is
/// either its old self or the whole new one, and nothing is written through a link.

/// Why `url` cannot be written, or nil when it can: its folder must exist, and what is there must be
/// a regular file or nothing. A symbolic link is never written through (it may lead anywhere; a
/// dangling one too), and a folder, a device or a pipe is never replaced.
public func writeRefusal(_ url: URL) -> String? {
    let folder = url.deletingLastPathComponent()
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder) else {
        return "folder \(folder.path) does not exist (create it first)"
    }
    guard isFolder.boolValue else { return "\(folder.path) is not a folder" }
    // attributesOfItem reads the entry itself (lstat): a link is a link, not what it names.
    guard let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType else { return nil }
    switch type {
    case .typeRegular: return nil
    case .typeDirectory: return "it is a folder"
    case .typeSymbolicLink: return "it is a symbolic link (graft never writes through one; remove it or give another name)"
    default: return "it is not a regular file"
    }
}

/// Makes `folder` (and its parents) unless it exists; an existing one must be a real folder, not a
/// link to one, since what graft writes there must stay there.
public func makeFolder(_ folder: URL) throws {
    if let type = (try? FileManager.default.attributesOfItem(atPath: folder.path))?[.type] as? FileAttributeType {
        guard type == .typeDirectory else {
            throw FormatError.cannotWrite(path: folder.path, reason: type == .typeSymbolicLink ? "it is a symbolic link (graft never writes through one)" : "it is not a folder")
        }
        return
    }
    do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
        throw FormatError.cannotWrite(path: folder.path, reason: error.localizedDescription)
    }
}

/// Writes `data` to `url` through a temporary file beside it and a rename, so the file is either the
/// old one or the whole new one. Like `cp`, it never creates folders: a missing one is an error.
public func writeAtomically(_ data: Data, to url: URL) throws {
    if let reason = writeRefusal(url) { throw FormatError.cannotWrite(path: url.path, reason: reason) }
    let folder = url.deletingLastPathComponent()
    removeStaleTemporaries(in: folder)
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    func failure(_ code: Int32) -> FormatError {
        .cannotWrite(path: url.path, reason: "\(String(cString: strerror(code))) (nothing was changed)")
    }
    // Our own temporary name (this process's id): anything there is a leftover of ours, or planted;
    // it is removed, and the new one is made afresh, never opened through a link.
    unlink(temporary.path)
    let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw failure(errno) }
    var code: Int32 = 0
    data.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count, let base = raw.baseAddress {
            let written = write(descriptor, base + offset, raw.count - offset)
            if written < 0 { if errno == EINTR { continue }; code = errno; return }
            offset += written
        }
    }
    if code == 0 && fsync(descriptor) != 0 { code = errno }
    if close(descriptor) != 0 && code == 0 { code = errno }
    // A full disk or any other failure leaves no partial file behind (it would keep the disk full).
    guard code == 0 else { unlink(temporary.path); throw failure(code) }
    guard rename(temporary.path, url.path) == 0 else {
        let code = errno
        unlink(temporary.path)
        throw failure(code)
    }
}

/// Removes `.NAME.PID.tmp` files that writers killed mid-save left in `folder` (their process is
/// gone); a live process's temporary file is never touched. Returns the paths it removed.
@discardableResult
public func removeStaleTemporaries(in folder: URL) -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
    var removed: [String] = []
    for name in names.sorted() where name.hasPrefix(".") && name.hasSuffix(".tmp") {
        let parts = name.dropLast(4).split(separator: ".")
        guard parts.count >= 2, let pid = Int32(parts[parts.count - 1]), pid > 0, pid != getpid() else { continue }
        let path = folder.appendingPathComponent(name).path
        if kill(pid, 0) != 0 && errno == ESRCH && unlink(path) == 0 { removed.append(path) }
    }
    return removed
}

