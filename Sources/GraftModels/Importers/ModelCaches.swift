import Foundation
import GraftFormats

/// Where the frameworks keep the models they downloaded, read (never written, never filled):
/// torch hub's checkpoints (`$TORCH_HOME`, else `~/.cache/torch`, then `hub/checkpoints/`: torchvision's
/// `resnet50-0676ba61.pth`), the Hugging Face hub (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
/// `~/.cache/huggingface/hub`: `models--ORG--NAME/snapshots/REVISION/`, where transformers and timm
/// put theirs) and Keras's (`$KERAS_HOME`, else `~/.keras`, then `models/`). `load NAME` looks there
/// when NAME is no file; `models --cached` lists what they hold.
public enum ModelCaches {
    public struct Entry: Sendable, Equatable {
        /// What `load` takes: a file's name, or a hub model's `ORG/NAME`.
        public let name: String
        public let path: String
        /// `torch hub`, `Hugging Face hub` or `Keras`.
        public let cache: String
        public let bytes: Int
    }

    /// The three caches' folders under `environment` (the process's, or a test's).
    public static func roots(_ environment: [String: String]) -> [(cache: String, folder: URL)] {
        let home = URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory())
        let cacheHome = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) } ?? home.appendingPathComponent(".cache")
        let torch = (environment["TORCH_HOME"].map { URL(fileURLWithPath: $0) } ?? cacheHome.appendingPathComponent("torch"))
            .appendingPathComponent("hub/checkpoints")
        let hub = environment["HF_HUB_CACHE"].map { URL(fileURLWithPath: $0) }
            ?? (environment["HF_HOME"].map { URL(fileURLWithPath: $0) } ?? cacheHome.appendingPathComponent("huggingface")).appendingPathComponent("hub")
        let keras = (environment["KERAS_HOME"].map { URL(fileURLWithPath: $0) } ?? home.appendingPathComponent(".keras")).appendingPathComponent("models")
        return [("torch hub", torch), ("Hugging Face hub", hub), ("Keras", keras)]
    }

    static let modelExtensions: Set<String> = ["pth", "pt", "bin", "safetensors", "h5", "keras", "onnx"]

    /// Every model the caches hold, in cache order, then by name.
    public static func list(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [Entry] {
        let files = FileManager.default
        var entries: [Entry] = []
        for (cache, folder) in roots(environment) {
            let names = ((try? files.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
            if cache == "Hugging Face hub" {
                for name in names where name.hasPrefix("models--") {
                    let parts = name.dropFirst("models--".count).components(separatedBy: "--")
                    guard parts.count == 2, let snapshot = newestSnapshot(folder.appendingPathComponent(name)) else { continue }
                    entries.append(Entry(name: parts.joined(separator: "/"), path: snapshot.path, cache: cache, bytes: size(snapshot)))
                }
            } else {
                for name in names where modelExtensions.contains(URL(fileURLWithPath: name).pathExtension.lowercased()) {
                    let url = folder.appendingPathComponent(name)
                    entries.append(Entry(name: name, path: url.path, cache: cache, bytes: size(url)))
                }
            }
        }
        return entries
    }

    /// The cached model `name` names: a file's whole name, a hub model's `ORG/NAME` (in any case),
    /// or the start of exactly one file's name (`resnet50` for `resnet50-0676ba61.pth`).
    public static func find(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Entry? {
        guard !name.isEmpty, !name.hasPrefix("/"), !name.hasPrefix("."), !name.contains("..") else { return nil }
        let entries = list(environment)
        if let exact = entries.first(where: { $0.name == name || $0.name.lowercased() == name.lowercased() }) { return exact }
        let started = entries.filter { $0.cache != "Hugging Face hub" && ($0.name.hasPrefix(name + "-") || $0.name.hasPrefix(name + ".") || $0.name.hasPrefix(name + "_")) }
        return started.count == 1 ? started[0] : nil
    }

    /// A hub model's newest snapshot that holds weights.
    static func newestSnapshot(_ model: URL) -> URL? {
        let snapshots = model.appendingPathComponent("snapshots")
        let revisions = (try? FileManager.default.contentsOfDirectory(at: snapshots, includingPropertiesForKeys: [.contentModificationDateKey])) ?? []
        let dated = revisions.compactMap { url -> (URL, Date)? in
            let files = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            guard files.contains(where: { ["model.safetensors", "pytorch_model.bin"].contains($0) }) else { return nil }
            return (url, (try? url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast)
        }
        return dated.max { $0.1 < $1.1 }?.0
    }

    /// Bytes of a file or of a folder's files (a snapshot's are links into the hub's blobs: followed).
    static func size(_ url: URL) -> Int {
        func bytes(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: URL(fileURLWithPath: path).resolvingSymlinksInPath().path))?[.size] as? NSNumber)?.intValue ?? 0 }
        guard HuggingFaceFolder.isFolder(url.path) else { return bytes(url.path) }
        return ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).reduce(0) { $0 + bytes(url.appendingPathComponent($1).path) }
    }
}
