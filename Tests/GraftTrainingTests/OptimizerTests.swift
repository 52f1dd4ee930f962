import Foundation
@testable import GraftTraining
import Testing
@testable import GraftNN
import GraftTensor

/// Optimizer steps and schedules against PyTorch's (Tests/Fixtures/nn/optimizers.json, made by make_fixtures.py beside it).
@Suite("Optimizers and schedules match PyTorch")
struct OptimizerTests {
    nonisolated(unsafe) static let fixture = Fixture.json("nn/optimizers.json")  // read-only JSON

    static func floats(_ value: Any?) -> [Float] { Fixture.floats(value) }

    nonisolated(unsafe) static let kinds: [(String, OptimizerKind, Float)] = [
        ("sgd", .sgd(momentum: 0, nesterov: false), 0),
        ("sgd_momentum_wd", .sgd(momentum: 0.9, nesterov: false), 0.01),
        ("sgd_nesterov", .sgd(momentum: 0.9, nesterov: true), 0),
        ("adam_wd", .adamDefaults, 0.1),
        ("adamw", .adamWDefaults, 0.1),
        ("rmsprop", .rmsprop(alpha: 0.99, epsilon: 1e-8, momentum: 0), 0),
        ("rmsprop_momentum", .rmsprop(alpha: 0.99, epsilon: 1e-8, momentum: 0.9), 0),
    ]

    @Test(arguments: 0..<7)
    func fourStepsMatchPyTorch(_ row: Int) throws {
        let (name, kind, weightDecay) = Self.kinds[row]
        let optimizers = try #require(Self.fixture["optimizers"] as? [String: [String: Any]])
        let expected = try #require(optimizers[name])
        let rate = Float((expected["options"] as? [String: Any])?["lr"] as? Double ?? 0)
        let parameter = Parameter(try Tensor(shape: [6], scalars: Self.floats(Self.fixture["start"])))
        let optimizer = Optimizer(kind, parameters: [parameter], weightDecay: weightDecay)
        let grads = (Self.fixture["grads"] as? [[Double]] ?? []).map { $0.map(Float.init) }
        let after = (expected["after"] as? [[Double]] ?? []).map { $0.map(Float.init) }
        #expect(grads.count == 4 && after.count == 4)
        for (step, (g, want)) in zip(grads, after).enumerated() {
            // loss = Σ p·g has gradient g.
            try (parameter.value * Tensor(shape: [6], scalars: g)).sum().backward()
            optimizer.step(rate: rate)
            optimizer.zeroGrad()
            let worst = zip(parameter.value.scalars, want).map { abs($0 - $1) }.max() ?? 1
            #expect(worst < 2e-6, "\(name) step \(step + 1): off by \(worst)")
        }
    }

    @Test func schedulesMatchPyTorch() throws {
        let schedules = try #require(Self.fixture["schedules"] as? [String: [Double]])
        let cases: [(String, Schedule)] = [("onecycle", .oneCycle), ("cosine", .cosine), ("step_every_5_gamma_0.5", .step(every: 5, gamma: 0.5))]
        for (name, schedule) in cases {
            let expected = try #require(schedules[name])
            for (step, value) in expected.enumerated() {
                let rate = schedule.rate(base: 0.1, step: step, total: 20, stepsPerEpoch: 1)
                #expect(abs(Double(rate) - value) < 1e-6, "\(name) step \(step): \(rate) vs \(value)")
            }
        }
        // Linear warm-up before the schedule.
        #expect(Schedule.constant.rate(base: 0.1, step: 0, total: 20, stepsPerEpoch: 4, warmup: 4) == 0.025)
        #expect(Schedule.constant.rate(base: 0.1, step: 3, total: 20, stepsPerEpoch: 4, warmup: 4) == 0.1)
    }
}
