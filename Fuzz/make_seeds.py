"""Seeds of the fuzz corpus that no fixture provides small enough (run from the repository root with
numpy, onnx and safetensors, e.g. the zoo's virtual environment):

    ~/.cache/graft/zoo-venv/bin/python Fuzz/make_seeds.py

Fuzz/corpus/onnx/tiny.onnx: Conv → Relu → GlobalAveragePool → Flatten → Gemm on 1×3×8×8.
Fuzz/corpus/safetensors/tiny.safetensors: a graft file (graph description included) of Dense(4, 2).
Fuzz/corpus/safetensors/st_checkpoint.safetensors: that Dense(4, 2) carrying an optimizer state and a
checkpoint, their JSON taken from a real `train … checkpoint=` run (keys renamed to fc.*), so the
fuzzer starts inside both decoders.
The other seeds are copies of test fixtures (see Fuzz/README.md).
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save_file

rng = np.random.default_rng(0)
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

weights = [numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w"),
           numpy_helper.from_array(np.zeros(4, np.float32), "b"),
           numpy_helper.from_array(rng.standard_normal((2, 4)).astype(np.float32), "fw"),
           numpy_helper.from_array(np.zeros(2, np.float32), "fb")]
nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], strides=[1, 1]),
         helper.make_node("Relu", ["c"], ["r"]),
         helper.make_node("GlobalAveragePool", ["r"], ["p"]),
         helper.make_node("Flatten", ["p"], ["f"], axis=1),
         helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1)]
graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])], weights)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="graft-fuzz-seed")
onnx.save(model, os.path.join(here, "onnx", "tiny.onnx"))

description = {"architecture": "custom", "classNames": ["a", "b"], "frozen": [], "layerFlags": {},
               "nodes": [{"head": False, "inputs": [], "layer": {"input": {"shape": [4]}}, "name": "input"},
                         {"head": True, "inputs": ["input"], "layer": {"dense": {"bias": True, "inFeatures": 4, "kind": "Linear", "outFeatures": 2}}, "name": "fc"}]}
save_file({"fc.weight": rng.standard_normal((2, 4)).astype(np.float32), "fc.bias": np.zeros(2, np.float32)},
          os.path.join(here, "safetensors", "tiny.safetensors"),
          metadata={"graft.format": "graft-model-1", "graft.graph": json.dumps(description, sort_keys=True), "graft.version": "1"})
print("wrote the fuzz seeds")
