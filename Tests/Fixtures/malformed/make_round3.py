"""Hostile files of the third round (issue 25): ONNX shape operators whose attributes or constants
point outside the ranks they index, and graft files whose graph description declares layers too
big to build. Built byte by byte (a minimal protobuf writer; no onnx package), so the files do not
change with library versions. Run from the repository root:

    python3 Tests/Fixtures/malformed/make_round3.py

Writes them here (for MalformedTests and the address-space-limited corpus test) and into the fuzz
seed corpora (Fuzz/corpus/onnx, Fuzz/corpus/safetensors).
"""
import json
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", "..", ".."))


def varint(value):
    value &= (1 << 64) - 1  # negative int64s as protobuf writes them: ten bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number, wire, payload):
    return varint(number << 3 | wire) + payload


def integer(number, value):
    return field(number, 0, varint(value))


def message(number, data):
    return field(number, 2, varint(len(data)) + data)


def string(number, text):
    return message(number, text.encode() if isinstance(text, str) else text)


def value_info(name, dims):
    shape = b"".join(message(1, string(2, d) if isinstance(d, str) else integer(1, d)) for d in dims)
    return string(1, name) + message(2, message(1, integer(1, 1) + message(2, shape)))


def tensor_int64(name, values):
    return b"".join(integer(1, len(values)) for _ in [0]) + integer(2, 7) + string(8, name) + string(9, struct.pack(f"<{len(values)}q", *values))


def tensor_float(name, dims, values):
    return b"".join(integer(1, d) for d in dims) + integer(2, 1) + string(8, name) + string(9, struct.pack(f"<{len(values)}f", *values))


def attribute_int(name, value):
    return string(1, name) + integer(3, value) + integer(20, 2)


def node(op, inputs, outputs, name, attributes=()):
    return (b"".join(string(1, i) for i in inputs) + b"".join(string(2, o) for o in outputs) + string(3, name) + string(4, op)
            + b"".join(message(5, a) for a in attributes))


def model(nodes, inputs, outputs, initializers=(), opset=17):
    graph = (b"".join(message(1, n) for n in nodes) + string(2, "g") + b"".join(message(5, t) for t in initializers)
             + b"".join(message(11, v) for v in inputs) + b"".join(message(12, v) for v in outputs))
    return integer(1, 8) + message(8, integer(2, opset)) + message(7, graph)


def write(name, data, corpus):
    for folder in (here, os.path.join(root, "Fuzz", "corpus", corpus)):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)


# Reshape whose constant target copies ("0") more axes than its rank-4 input has.
write("onnx_reshape_zeros.onnx", model(
    [node("Reshape", ["x", "target"], ["y"], "reshape", [])],
    [value_info("x", ["N", 3, 4, 4])], [value_info("y", ["N", 48])],
    [tensor_int64("target", [0] * 8)]), "onnx")

# LayerNormalization over axis 2³¹−1 of a rank-2 input.
write("onnx_layernorm_axis.onnx", model(
    [node("LayerNormalization", ["x", "scale"], ["y"], "norm", [attribute_int("axis", 2**31 - 1)])],
    [value_info("x", ["N", 5])], [value_info("y", ["N", 5])],
    [tensor_float("scale", [5], [1.0] * 5)]), "onnx")

# Transpose, Split, Softmax and Squeeze with axes at the ends of int64.
write("onnx_int64_axes.onnx", model(
    [node("Transpose", ["x"], ["t"], "transpose", [string(1, "perm") + b"".join(integer(8, v) for v in [0, -2**63, 2**63 - 1, 1]) + integer(20, 7)]),
     node("Softmax", ["t"], ["y"], "softmax", [attribute_int("axis", -2**63)])],
    [value_info("x", ["N", 3, 4, 4])], [value_info("y", ["N", 3, 4, 4])]), "onnx")

# An initializer whose bytes live in a side file named outside the model's folder (external data):
# a seed for the ONNX fuzz target, whose mutations reach the external-data checks.
def tensor_external(name, dims, location, offset, length):
    entries = b"".join(message(13, string(1, k) + string(2, v)) for k, v in [("location", location), ("offset", str(offset)), ("length", str(length))])
    return b"".join(integer(1, d) for d in dims) + integer(2, 1) + string(8, name) + entries + integer(14, 1)


write("onnx_external_escape.onnx", model(
    [node("Gemm", ["x", "w"], ["y"], "gemm", [attribute_int("transB", 1)])],
    [value_info("x", ["N", 4])], [value_info("y", ["N", 2])],
    [tensor_external("w", [2, 4], "../../etc/passwd", 0, 32)]), "onnx")

# A 40,000-character node name (summary must stay linear in it).
write("onnx_long_name.onnx", model(
    [node("Relu", ["x"], ["y"], "r" * 40_000, [])],
    [value_info("x", ["N", 4])], [value_info("y", ["N", 4])]), "onnx")


def graft_file(layers, features=4):
    """A graft safetensors holding no tensors, whose description declares `layers` after an input of `features`."""
    nodes = [{"head": False, "inputs": [], "layer": {"input": {"shape": [features]}}, "name": "input"}]
    for i, layer in enumerate(layers):
        nodes.append({"head": False, "inputs": [nodes[-1]["name"]], "layer": layer, "name": f"layer{i}"})
    graph = {"architecture": "hostile", "classNames": [], "frozen": [], "layerFlags": {}, "nodes": nodes}
    header = json.dumps({"__metadata__": {"graft.format": "graft-model-1", "graft.graph": json.dumps(graph), "graft.version": "1"}}).encode()
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header


dense = lambda i, o: {"dense": {"inFeatures": i, "outFeatures": o, "bias": True, "kind": "Linear"}}
write("st_dense_2g.safetensors", graft_file([dense(2**31, 2)], features=2**31), "safetensors")
write("st_dense_intmax.safetensors", graft_file([dense(4, 2**63 - 1)]), "safetensors")
write("st_dense_1e9.safetensors", graft_file([dense(4, 10**9)]), "safetensors")
write("st_batchnorm_1e9.safetensors", graft_file([dense(4, 10**9 // 4), {"batchNorm": {"channels": 10**9, "epsilon": 1e-5, "momentum": 0.1,
                                                                                       "affine": True, "kind": "BatchNorm1d"}}]), "safetensors")
