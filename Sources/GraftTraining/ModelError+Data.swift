import GraftData
import GraftNN

extension ModelError {
    /// A data error met while training or scoring a model, with its message unchanged.
    static func data(_ error: DataError) -> ModelError { .input(reason: error.description) }
}
