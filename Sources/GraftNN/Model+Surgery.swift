import GraftTensor

/// What head surgery removed and added.
public struct HeadChange: Sendable {
    public let cutAfter: String
    public let removed: [(name: String, kind: String)]
    public let added: [(name: String, kind: String, details: String)]
}

extension Model {
    /// The default cut point: the end of the feature extractor, found by structure. Walking back
    /// from the output over layers without parameters (softmax, activations, pooling, flatten,
    /// dropout) and over layers that keep the class width (a BatchNorm after the classifier) finds
    /// the classifier: the last layer that maps features to the classes. When a global pooling or
    /// flatten comes before it (a dense classifier), the cut is after that pooling, so the whole dense
    /// stack goes; when the classifier comes first (fully convolutional: conv → pool → softmax), the
    /// cut is at the classifier's input.
    public var defaultCutPoint: Int? {
        let lastPool = nodes.indices.last { nodes[$0].layer.isHeadBoundary }
        let classes = outputShape.first
        var classifier = nodes.count - 1
        while classifier > 0, nodes[classifier].inputs.count == 1 {
            let node = nodes[classifier], input = nodes[classifier].inputs[0]
            let keepsWidth = node.outputShape.first == classes && nodes[input].outputShape.first == classes
            guard node.layer.parameters.isEmpty || (keepsWidth && !node.layer.mixesFeatures) else { break }
            classifier = input
        }
        guard classifier > 0, !nodes[classifier].layer.parameters.isEmpty else { return lastPool }
        if let lastPool, lastPool < classifier { return lastPool }
        var cut = nodes[classifier].inputs.first ?? 0
        while cut > 0, nodes[cut].layer.isIdentityInInference, nodes[cut].inputs.count == 1 { cut = nodes[cut].inputs[0] }
        return cut > 0 ? cut : lastPool
    }

    /// Cuts the graph after `cutAfter` (default: `defaultCutPoint`) and grafts a new head: global
    /// average pooling if the cut is 4-D, optional dropout, optional hidden dense layers (ReLU), and
    /// a dense layer with one output per class. New layers are initialized from `generator` and
    /// trainable; everything is checked before the model changes.
    @discardableResult
    public func replaceHead(classes: Int, classNames names: [String]? = nil, cutAfter: String? = nil, hidden: [Int] = [],
                            dropout: Float = 0, generator: Generator,
                            reserve: (Int) throws(ModelError) -> Void = { _ in }) throws(ModelError) -> HeadChange {
        guard classes >= 2 else { throw .invalidArgument(what: "head", reason: "classes must be at least 2, got \(classes)") }
        if let names, names.count != classes {
            throw .invalidArgument(what: "head", reason: "\(names.count) class names for \(classes) classes")
        }
        guard hidden.allSatisfy({ $0 > 0 }) else { throw .invalidArgument(what: "head", reason: "hidden layer sizes must be positive") }
        guard (0..<1).contains(dropout) else { throw .invalidArgument(what: "head", reason: "dropout must be in [0, 1), got \(dropout)") }
        let cut: Int
        if let cutAfter {
            cut = try index(of: cutAfter)
        } else if let found = defaultCutPoint {
            cut = found
        } else {
            throw .invalidArgument(what: "head", reason: "no global pooling or flatten layer to cut after; name one with at=LAYER")
        }
        guard cut > 0 else { throw .invalidArgument(what: "head", reason: "cannot cut at the input") }
        // Keep the cut node and everything it depends on.
        var needed = Set([cut])
        for index in stride(from: cut, through: 0, by: -1) where needed.contains(index) { needed.formUnion(nodes[index].inputs) }
        let kept = nodes.indices.filter { needed.contains($0) }
        var builder = GraphBuilder(keeping: self, nodes: kept)
        var added: [(String, String, String)] = []
        func add(_ name: String, _ layer: Layer) throws(ModelError) {
            var unique = "head.\(name)", n = 1
            while builder.nodes.contains(where: { $0.name == unique }) { n += 1; unique = "head\(n).\(name)" }
            try builder.add(layer, name: unique, inputs: [builder.last], head: true)
            added.append((unique, layer.kind, layer.details))
        }
        var features = builder.shape(of: builder.last)
        if features.count == 3 {
            try add("pool", GlobalPool2d(.average))
            features = [features[0]]
        } else if features.count != 1 {
            try add("flatten", Flatten())
            features = [features.reduce(1, *)]
        }
        if dropout > 0 { try add("dropout", try Dropout(dropout)) }
        // The new dense layers' bytes, before any is built (hidden=60000,60000 asks for 14 GB).
        var bytes = 0, from = features[0]
        for size in hidden + [classes] {
            let (weights, o1) = from.multipliedReportingOverflow(by: size)
            let (layer, o2) = (weights + size).multipliedReportingOverflow(by: MemoryLayout<Float>.size)
            let (total, o3) = bytes.addingReportingOverflow(layer)
            guard !o1, !o2, !o3 else { throw .invalidArgument(what: "head", reason: "dense layers of \(hidden + [classes]) from \(features[0]) features are too large") }
            (bytes, from) = (total, size)
        }
        try reserve(bytes)
        var width = features[0]
        for (i, size) in hidden.enumerated() {
            try add("fc\(i + 1)", try Dense(width, size, generator: generator))
            try add("relu\(i + 1)", Activation(.relu))
            if dropout > 0 { try add("dropout\(i + 1)", try Dropout(dropout)) }
            width = size
        }
        try add("fc", try Dense(width, classes, generator: generator))
        let removed = nodes.indices.filter { !needed.contains($0) }.map { (nodes[$0].name, nodes[$0].layer.kind) }
        let change = HeadChange(cutAfter: nodes[cut].name, removed: removed, added: added)
        nodes = builder.nodes
        classNames = names ?? (0..<classes).map(String.init)
        return change
    }
}
