import Foundation
import ArgumentParser
import GraftShell
import GraftTensor

@main
struct Graft: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graft",
        abstract: "Transfer learning from a shell: load a pretrained model, freeze, graft a new head, train.",
        version: graftVersion,
        subcommands: [Demo.self],
        defaultSubcommand: Demo.self)
}

/// Until the shell lands: a small, real run of the engine (a seeded least-squares fit by gradient descent).
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit y = 3x − 2 by gradient descent on graft's engine and print the steps.")

    @Option(help: "Seed of the generator.") var seed: UInt64 = 42
    @Option(help: "Gradient-descent steps.") var steps: Int = 200
    @Option(help: "Threads for OpenBLAS and graft's kernels.") var threads: Int = Threads.defaultCount

    func run() throws {
        try Threads.set(threads)
        let generator = Generator(seed: seed)
        let x = try Tensor.randomNormal([256, 1], generator: generator)
        let noise = try Tensor.randomNormal([256, 1], std: 0.1, generator: generator)
        let y = try x * 3 - 2 + noise
        var w = try Tensor.randomNormal([1, 1], generator: generator).requiringGrad()
        var b = try Tensor.zeros([1]).requiringGrad()
        print("graft \(graftVersion) engine demo: fit y = 3x − 2 + noise, 256 points, seed \(seed), \(Threads.count) threads")
        for step in 0...steps {
            let prediction = try x.matmul(w) + b
            let loss = try (prediction - y).pow(2).mean()
            try loss.backward()
            if step % 50 == 0 {
                print("step \(step)  loss \(String(format: "%.6f", try loss.item()))  w \(String(format: "%.4f", w.scalars[0]))  b \(String(format: "%.4f", b.scalars[0]))")
            }
            guard let gw = w.grad, let gb = b.grad else { break }
            w = try (w.detached() - gw * 0.1).requiringGrad()
            b = try (b.detached() - gb * 0.1).requiringGrad()
        }
    }
}
