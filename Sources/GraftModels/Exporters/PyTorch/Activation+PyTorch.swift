import GraftNN

extension Activation: PyTorchExportable {
    public func pytorchModule(_ node: PyTorchNode) throws -> PyTorchModule {
        switch function {
        case .relu: return PyTorchModule("nn.ReLU()")
        case .relu6: return PyTorchModule("nn.ReLU6()")
        case let .leakyRelu(slope): return PyTorchModule("nn.LeakyReLU(\(Py.float(slope)))")
        case .sigmoid: return PyTorchModule("nn.Sigmoid()")
        case .tanh: return PyTorchModule("nn.Tanh()")
        case .gelu: return PyTorchModule("nn.GELU()")
        case .erf: return PyTorchModule("Erf()", helpers: [.erf])
        case .silu: return PyTorchModule("nn.SiLU()")
        case .hardsigmoid: return PyTorchModule("nn.Hardsigmoid()")
        case .hardswish: return PyTorchModule("nn.Hardswish()")
        case .softmax: return PyTorchModule("nn.Softmax(dim=1)")
        case .logSoftmax: return PyTorchModule("nn.LogSoftmax(dim=1)")
        case .sqrt: return PyTorchModule("Sqrt()", helpers: [.sqrt])
        }
    }
}

// The Python classes these kinds' modules need in model.py's prelude.
extension PyTorchHelper {
    static let erf = PyTorchHelper("erf", source: #"""
class Erf(nn.Module):
    def forward(self, x):
        return torch.erf(x)
"""#)

    static let sqrt = PyTorchHelper("sqrt", source: #"""
class Sqrt(nn.Module):
    def forward(self, x):
        return torch.sqrt(x)
"""#)
}
