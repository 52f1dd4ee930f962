/// Arithmetic on numbers a file supplies — offsets, lengths, counts, strides, element counts ×
/// sizes. Any of them may be 2^63 − 1: a sum or product is either checked here or provably small
/// (the readers say which), so an overflow is a malformed file and never a trap.
public enum Checked {
    /// Whether `length` bytes from `offset` lie inside `count` bytes, whatever the values.
    public static func fits(_ offset: Int, _ length: Int, in count: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= count && length <= count - offset
    }

    /// `a + b`, or `error` when the sum does not fit an Int.
    static func add(_ a: Int, _ b: Int, or error: @autoclosure () -> FormatError) throws(FormatError) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw error() }
        return sum
    }

    /// `a · b`, or `error` when the product does not fit an Int.
    static func multiply(_ a: Int, _ b: Int, or error: @autoclosure () -> FormatError) throws(FormatError) -> Int {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { throw error() }
        return product
    }
}
