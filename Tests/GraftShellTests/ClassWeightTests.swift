import Foundation
@testable import GraftTraining
import Testing
@testable import GraftShell
@testable import GraftNN
import GraftTensor

/// `train … class-weights=`: the rules, what the trainer says, refusals, the recipe PyTorch gets,
/// and eval's balanced accuracy and macro F1.
@Suite("Class weights and imbalance figures", .serialized)
struct ClassWeightTests {
    @Test func rules() {
        // scikit-learn / Keras "balanced": n / (C · n_c); an absent class weighs 0.
        #expect(ClassWeights.balanced.weights(counts: [10, 30, 0, 20]) == [1.5, 0.5, 0, 0.75])
        #expect(ClassWeights.auto.weights(counts: [10, 14]) == nil)
        #expect(ClassWeights.auto.weights(counts: [10, 16]) == ClassWeights.balanced.weights(counts: [10, 16]))
        #expect(ClassWeights("0.5, 2,1") == .given([0.5, 2, 1]))
        #expect(ClassWeights("balanced") == .balanced && ClassWeights("auto") == .auto)
        for bad in ["", "1,,2", "-1,2", "nan", "inf,1", "heavy"] { #expect(ClassWeights(bad) == nil, "\(bad)") }
    }

    @Test func trainingSaysWhichWeightsAndRefusesWrongOnes() throws {
        let (shell, output) = makeShell()
        for line in ["new mnist-cnn classes=5", "data mnist digits=0-4 per-class=12"] { #expect(shell.execute(line).succeeded) }
        #expect(shell.execute("train epochs=1 batch=20 class-weights=balanced").succeeded)
        #expect(output.take().contains("class weights (balanced): 0 1, 1 1, 2 1, 3 1, 4 1"))
        #expect(shell.execute("train epochs=1 batch=20 class-weights=auto").succeeded)
        #expect(output.take().contains("class weights (auto): none, the classes are balanced within 1.5×"))
        let recorded = shell.session.entries.count
        #expect(shell.execute("train epochs=1 class-weights=1,2").error?.message.contains("has 5 classes, 2 weights given") == true)
        #expect(shell.execute("train epochs=1 class-weights=0,0,0,0,0").error?.message.contains("weighs 0") == true)
        #expect(shell.execute("train epochs=1 class-weights=heavy").error?.message.contains("class-weights takes balanced, auto or one non-negative number per class") == true)
        #expect(shell.session.entries.count == recorded)
        // Weights change the training: the same run with and without them ends at other weights.
        let (a, _) = makeShell(), (b, _) = makeShell()
        for s in [a, b] { for line in ["new mnist-cnn classes=5", "data mnist digits=0-4 per-class=12"] { #expect(s.execute(line).succeeded) } }
        let plain = a.execute("train epochs=1 batch=20").figures.first ?? ""
        let weighted = b.execute("train epochs=1 batch=20 class-weights=3,1,1,1,0.5").figures.first ?? ""
        #expect(plain.split(separator: " ").last != weighted.split(separator: " ").last)
        #expect(b.recipes.values.first?.phases.first?.classWeights == [3, 1, 1, 1, 0.5])
    }

    /// sampler=balanced draws like WeightedRandomSampler(1 / count, n, replacement=True): a class of
    /// 10 among 1,000 samples fills about half of each epoch.
    @Test func balancedSamplerDrawsClassesEvenly() throws {
        let labels = [Int](repeating: 0, count: 990) + [Int](repeating: 1, count: 10)
        let draws = Trainer.balancedDraws(labels, Generator(seed: 9))
        #expect(draws.count == 1000 && draws.allSatisfy { (0..<1000).contains($0) })
        let rare = draws.filter { labels[$0] == 1 }.count
        #expect((440...560).contains(rare), "\(rare) of 1000 draws from the rare class")
        #expect(Trainer.balancedDraws(labels, Generator(seed: 9)) == draws)
        let (shell, _) = makeShell()
        for line in ["new mnist-cnn classes=5", "data mnist digits=0-4 per-class=8", "train epochs=1 batch=20 sampler=balanced class-weights=auto"] {
            #expect(shell.execute(line).succeeded, "\(line)")
        }
        #expect(shell.recipes.values.first?.phases.first?.options.sampler == .balanced)
        #expect(shell.session.entries.last?.line.contains("sampler=balanced") == true)
    }

    @Test func evalReportsBalancedAccuracyAndMacroF1() throws {
        // confusion[true][predicted]: recalls 0.5, 1, 0.75; precisions 1/2, 2/3, 1.
        let result = EvaluationResult(loss: 0, accuracy: 0, topK: nil, confusion: [[1, 1, 0], [0, 2, 0], [1, 0, 3]], classNames: ["a", "b", "c"], count: 8)
        #expect(abs(result.balancedAccuracy - 0.75) < 1e-6)
        // F1s 0.5, 0.8 and 6/7 (scikit-learn: f1_score([0,0,1,1,2,2,2,2], [0,1,1,1,0,2,2,2], average="macro") = 0.719048).
        #expect(abs(Double(result.macroF1) - (0.5 + 0.8 + 6.0 / 7) / 3) < 1e-6)
        let (shell, _) = makeShell()
        for line in ["new mnist-cnn classes=5", "data mnist digits=0-4 per-class=5"] { #expect(shell.execute(line).succeeded) }
        let figure = shell.execute("eval").figures.first ?? ""
        #expect(figure.range(of: #"^loss [0-9.]+ accuracy [0-9.]+ balanced_accuracy [0-9.]+ macro_f1 [0-9.]+$"#, options: .regularExpression) != nil, "\(figure)")
    }
}
