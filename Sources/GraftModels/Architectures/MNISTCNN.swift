import GraftTensor
import GraftNN

/// The MNIST CNN of benchmark W3 (Keras's `mnist_cnn` example with two 32-filter convolutions):
/// conv 3×3 32 – ReLU – conv 3×3 32 – ReLU – max-pool 2 – dropout 0.25 – flatten – dense 128 – ReLU –
/// dropout 0.5 – dense. 600,165 parameters with 5 classes.
enum MNISTCNN {
    static func build(classes: Int, input: [Int], generator: Generator) throws(ModelError) -> Model {
        var b = try GraphBuilder(inputShape: input)
        try b.add("conv1", Conv2d(input[0], 32, kernel: (3, 3), generator: generator))
        try b.add("relu1", Activation(.relu))
        try b.add("conv2", Conv2d(32, 32, kernel: (3, 3), generator: generator))
        try b.add("relu2", Activation(.relu))
        try b.add("pool", Pool2d(.max, kernel: (2, 2)))
        try b.add("dropout1", Dropout(0.25))
        try b.add("flatten", Flatten())
        try b.add("fc1", Dense(b.shape(of: b.last)[0], 128, generator: generator))
        try b.add("relu3", Activation(.relu))
        try b.add("dropout2", Dropout(0.5))
        try b.add("fc2", Dense(128, classes, generator: generator))
        return b.build(name: "mnist-cnn", architecture: "mnist-cnn")
    }
}
