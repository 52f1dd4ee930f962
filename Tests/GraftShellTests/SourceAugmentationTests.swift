import Foundation
import Testing
@testable import GraftShell
import GraftNN

/// A Keras model's `Random*` layers in training: applied as graft's `augment=` when graft has the
/// same augmentation, a refusal naming the layer when it has not, and `augment=` always overrides.
@Suite("A Keras model's own augmentation in training", .serialized)
struct SourceAugmentationTests {
    static let fixtures = "Tests/Fixtures/formats"

    func weights(_ shell: Shell) throws -> [[Float]] {
        let model = try #require(shell.models[shell.currentModel ?? ""])
        return model.parameters.map(\.parameter.value.scalars)
    }

    @Test func aLayerGraftCannotReproduceStopsTrainingUntilTheUserChooses() throws {
        let (shell, output) = makeShell()
        #expect(shell.execute("load \(Self.fixtures)/preprocessing_zoom.keras").succeeded)
        let shown = output.take()
        #expect(shown.contains("augmentation layers left out (identity at inference): RandomZoom 'zoom', RandomFlip 'flip'; train needs augment=… or augment=none, since graft cannot reproduce RandomZoom 'zoom': graft has no augmentation with its meaning"), "\(shown)")
        #expect(shell.execute("data images Tests/Fixtures/data/folder size=8").succeeded)
        let before = try weights(shell)
        let refused = shell.execute("train epochs=1 batch=4").error?.message ?? "trained"
        #expect(refused.contains("the model's RandomZoom 'zoom': graft has no augmentation with its meaning; say augment=… for graft's augmentation, or augment=none"), "\(refused)")
        #expect(try weights(shell) == before)
        #expect(shell.execute("train epochs=1 batch=4 augment=none").succeeded)
        #expect(try weights(shell) != before)
    }

    /// The carried flip and rotation train to the same bits as typing them, and differ from none.
    @Test func aReproducibleAugmentationTrainsAsIfTyped() throws {
        let (shell, output) = makeShell()
        #expect(shell.execute("load \(Self.fixtures)/preprocessing_flip.keras").succeeded)
        let shown = output.take()
        #expect(shown.contains("augmentation layers left out (identity at inference): RandomFlip 'flip', RandomRotation 'rotate'; train applies them as augment=flip,rotate=18.0 unless given another augment="), "\(shown)")
        func trained(_ options: String) throws -> [[Float]] {
            let (shell, _) = makeShell()
            for line in ["load \(Self.fixtures)/preprocessing_flip.keras", "data images Tests/Fixtures/data/folder size=8", "train epochs=2 batch=4 lr=0.1\(options)"] {
                let result = shell.execute(line)
                #expect(result.succeeded, "\(line): \(result.error?.message ?? "")")
            }
            return try weights(shell)
        }
        let carried = try trained("")
        #expect(carried == (try trained(" augment=flip,rotate=18.0")))
        #expect(carried != (try trained(" augment=none")))
        #expect(carried != (try trained(" augment=flip")))
    }
}
