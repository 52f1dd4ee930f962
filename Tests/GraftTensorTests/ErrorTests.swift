import Testing
@testable import GraftTensor

/// Bad shapes, axes and arguments throw a typed error naming the op and the shapes; nothing traps.
@Suite("Errors name the op and the shapes")
struct ErrorTests {
    /// The message of the TensorError `body` throws; nil when it succeeds (or throws another type).
    func message(_ body: () throws -> Tensor) -> String? {
        do {
            _ = try body()
            return nil
        } catch let error as TensorError {
            return error.description
        } catch {
            Issue.record("threw \(type(of: error)), not TensorError")
            return nil
        }
    }

    @Test func matmulInnerDimensions() throws {
        let a = try Tensor.zeros([32, 784]), b = try Tensor.zeros([128, 10])
        #expect(message { try a.matmul(b) } == "matmul: [32,784] × [128,10]: inner dimensions 784 ≠ 128")
        #expect(message { try a.matmul(Tensor.zeros([784])) } == "matmul: [32,784] × [784]: both operands need at least 2 dimensions")
    }

    @Test func linearShapes() throws {
        #expect(message { try Tensor.zeros([32, 784]).linear(Tensor.zeros([10, 128])) }
                == "linear: [32,784] × [10,128]: input has 784 features, weight expects 128")
        #expect(message { try Tensor.zeros([2, 3]).linear(Tensor.zeros([4, 3]), bias: Tensor.zeros([3])) } == "linear: [4,3] × [3]: bias must be [4]")
    }

    @Test func broadcasting() throws {
        let a = try Tensor.zeros([2, 3]), b = try Tensor.zeros([4])
        #expect(message { try a + b } == "add: [2,3] × [4]: sizes 3 and 4 at axis 1 do not broadcast")
        #expect(message { try a * b }?.hasPrefix("mul: [2,3] × [4]") == true)
        #expect(message { try a.broadcast(to: [3, 3]) }?.hasPrefix("broadcast: [2,3] × [3,3]") == true)
    }

    @Test func axes() throws {
        let x = try Tensor.zeros([2, 3])
        #expect(message { try x.sum(axes: [2]) } == "sum: axis 2 out of range for a rank-2 tensor [2,3]")
        #expect(message { try x.softmax(axis: -3) } == "softmax: axis -3 out of range for a rank-2 tensor [2,3]")
        #expect(message { try x.sum(axes: [1, -1]) } == "sum: axis -1 listed twice")
        #expect(message { try x.permuted([0, 0]) }?.hasPrefix("permute: [0, 0] is not a permutation") == true)
        #expect(message { try x.sliced(axis: 1, start: 2, end: 5) }?.hasPrefix("slice: range 2..<5 out of bounds") == true)
        #expect(message { try Tensor.concatenate([x, Tensor.zeros([3, 3])], axis: 1) } == "concat: [2,3] × [3,3]: shapes differ outside axis 1")
    }

    @Test func convolutionParameters() throws {
        let x = try Tensor.zeros([1, 3, 8, 8])
        #expect(message { try x.conv2d(Tensor.zeros([4, 2, 3, 3])) }
                == "conv2d: [1,3,8,8] × [4,2,3,3]: input has 3 channels, weight expects 2 (2 × groups 1)")
        #expect(message { try x.conv2d(Tensor.zeros([4, 3, 3, 3]), stride: (0, 1)) } == "conv2d: stride must be positive, got 0×1")
        #expect(message { try x.conv2d(Tensor.zeros([4, 3, 3, 3]), groups: 2) }
                == "conv2d: [1,3,8,8] × [4,3,3,3]: 3 input and 4 output channels are not divisible by groups 2")
        #expect(message { try x.conv2d(Tensor.zeros([4, 3, 9, 9])) }?.contains("larger than the padded input 8×8") == true)
        #expect(message { try x.conv2d(Tensor.zeros([4, 3, 3, 3]), bias: Tensor.zeros([3])) } == "conv2d: [4,3,3,3] × [3]: bias must be [4]")
        #expect(message { try Tensor.zeros([3, 8, 8]).conv2d(Tensor.zeros([4, 3, 3, 3])) } == "conv2d: [3,8,8]: input must be [N, C, H, W]")
        #expect(message { try x.conv2d(Tensor.zeros([4, 3, 3, 3]), padding: Padding2D(-1, 0)) }?.contains("non-negative") == true)
    }

    @Test func poolingAndNormalization() throws {
        let x = try Tensor.zeros([1, 2, 4, 4])
        #expect(message { try x.maxPool2d(kernel: (2, 2), padding: Padding2D(2, 2)) }?.contains("at most half the kernel") == true)
        #expect(message { try x.avgPool2d(kernel: (0, 2)) } == "avgPool2d: kernel size must be positive, got 0×2")
        #expect(message { try x.batchNorm(weight: nil, bias: nil, runningMean: Tensor.zeros([3]), runningVar: Tensor.ones([2]), training: true) }
                == "batchNorm: [1,2,4,4] × [3]: running mean must be [2]")
        #expect(message { try Tensor.zeros([1, 2]).batchNorm(weight: nil, bias: nil, runningMean: Tensor.zeros([2]), runningVar: Tensor.ones([2]), training: true) }
                == "batchNorm: training needs more than one value per channel, input is [1,2]")
    }

    @Test func lossesAndLabels() throws {
        let logits = try Tensor.zeros([2, 3])
        #expect(message { try logits.crossEntropy(labels: [0, 3]) } == "crossEntropy: label 3 out of range for 3 classes")
        #expect(message { try logits.crossEntropy(labels: [0]) } == "crossEntropy: [2,3] × [1]: 2 rows of logits, 1 labels")
        #expect(message { try Tensor.oneHot([-1], classes: 2) } == "oneHot: label -1 out of range for 2 classes")
        #expect(message { try logits.gather([5], axis: 1) } == "gather: index 5 out of range for axis 1 of size 3")
        #expect(message { try logits.meanSquaredError(Tensor.zeros([3, 2])) }?.hasPrefix("meanSquaredError: [2,3] × [3,2]") == true)
    }

    @Test func creationAndReshape() throws {
        #expect(message { try Tensor(shape: [2, 2], scalars: [1, 2, 3]) } == "tensor: [2,2]: shape holds 4 elements, 3 given")
        #expect(message { try Tensor.zeros([-1, 2]) } == "full: negative dimension -1 in shape [-1,2]")
        #expect(message { try Tensor.zeros([1 << 40, 1 << 40]) }?.contains("too many elements") == true)
        #expect(message { try Tensor.zeros([2, 3]).reshaped([4, -1]) }?.hasPrefix("reshape: [2,3] × [4,-1]") == true)
        #expect(message { try Tensor.zeros([2, 3]).reshaped([-1, -1]) } == "reshape: only one dimension can be -1 in [-1,-1]")
        #expect(message { try Tensor.zeros([2]).dropout(1.5, training: true, generator: Generator(seed: 1)) } == "dropout: probability must be in 0...1, got 1.5")
        #expect(message { try Tensor.zeros([2]).clamp(1, 0) } == "clamp: low 1.0 is above high 0.0")
    }

    @Test func backwardMisuse() throws {
        let x = try Tensor.ones([3]).requiringGrad()
        let y = x * 2
        #expect(throws: TensorError.self) { try y.backward() }  // not a scalar
        #expect(throws: TensorError.self) { try Tensor.ones([1]).backward() }  // nothing requires a gradient
        let loss = try y.sum()
        try loss.backward()
        #expect(throws: TensorError.self) { try loss.backward() }  // graph already released
        #expect(throws: TensorError.self) { try Threads.set(0) }
    }
}
