import GraftTensor

/// Which layers a selector names. Selectors, as users type them:
/// - `all`
/// - a layer name (`layer4.1.conv2`), or a block prefix that names every layer under it (`layer4`)
/// - a glob (`block6*`, `layer?.0.*`)
/// - an inclusive range in summary order, by names or indices (`conv1..layer2`, `3..10`)
/// - numbered blocks, inclusive (`blocks.8-11`, `encoder.layer.10-11`, `layer4.0-1`): every layer
///   under `blocks.8` … `blocks.11`
/// - `type=BatchNorm` (the layer kind, case-insensitive prefix: `type=conv` matches Conv2d)
/// - `last=N`: the last N layers that have parameters
public enum LayerSelector {
    public static func resolve(_ selector: String, in model: Model) throws(ModelError) -> [Int] {
        let names = model.nodes.map(\.name)
        let all = Array(model.nodes.indices.dropFirst())  // never the input
        if selector == "all" { return all }
        if selector == "head" || selector == "backbone" {
            // The head: the layers `head` grafted, or else those after the last global pooling or
            // flatten (where `head` would cut); the backbone: everything before it.
            let grafted = all.filter { model.nodes[$0].isHead }
            let cut = grafted.isEmpty ? model.defaultCutPoint : (grafted.min() ?? 1) - 1
            guard let cut else {
                throw .badSelector(selector: selector, reason: "this model has no grafted head and no global pooling or flatten to tell its head from its backbone; name layers, or use last=N")
            }
            let head = grafted.isEmpty ? all.filter { $0 > cut } : grafted
            let picked = selector == "head" ? head : all.filter { !head.contains($0) }
            guard !picked.isEmpty else { throw .badSelector(selector: selector, reason: "this model's \(selector) has no layers") }
            return picked
        }
        if selector.hasPrefix("type=") {
            let kind = selector.dropFirst(5).lowercased()
            let matched = all.filter { model.nodes[$0].layer.kind.lowercased().hasPrefix(kind) }
            guard !matched.isEmpty else {
                let kinds = Array(Set(model.nodes.map(\.layer.kind))).sorted()
                // Compare with each kind's prefix of the typed length, since a prefix selects too.
                let prefixes = Dictionary(kinds.map { (String($0.prefix(kind.count)), $0) }, uniquingKeysWith: { first, _ in first })
                let suggestion = nearest(String(kind), in: Array(prefixes.keys)).flatMap { prefixes[$0] }
                throw .badSelector(selector: selector, reason: "no layer of that type" + (suggestion.map { "; did you mean type=\($0)?" } ?? " (types here: \(kinds.joined(separator: ", ")))"))
            }
            return matched
        }
        if selector.hasPrefix("last=") {
            guard let n = Int(selector.dropFirst(5)), n > 0 else { throw .badSelector(selector: selector, reason: "last=N needs a positive count") }
            return Array(all.filter { !model.nodes[$0].layer.parameters.isEmpty }.suffix(n))
        }
        if !names.contains(selector), let blocks = try numberedBlocks(selector, in: model) { return blocks }
        if let range = selector.range(of: "..") {
            let low = String(selector[..<range.lowerBound]), high = String(selector[range.upperBound...])
            func position(_ end: String) throws(ModelError) -> Int {
                if let index = Int(end) {
                    guard index >= 0 && index < names.count else {
                        throw .badSelector(selector: selector, reason: "index \(index) is outside 0…\(names.count - 1)")
                    }
                    return index
                }
                let matches = try resolveName(end, in: model, selector: selector)
                return end == low ? (matches.min() ?? 0) : (matches.max() ?? 0)
            }
            let (a, b) = (try position(low), try position(high))
            guard a <= b else { throw .badSelector(selector: selector, reason: "'\(low)' comes after '\(high)' in the summary") }
            return Array(a...b).filter { $0 > 0 }
        }
        return try resolveName(selector, in: model, selector: selector)
    }

    /// `PREFIX.A-B`: the layers under `PREFIX.A` … `PREFIX.B` (nil when the selector is not of that
    /// form); every block must exist.
    static func numberedBlocks(_ selector: String, in model: Model) throws(ModelError) -> [Int]? {
        guard let dot = selector.lastIndex(of: ".") else { return nil }
        let prefix = String(selector[..<dot]), numbers = selector[selector.index(after: dot)...].split(separator: "-", omittingEmptySubsequences: false)
        guard !prefix.isEmpty, numbers.count == 2, numbers.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        guard let low = Int(numbers[0]), let high = Int(numbers[1]), low < 1 << 40, high < 1 << 40 else { throw .badSelector(selector: selector, reason: "a block number is too large") }
        guard low <= high else { throw .badSelector(selector: selector, reason: "block \(low) comes after block \(high)") }
        let indices = Array(model.nodes.indices.dropFirst())
        var picked: [Int] = []
        for block in low...Swift.min(high, low + 100_000) {
            let name = "\(prefix).\(block)"
            let matched = indices.filter { model.nodes[$0].name == name || model.nodes[$0].name.hasPrefix(name + ".") }
            guard !matched.isEmpty else { throw .badSelector(selector: selector, reason: "there is no block '\(name)'") }
            picked += matched
        }
        guard high - low <= 100_000 else { throw .badSelector(selector: selector, reason: "there is no block '\(prefix).\(low + 100_001)'") }
        return picked
    }

    /// A name, a block prefix or a glob.
    static func resolveName(_ pattern: String, in model: Model, selector: String) throws(ModelError) -> [Int] {
        let indices = Array(model.nodes.indices.dropFirst())
        if pattern.contains("*") || pattern.contains("?") {
            let matched = indices.filter { glob(pattern, matches: model.nodes[$0].name) }
            guard !matched.isEmpty else { throw .badSelector(selector: selector, reason: "no layer name matches '\(pattern)'") }
            return matched
        }
        let matched = indices.filter { model.nodes[$0].name == pattern || model.nodes[$0].name.hasPrefix(pattern + ".") }
        guard !matched.isEmpty else {
            throw .unknownLayer(name: pattern, suggestion: nearest(pattern, in: model.nodes.map(\.name) + blockPrefixes(model)))
        }
        return matched
    }

    /// Every dotted prefix of a layer name (`layer4`, `layer4.1`), so typos of blocks get suggestions too.
    static func blockPrefixes(_ model: Model) -> [String] {
        var prefixes = Set<String>()
        for node in model.nodes {
            let parts = node.name.split(separator: ".")
            for n in stride(from: 1, to: parts.count, by: 1) { prefixes.insert(parts.prefix(n).joined(separator: ".")) }
        }
        return prefixes.sorted()
    }

    /// Shell-style wildcard match: `*` any run, `?` one character.
    public static func glob(_ pattern: String, matches text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var (pi, ti) = (0, 0)
        var star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1; ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// What a freeze or unfreeze changed.
public struct TrainableChange: Sendable {
    /// Layers whose flag changed.
    public let changed: [String]
    /// Selected layers that already had the wanted flag, or have no parameters.
    public let unchanged: Int
    public let trainableParameters: Int
    public let totalParameters: Int
    /// Unfrozen BatchNorm layers that keep normalizing with their running statistics (pretrained or
    /// frozen before; see ``BatchNorm/keepsStatistics``).
    public var keptStatistics: [String] = []
    /// Unfrozen BatchNorm layers that now train on batch statistics (fresh ones, or `bn=train`).
    public var trainingStatistics: [String] = []
}

extension Model {
    /// Sets the trainable flag of every layer the selectors name. All selectors are resolved before
    /// anything changes, so a bad one leaves the model as it was. Takes effect at once.
    ///
    /// Freezing a BatchNorm makes it keep its statistics from then on; unfreezing it leaves that as
    /// it is (its γ and β train, its running statistics stay) unless `batchNormTrains` says to
    /// update them again (`bn=train`).
    @discardableResult
    public func setTrainable(_ trainable: Bool, _ selectors: [String], batchNormTrains: Bool = false) throws(ModelError) -> TrainableChange {
        guard !selectors.isEmpty else { throw .badSelector(selector: "", reason: "name at least one layer, pattern or 'all'") }
        var selected = Set<Int>()
        for selector in selectors { selected.formUnion(try LayerSelector.resolve(selector, in: self)) }
        var changed: [String] = []
        var unchanged = 0
        var kept: [String] = [], updating: [String] = []
        for index in selected.sorted() {
            let layer = nodes[index].layer
            if layer.setTrainable(trainable, batchNormTrains: batchNormTrains) { changed.append(nodes[index].name) } else { unchanged += 1 }
            if trainable, let keeps = (layer as? any RunningStatistics)?.keepsStatistics { if keeps { kept.append(nodes[index].name) } else { updating.append(nodes[index].name) } }
        }
        return TrainableChange(changed: changed, unchanged: unchanged, trainableParameters: trainableParameterCount,
                               totalParameters: parameterCount, keptStatistics: kept, trainingStatistics: updating)
    }
}
