import Synchronization

/// Ctrl-C reaches long work: the shell's SIGINT handler sets this flag, and the readers (between
/// tensors) and model building (between layers) check it, so a long load stops soon — and, loads
/// being all or nothing, changes nothing.
public enum Cancellation {
    public static let flag = Atomic<Bool>(false)

    /// A Ctrl-C for the work of one task alone (tests press it without reaching work running beside them).
    @TaskLocal public static var pressedHere = false

    /// Whether Ctrl-C was pressed (for the process, or for this task).
    public static var requested: Bool { pressedHere || flag.load(ordering: .relaxed) }
}
