import GraftData
import GraftNN
import GraftTensor

/// An error the shell shows as `error: …`. `column` (0-based, in the line) puts a caret under
/// the bad token when the error is about an argument.
public struct ShellError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let column: Int?
    public let width: Int

    public init(_ message: String, column: Int? = nil, width: Int = 1) {
        self.message = message
        self.column = column
        self.width = max(1, width)
    }

    /// Wraps an error from a lower layer (model, data, tensor, format) without repeating its type.
    public init(_ error: Error) {
        if let shell = error as? ShellError {
            self = shell
        } else {
            self.init("\(error)")
        }
    }

    public var description: String { message }
}
