import GraftFormats
import GraftNN
import GraftTensor

/// Puts a state dict's tensors into a model by key (through the import pipeline's
/// ``WeightTransfer``), and reports what did not fit.
public enum StateDictLoader {
    public struct Report: Sendable {
        public var loaded = 0
        /// Model keys the state dict lacks.
        public var missing: [String] = []
        /// State-dict keys the model lacks.
        public var unexpected: [String] = []
        /// Keys present in both with different shapes: (key, model's, file's).
        public var mismatched: [(String, [Int], [Int])] = []

        public var isComplete: Bool { missing.isEmpty && mismatched.isEmpty }

        public var description: String {
            var parts = ["\(loaded) tensors loaded"]
            if !missing.isEmpty { parts.append("missing from the file: " + missing.prefix(8).joined(separator: ", ") + (missing.count > 8 ? " and \(missing.count - 8) more" : "")) }
            if !unexpected.isEmpty { parts.append("not in the model: " + unexpected.prefix(8).joined(separator: ", ") + (unexpected.count > 8 ? " and \(unexpected.count - 8) more" : "")) }
            for (key, model, file) in mismatched.prefix(8) {
                parts.append("shape mismatch for \(key): model expects \(formatShape(model)), file has \(formatShape(file))")
            }
            return parts.joined(separator: "; ")
        }
    }

    /// Keys the loader ignores: PyTorch's BatchNorm step counters.
    static func ignored(_ key: String) -> Bool { key.hasSuffix(".num_batches_tracked") }

    /// Copies every tensor whose key and shape match; checks everything first and changes nothing
    /// unless `requireComplete` is false or the state dict covers the model. With `adopting`, the
    /// parameters take the state dict's tensors themselves (no copy; the caller gives them up, as
    /// when they were just read from a file); tensors sharing memory are still copied apart.
    @discardableResult
    public static func apply(_ state: StateDict, to model: Model, requireComplete: Bool = true, adopting: Bool = false) throws(ModelError) -> Report {
        var report = Report()
        let parameters = Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.key, $0.parameter) })
        let buffers = Dictionary(uniqueKeysWithValues: model.buffers.map { ($0.key, $0.tensor) })
        let fileKeys = Set(state.tensors.map(\.name))
        report.missing = (model.parameters.map(\.key) + model.buffers.map(\.key)).filter { !fileKeys.contains($0) }
        var transfer = WeightTransfer()
        for (key, tensor) in state.tensors where !ignored(key) {
            if let parameter = parameters[key] {
                if parameter.shape == tensor.shape { transfer.parameter(parameter, tensor, name: key) } else { report.mismatched.append((key, parameter.shape, tensor.shape)) }
            } else if let buffer = buffers[key] {
                if buffer.shape == tensor.shape { transfer.buffer(buffer, tensor, name: key) } else { report.mismatched.append((key, buffer.shape, tensor.shape)) }
            } else {
                report.unexpected.append(key)
            }
        }
        if requireComplete && !report.isComplete {
            throw .invalidArgument(what: "load", reason: report.description)
        }
        try transfer.commit(adopting: adopting)
        report.loaded = transfer.count
        return report
    }
}
