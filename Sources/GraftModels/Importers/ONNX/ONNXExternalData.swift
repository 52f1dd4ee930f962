import Foundation
import GraftFormats

/// Initializers whose bytes lie in a file beside the model (`torch.onnx.export` writes
/// `model.onnx` and `model.onnx.data` for large models, and by default since its dynamo exporter).
/// The file comes from outside, so each reference is checked before a byte is read: `location` must
/// name a regular file inside the model's own folder (no absolute path, no `..`, no symlink out of
/// it), and `offset` and `length` must lie within that file.
struct ONNXExternalData {
    /// The model file's folder, symlinks resolved.
    let folder: URL
    private var mapped: [String: Data] = [:]

    init(modelPath: String) {
        folder = URL(fileURLWithPath: modelPath).deletingLastPathComponent().resolvingSymlinksInPath().standardizedFileURL
    }

    /// `proto` with its external bytes moved into `rawData`.
    mutating func resolved(_ proto: Onnx_TensorProto, what: String) throws -> Onnx_TensorProto {
        guard proto.dataLocation == .external else { return proto }
        func fail(_ reason: String) -> ONNXImporter.Failure { ONNXImporter.Failure(description: "\(what): external data \(reason)") }
        var entries: [String: String] = [:]
        for entry in proto.externalData { entries[entry.key] = entry.value }
        guard let location = entries["location"], !location.isEmpty else { throw fail("names no location") }
        let shown = String(location.unicodeScalars.prefix(200).map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        guard !location.hasPrefix("/"), !location.hasPrefix("~"), !location.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }),
              !location.split(separator: "/").contains("..") else {
            throw fail("'\(shown)' must be a file in the model's folder (no absolute path, no '..')")
        }
        let file = folder.appendingPathComponent(location).resolvingSymlinksInPath().standardizedFileURL
        guard file.path.hasPrefix(folder.path.hasSuffix("/") ? folder.path : folder.path + "/") else {
            throw fail("'\(shown)' leads out of the model's folder (a symlink)")
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
        guard let attributes, attributes[.type] as? FileAttributeType == .typeRegular, let size = (attributes[.size] as? NSNumber)?.intValue else {
            throw fail("'\(shown)': no such file beside the model")
        }
        func number(_ key: String) throws -> Int? {
            guard let text = entries[key] else { return nil }
            guard let value = Int(text), value >= 0 else { throw fail("\(key) '\(text.prefix(40))' is not a size") }
            return value
        }
        let offset = try number("offset") ?? 0
        let length = try number("length") ?? (size - min(offset, size))
        guard Checked.fits(offset, length, in: size) else { throw fail("bytes \(offset)..<\(offset &+ length) lie past the end of '\(shown)' (\(size) bytes)") }
        let end = offset + length  // ≤ size: checked above
        if mapped[file.path] == nil {
            do { mapped[file.path] = try Data(contentsOf: file, options: .alwaysMapped) } catch { throw fail("'\(shown)' cannot be read") }
        }
        guard let data = mapped[file.path], data.count == size else { throw fail("'\(shown)' changed while it was read") }
        var copy = proto
        copy.rawData = data.subdata(in: data.startIndex + offset ..< data.startIndex + end)
        copy.dataLocation = .default
        copy.externalData = []
        return copy
    }
}
