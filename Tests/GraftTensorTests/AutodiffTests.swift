import Testing
@testable import GraftTensor

@Suite("The gradient graph")
struct AutodiffTests {
    @Test func tensorsThatNeedNoGradientRecordNothing() throws {
        let x = try uniform([1, 2, 5, 5])
        let frozenWeight = try uniform([3, 2, 3, 3], seed: 2)
        let y = try x.conv2d(frozenWeight).relu().maxPool2d(kernel: (3, 3))
        #expect(y.node == nil, "a frozen prefix builds no graph")
        #expect(!y.requiresGrad)

        let trainable = frozenWeight.requiringGrad()
        let z = try x.conv2d(trainable)
        #expect(z.node != nil)
        #expect(z.node?.inputs.count == 2)
        #expect(z.node?.inputs[0] == nil, "the input is not on the graph")
    }

    @Test func noGradientScopeRecordsNothing() throws {
        let w = try uniform([3, 3]).requiringGrad()
        let y = try withoutGradients { try w.matmul(w).sum() }
        #expect(y.node == nil)
        #expect(GradMode.isEnabled, "the scope ends with the closure")
    }

    @Test func activationsAreReleasedWithTheGraph() throws {
        // The pullback keeps the input alive only while the output (and so its node) lives.
        weak var captured: Storage?
        let w = try uniform([4, 4]).requiringGrad()
        do {
            let hidden = try w.matmul(w)
            captured = hidden.storage
            let loss = try hidden.tanh().sum()
            try loss.backward()
        }
        #expect(captured == nil, "activations outlive their graph")
        #expect(w.grad != nil)
    }

    @Test func gradientsAccumulateAcrossBackwardCalls() throws {
        let x = try Tensor(shape: [3], scalars: [1, 2, 3]).requiringGrad()
        try (x * x).sum().backward()          // d/dx Σx² = 2x
        #expect(x.grad?.scalars == [2, 4, 6])
        try (x * 3).sum().backward()          // + 3
        #expect(x.grad?.scalars == [5, 7, 9])
        x.zeroGrad()
        #expect(x.grad == nil)
    }

    @Test func sharedSubexpressionsSumTheirGradients() throws {
        // y = a·b + a, reached twice through a: dy/da = b + 1
        let a = try Tensor(shape: [2], scalars: [1, 2]).requiringGrad()
        let b = try Tensor(shape: [2], scalars: [3, 4]).requiringGrad()
        try (a * b + a).sum().backward()
        #expect(a.grad?.scalars == [4, 5])
        #expect(b.grad?.scalars == [1, 2])
    }

    @Test func broadcastGradientsAreSummedToTheInputShape() throws {
        let bias = try Tensor.zeros([3]).requiringGrad()
        let x = try Tensor.ones([4, 3])
        try (x + bias).sum().backward()
        #expect(bias.grad?.shape == [3])
        #expect(bias.grad?.scalars == [4, 4, 4])
    }

    @Test func deepChainsBackpropagateWithoutRecursion() throws {
        // 20,000 ops in a row: a recursive backward would overflow the stack.
        let x = try Tensor(shape: [1], scalars: [1]).requiringGrad()
        var y = x
        for _ in 0..<20_000 { y = y * 1.0001 }
        try y.sum().backward()
        let expected = Float(pow(1.0001, 20_000.0))
        #expect(abs((x.grad?.scalars[0] ?? 0) - expected) < 1e-2)
    }
}

import Foundation
