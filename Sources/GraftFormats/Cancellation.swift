import Synchronization

/// Ctrl-C reaches the readers: the shell's SIGINT handler sets this flag, and readers check it
/// between tensors, so a long load stops within one tensor — and, loads being all or nothing,
/// changes nothing.
public enum Cancellation {
    public static let flag = Atomic<Bool>(false)

    /// A Ctrl-C for the work of one task alone (tests press it without reaching work running beside them).
    @TaskLocal public static var pressedHere = false

    /// Whether Ctrl-C was pressed (for the process, or for this task).
    public static var requested: Bool { pressedHere || flag.load(ordering: .relaxed) }

    /// Throws `interrupted` when Ctrl-C was pressed.
    public static func check(_ file: String) throws(FormatError) {
        if requested { throw .interrupted(file: file) }
    }
}
