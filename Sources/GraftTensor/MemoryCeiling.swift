/// A budget for the tensors one piece of work makes from sizes it was given (a model built from a
/// file's description, a checkpoint's arrays, zeros for a structure): each such tensor is charged
/// when it is made, and one that would take the total past the budget is refused with an error
/// before anything is allocated or mapped (address space included: lazily mapped zeros count in
/// full). The shell opens one around every command that builds a model, of what its memory limit
/// leaves beside the workspace. Outside a budget nothing is charged.
public final class AllocationBudget: @unchecked Sendable {
    /// Bytes the work may take.
    public let limit: Int
    /// Bytes held elsewhere, for the message.
    public let held: Int
    private let used = Locked((charged: 0, refused: false))

    public init(limit: Int, held: Int = 0) { (self.limit, self.held) = (max(0, limit), max(0, held)) }

    /// Bytes charged so far.
    public var charged: Int { used.withLock { $0.charged } }
    /// Whether a tensor was refused.
    public var refused: Bool { used.withLock { $0.refused } }

    @TaskLocal static var current: AllocationBudget?

    /// Runs `body` with this budget.
    public func run<T>(_ body: () throws -> T) rethrows -> T {
        try Self.$current.withValue(self) { try body() }
    }

    /// Charges `count` floats for `op`, or refuses them.
    func charge(_ count: Int, op: String) throws(TensorError) {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        let admitted = used.withLock { used -> Bool in
            guard !overflow, bytes <= limit - used.charged else { used.refused = true; return false }
            used.charged += bytes
            return true
        }
        if !admitted { throw .memoryLimit(op: op, bytes: overflow ? .max : bytes, held: held + charged, limit: held + limit) }
    }
}

/// A shape's element count for a tensor about to be made from given sizes: checked
/// (``checkedCount``) and charged to the current ``AllocationBudget``, if any.
func admittedCount(_ shape: [Int], op: String) throws(TensorError) -> Int {
    let count = try checkedCount(shape, op: op)
    if let budget = AllocationBudget.current { try budget.charge(count, op: op) }
    return count
}
