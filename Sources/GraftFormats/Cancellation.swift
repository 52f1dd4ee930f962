import Synchronization

/// Ctrl-C reaches the readers: the shell's SIGINT handler sets this flag, and readers check it
/// between tensors, so a long load stops within one tensor — and, loads being all or nothing,
/// changes nothing.
public enum Cancellation {
    public static let flag = Atomic<Bool>(false)

    /// Throws `interrupted` when Ctrl-C was pressed.
    public static func check(_ file: String) throws(FormatError) {
        if flag.load(ordering: .relaxed) { throw .interrupted(file: file) }
    }
}
