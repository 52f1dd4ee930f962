import Foundation
import GraftFormats
import GraftNN
import GraftTensor

/// A computed value as the graph sees it when its batch axis is not alone at the front: attention
/// written with the batch moved (`permute(2, 0, 3, 1, 4)` of [N, T, 3, heads, d]), merged with
/// heads ([N·heads, T, d], the dynamo exporter's k transpose), or second (`nn.MultiheadAttention`:
/// [T, N, C], [T, N·heads, d], [T·N, C]). The graph's axis `a` is the node's axes `groups[a]`
/// merged in that order (0 is the batch). A view is a value of the import only: graft's layers see
/// its node, with the batch first, and the view ends where the batch is alone at the front again.
struct View: Equatable {
    /// The graft node, [N, s₁…s_k].
    let node: Int
    /// For each axis of the graph's value, the node axes it merges, in order.
    let groups: [[Int]]
}

extension ONNXImporter {
    /// The refusal for an operator graft cannot apply to a view.
    static func viewRefusal(_ c: NodeContext) -> Failure {
        Failure(description: "\(c.op) '\(c.nodeName)' of a value whose batch axis a Transpose or Reshape moved off the front is not supported "
                + "(only Transpose, Reshape, Squeeze, Unsqueeze, Shape, a Slice, Gather or Split of an axis without the batch, and operators along the last axis)")
    }

    /// The graph's sizes of a view: a merged group's product; for the batch's group −k, with k the
    /// product of its other axes (the batch times k, as a graph value's Shape writes the batch −1).
    static func sizes(_ c: NodeContext, _ v: View) -> [Int] {
        let shape = [1] + c.shape(v.node)
        return v.groups.map { group in
            let product = group.filter { $0 != 0 }.reduce(1) { $0 * shape[$1] }
            return group.contains(0) ? -product : product
        }
    }

    /// A view as a value: the node itself when the view is the node; a Permute (and a Reshape for
    /// merged axes) when the batch is alone at the front; otherwise the view.
    static func viewed(_ c: NodeContext, _ v: View, name: String? = nil) throws -> Value {
        // The batch alone at the front, beside size-1 axes at most (a squeezed axis's remains).
        let shape = [1] + c.shape(v.node)
        guard let first = v.groups.first, first.contains(0), first.allSatisfy({ shape[$0] == 1 }) else { return .view(v) }
        let order = [0] + v.groups.flatMap { $0 }.filter { $0 != 0 }
        let merges = v.groups.contains { $0.count > 1 }
        let base = name ?? c.nodeName
        var node = v.node
        if order != Array(0..<order.count) {
            node = try c.state.builder.add(try Permute(order.dropFirst().map { $0 - 1 }), name: merges ? "\(base).permute" : base, inputs: [node])
        }
        if merges {
            node = try c.state.builder.add(try Reshape(v.groups.dropFirst().map { $0.reduce(1) { $0 * shape[$1] } }), name: base, inputs: [node])
        }
        return .node(node)
    }

    /// The same view over a node laid out in the view's order (the batch first in the node), with
    /// consecutive axes of one group other than the batch merged into one node axis and size-1
    /// axes dropped: a group without the batch is then one node axis, the last such group the
    /// node's last axis, and two views of the same axes are laid out alike.
    static func normalized(_ c: NodeContext, _ v: View, suffix: String = "") throws -> View {
        let shape = [1] + c.shape(v.node)
        let order = [0] + v.groups.flatMap { $0 }.filter { $0 != 0 }
        var groups: [[Int]] = [], sample: [Int] = []
        for group in v.groups {
            var merged: [Int] = [], run: Int? = nil
            // Size-1 axes hold no order: left out, unless the graph's axis is nothing else.
            let kept = group.filter { $0 == 0 || shape[$0] != 1 }
            for axis in kept.isEmpty ? [group[0]] : kept {
                if axis == 0 {
                    if let r = run { sample.append(r); merged.append(sample.count); run = nil }
                    merged.append(0)
                } else {
                    run = (run ?? 1) * shape[axis]
                }
            }
            if let r = run { sample.append(r); merged.append(sample.count) }
            groups.append(merged)
        }
        var node = v.node
        if order != Array(0..<order.count) {
            node = try c.state.builder.add(try Permute(order.dropFirst().map { $0 - 1 }), name: "\(c.nodeName).arrange\(suffix)", inputs: [node])
        }
        if sample != c.shape(node) { node = try c.state.builder.add(try Reshape(sample), name: "\(c.nodeName).merge\(suffix)", inputs: [node]) }
        return View(node: node, groups: groups)
    }

    /// A Reshape of a view to `target` (sizes, the batch's −k as ``sizes(_:_:)`` writes it, or −1
    /// for the batch times what is left): the target's axes before the batch's take the view's
    /// axes from the front, those after it from the back, splitting a node axis where a size
    /// divides it; the batch's axis takes the rest. Size-1 axes come and go.
    static func reshapeView(_ c: NodeContext, _ v: View, _ given: [Int]) throws -> Value {
        var target = given
        // The batch times k beside a −1 (Swin's [B·windows, T, 3, heads, −1]): the −1 is what the rest leaves.
        if let inferred = target.firstIndex(of: -1), target.contains(where: { $0 < -1 }) {
            // The file's sizes (each within ±2⁴⁰) multiplied with overflow checked.
            let total = c.shape(v.node).reduce(1, *)
            let known = target.indices.filter { $0 != inferred }.reduce(Optional(1)) { product, axis in
                product.flatMap { let (m, overflow) = $0.multipliedReportingOverflow(by: Swift.abs(target[axis])); return overflow ? nil : m }
            }
            guard let known, known > 0, total % known == 0, target.filter({ $0 < 0 }).count == 2 else { throw viewRefusal(c) }
            target[inferred] = total / known
        }
        let negative = target.indices.filter { target[$0] < 0 }
        guard negative.count == 1, let b = negative.first, !target.contains(0), target.count <= 8 else { throw viewRefusal(c) }
        var sample = c.shape(v.node)
        var atoms = v.groups.flatMap { $0 }
        var groups = [[Int]](repeating: [], count: target.count)
        func size(_ axis: Int) -> Int { axis == 0 ? 0 : sample[axis - 1] }
        // Node axis `axis` becomes two: `first` values, then the rest.
        func split(_ axis: Int, first: Int) {
            let whole = sample[axis - 1]
            sample[axis - 1] = first
            sample.insert(whole / first, at: axis)
            atoms = atoms.flatMap { $0 == axis ? [axis, axis + 1] : [$0 > axis ? $0 + 1 : $0] }
            groups = groups.map { $0.map { $0 > axis ? $0 + 1 : $0 } }
        }
        func newAxis() -> Int { sample.append(1); return sample.count }
        // have · s > limit, without overflowing on sizes a file chose.
        func exceeds(_ have: Int, _ s: Int, _ limit: Int) -> Bool {
            let (product, overflow) = have.multipliedReportingOverflow(by: s)
            return overflow || product > limit
        }
        var low = 0, high = atoms.count
        for d in 0..<b {
            var have = 1
            while have < target[d] {
                guard low < high, atoms[low] != 0 else { throw viewRefusal(c) }
                let axis = atoms[low], s = size(axis)
                if exceeds(have, s, target[d]) {
                    guard target[d] % have == 0, s % (target[d] / have) == 0 else { throw viewRefusal(c) }
                    split(axis, first: target[d] / have)
                    high += 1
                }
                groups[d].append(atoms[low])
                have *= size(atoms[low])
                low += 1
            }
            if groups[d].isEmpty { groups[d] = [newAxis()] }
        }
        for d in stride(from: target.count - 1, to: b, by: -1) {
            var have = 1
            while have < target[d] {
                guard high > low, atoms[high - 1] != 0 else { throw viewRefusal(c) }
                let axis = atoms[high - 1], s = size(axis)
                if exceeds(have, s, target[d]) {
                    guard target[d] % have == 0, s % (target[d] / have) == 0 else { throw viewRefusal(c) }
                    split(axis, first: s / (target[d] / have))
                    high += 1
                }
                groups[d].insert(atoms[high - 1], at: 0)
                have *= size(atoms[high - 1])
                high -= 1
            }
            if groups[d].isEmpty { groups[d] = [newAxis()] }
        }
        let middle = Array(atoms[low..<high])
        let rest = middle.filter { $0 != 0 }.reduce(1) { $0 * size($1) }
        guard middle.contains(0), target[b] == -1 || target[b] == -rest else { throw viewRefusal(c) }
        groups[b] = middle
        var node = v.node
        if sample != c.shape(v.node) { node = try c.state.builder.add(try Reshape(sample), name: "\(c.nodeName).split", inputs: [node]) }
        return try viewed(c, View(node: node, groups: groups))
    }

    /// A range of the view's axis `axis` (one node axis without the batch): a Slice of the node.
    static func sliceView(_ c: NodeContext, _ v: View, axis: Int, start: Int, end: Int, name: String) throws -> View {
        guard v.groups.indices.contains(axis), v.groups[axis].count == 1, let nodeAxis = v.groups[axis].first, nodeAxis != 0 else { throw viewRefusal(c) }
        let (s, e) = sliceRange(start: start, end: end, size: c.shape(v.node)[nodeAxis - 1])
        guard e > s else { throw Failure(description: "\(c.op) '\(c.nodeName)': an empty range is not supported") }
        return View(node: try c.state.builder.add(try Slice(axis: nodeAxis - 1, start: s, end: e), name: name, inputs: [v.node]), groups: v.groups)
    }

    /// The view without its axis `axis` (of size 1).
    static func squeezeView(_ c: NodeContext, _ v: View, axes: [Int]) throws -> Value {
        let sizes = sizes(c, v)
        let resolved = Set(axes.map { $0 < 0 ? $0 + sizes.count : $0 })
        guard resolved.allSatisfy({ sizes.indices.contains($0) && sizes[$0] == 1 }) else { throw viewRefusal(c) }
        return try reshapeView(c, v, sizes.indices.filter { !resolved.contains($0) }.map { sizes[$0] })
    }

    /// Operators whose converters take views apart or rearrange them themselves.
    static let viewOperators: Set<String> = ["Transpose", "Reshape", "Squeeze", "Unsqueeze", "Shape", "Slice", "Gather", "Split", "Expand"]

    /// Operators that act along the graph's last axis or on each value alone, which graft can
    /// apply to a view's node laid out in the view's order.
    static let liftedOperators: Set<String> = ["MatMul", "Gemm", "Add", "Sub", "Mul", "Div", "Relu", "Sigmoid", "Tanh", "Erf", "Gelu", "Sqrt", "Clip",
                                               "Softmax", "LayerNormalization", "ReduceL2", "ReduceSumSquare", "ReduceSum", "ReduceMean"]

    /// An operator of `liftedOperators` on a view, with constants that vary along the last axis
    /// only: run on the normalized node, its result seen through the same view. nil when no input
    /// is a view.
    static func lifted(_ context: NodeContext, _ converter: Converter) throws -> [Value]? {
        guard !viewOperators.contains(context.op) else { return nil }
        let inputs = context.node.input.enumerated().filter { !$0.element.isEmpty }
        let views = try inputs.compactMap { position, _ -> (Int, View)? in
            if case let .view(v) = try context.value(position) { return (position, v) } else { return nil }
        }
        guard let (_, first) = views.first else { return nil }
        guard liftedOperators.contains(context.op) else { throw viewRefusal(context) }
        if ["Softmax", "LayerNormalization"].contains(context.op) {
            // Along the last axis only, given as −1 (Softmax before opset 13 flattens from axis 1).
            guard context.int("axis", -1) == -1, context.op != "Softmax" || context.opset >= 13 || context.attribute("axis") != nil else { throw viewRefusal(context) }
        }
        if context.op.hasPrefix("Reduce") {
            // Over the last axis only, kept (F.normalize's norm), given as −1.
            var axes = context.ints("axes")
            if axes == nil, context.node.input.count > 1, case let .constant(t)? = try context.optionalValue(1) { axes = try t.scalars.map { try integer($0, context) } }
            guard axes == [-1] || axes == [first.groups.count - 1], context.int("keepdims", 1) == 1 else { throw viewRefusal(context) }
        }
        let v = try normalized(context, first, suffix: views.count > 1 ? ".0" : "")
        guard let last = v.groups.last, last.count == 1, last != [0] else { throw viewRefusal(context) }
        var values = context.values
        for (position, name) in inputs {
            switch try context.value(position) {
            case let .view(other) where other == first:
                values[name] = .node(v.node)
            case let .view(other):
                // Two views of the same axes, laid out alike: attention's q·kᵀ and weights·v (the same
                // batch axes), or an elementwise operator (the same shape: F.normalize's division).
                let w = try normalized(context, other, suffix: ".\(position)")
                let fits = context.op == "MatMul" ? Array(context.shape(w.node).dropLast(2)) == Array(context.shape(v.node).dropLast(2))
                    : ["Add", "Sub", "Mul", "Div"].contains(context.op) && context.shape(w.node) == context.shape(v.node)
                guard w.groups == v.groups, fits else { throw viewRefusal(context) }
                values[name] = .node(w.node)
            case let .constant(t) where ["MatMul", "Gemm", "Clip"].contains(context.op) || context.op.hasPrefix("Reduce"):
                // Weights, bounds and axes (a reduction's axes, given as −1, read the same on the node).
                values[name] = .constant(t)
            case let .constant(t):
                // A constant varying only along trailing axes that are one node axis each (a bias,
                // Swin's relative position bias): it broadcasts against the node as it is, right-aligned.
                let aligned = [Int](repeating: 1, count: Swift.max(0, v.groups.count - t.rank)) + t.shape
                guard aligned.count == v.groups.count else { throw viewRefusal(context) }
                let from = aligned.firstIndex { $0 != 1 } ?? aligned.count
                guard v.groups[from...].allSatisfy({ $0.count == 1 && $0 != [0] }) else { throw viewRefusal(context) }
                values[name] = .constant(try t.reshaped(from == aligned.count ? [1] : Array(aligned[from...])))
            default:
                throw viewRefusal(context)
            }
        }
        let inner = NodeContext(node: context.node, nodeName: context.nodeName, op: context.op, opset: context.opset, values: values, integers: context.integers, state: context.state)
        return try converter.run(inner).map { result in
            guard case let .node(r) = result, context.shape(r).count == context.shape(v.node).count else { throw viewRefusal(context) }
            return try viewed(context, View(node: r, groups: v.groups))
        }
    }
}
