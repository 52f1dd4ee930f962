"""A corpus of small hostile model files, one per way a download can be wrong or malicious.

Run from the repository root (Python 3, numpy; no torch needed):
    python3 Tests/Fixtures/malformed/make_malformed.py
Each file is built byte by byte here, so the corpus does not change with library versions.
GraftModelsTests/MalformedTests.swift asserts the exact error for every file.
"""
import io
import json
import os
import pickle
import struct
import zipfile

here = os.path.dirname(os.path.abspath(__file__))


def write(name, data):
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)


# --- PyTorch -----------------------------------------------------------------------------------
class Evil:
    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return (self.function, (self.argument,))


def torch_zip(pickle_bytes, extra=()):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        # Fixed dates: the corpus is the same bytes every time it is made.
        for name, data in [("evil/data.pkl", pickle_bytes), ("evil/version", b"3\n"), *extra]:
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


# A pickle that would call os.system("echo pwned") if it were executed.
write("evil_os_system.pth", torch_zip(pickle.dumps({"weight": Evil(os.system, "echo pwned")}, protocol=2)))
# builtins.eval through STACK_GLOBAL (protocol 4).
write("evil_eval.pth", torch_zip(pickle.dumps({"weight": Evil(eval, "__import__('os').system('echo pwned')")}, protocol=4)))

# A legacy stream (magic, protocol, sys_info, state dict, keys) whose storage claims more bytes than exist.
magic = bytes([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E])
version = b"\x80\x02M\xe9\x03."
sys_info = pickle.dumps({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)


def legacy_state(count):
    # {'w': _rebuild_tensor_v2(storage('0', FloatStorage, count), 0, (2,), (1,), False, OrderedDict())} by hand.
    p = b"\x80\x02}q\x00X\x01\x00\x00\x00wq\x01ctorch._utils\n_rebuild_tensor_v2\nq\x02(("
    p += b"X\x07\x00\x00\x00storageq\x03ctorch\nFloatStorage\nq\x04X\x01\x00\x00\x000q\x05X\x03\x00\x00\x00cpuq\x06"
    p += b"J" + struct.pack("<i", count) + b"Ntq\x07QK\x00K\x02\x85K\x01\x85\x89ccollections\nOrderedDict\n)Rtq\x08Rs."
    return p


keys = pickle.dumps(["0"], protocol=2)
write("legacy_truncated.pth", magic + version + sys_info + legacy_state(2) + keys + struct.pack("<q", 2) + struct.pack("<f", 1.0))
write("legacy_lying_count.pth", magic + version + sys_info + legacy_state(2) + keys + struct.pack("<q", 1 << 40) + b"\x00" * 8)
write("not_a_checkpoint.pth", b"this is plain text, not a torch.save file\n")

# Views whose numbers overflow 64-bit arithmetic: {'w': _rebuild_tensor_v2(storage, offset, size, stride)}
# over an 8-byte storage that claims `count` elements.
def long(value):
    return b"\x8a\x08" + struct.pack("<q", value)


def ints(values):
    return b"(" + b"".join(long(v) for v in values) + b"t"


def view_state(count, offset, size, stride):
    p = b"\x80\x02}q\x00X\x01\x00\x00\x00wq\x01ctorch._utils\n_rebuild_tensor_v2\nq\x02(("
    p += b"X\x07\x00\x00\x00storageq\x03ctorch\nFloatStorage\nq\x04X\x01\x00\x00\x000q\x05X\x03\x00\x00\x00cpuq\x06"
    p += long(count) + b"tq\x07Q" + long(offset) + ints(size) + ints(stride) + b"\x89ccollections\nOrderedDict\n)Rtq\x08Rs."
    return p


write("pth_storage_overflow.pth", torch_zip(view_state(1 << 62, 0, (2,), (1,)), [("evil/data/0", b"\x00" * 8)]))
write("pth_offset_overflow.pth", torch_zip(view_state(2, 1 << 62, (2,), (1 << 62,)), [("evil/data/0", b"\x00" * 8)]))
write("pth_size1_huge_stride.pth", torch_zip(view_state(2, 0, (1, 2), ((1 << 63) - 1, 1)), [("evil/data/0", b"\x00" * 8)]))
write("legacy_cursor_overflow.pth", magic + version + sys_info + legacy_state(2) + keys + struct.pack("<q", (1 << 61) - 1) + b"\x00" * 8)


# Zip bombs: a storage of 64 Mi floats deflated a thousandfold, a data.pkl that inflates to 128 MiB,
# and a stored pickle of 2.1 million Nones.
def deflated_zip(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


write("pth_storage_bomb.pth", deflated_zip([("evil/data.pkl", view_state(1 << 26, 0, (2,), (1,))), ("evil/data/0", b"\x00" * (1 << 28))]))
write("pth_pickle_bomb.pth", deflated_zip([("evil/data.pkl", b"\x80\x02" + b"N" * (128 << 20) + b".")]))
write("pth_many_values.pth", torch_zip(b"\x80\x02](" + b"N" * 2_100_000 + b"e."))

# A zip whose central directory sends its one entry to a ZIP64 local-header offset of 2^63 - 1.
def zip64_far_entry():
    name, body = b"evil/data.pkl", pickle.dumps({}, protocol=2)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, 0, len(body), len(body), len(name), 0) + name + body
    extra = struct.pack("<HHq", 1, 8, (1 << 63) - 1)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, 0, len(body), len(body),
                          len(name), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + name + extra
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + end


write("zip64_far_offset.pth", zip64_far_entry())

# A zip entry whose name climbs out of the archive.
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
    z.writestr(zipfile.ZipInfo("../../etc/passwd", date_time=(1980, 1, 1, 0, 0, 0)), "root:x:0:0\n")
    z.writestr(zipfile.ZipInfo("archive/data.pkl", date_time=(1980, 1, 1, 0, 0, 0)), pickle.dumps({}, protocol=2))
write("zip_dotdot.pth", buffer.getvalue())

# --- safetensors -------------------------------------------------------------------------------
def safetensors(header, data=b""):
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


floats = struct.pack("<4f", 1, 2, 3, 4)
write("st_truncated.safetensors", safetensors({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, floats)[:-6])
write("st_header_too_large.safetensors", struct.pack("<Q", 1 << 40) + b"{}")
write("st_overlap.safetensors", safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                             "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, floats[:12]))
write("st_gap.safetensors", safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, floats))
write("st_trailing.safetensors", safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, floats))
write("st_bad_dtype.safetensors", safetensors({"a": {"dtype": "C64", "shape": [2], "data_offsets": [0, 16]}}, floats))
write("st_huge_dims.safetensors", safetensors({"a": {"dtype": "F32", "shape": [1 << 31, 1 << 31], "data_offsets": [0, 16]}}, floats))
write("st_wrong_size.safetensors", safetensors({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}}, floats))
write("st_not_json.safetensors", struct.pack("<Q", 8) + b"{oops!!}")
write("st_deep_rank.safetensors", safetensors({"a": {"dtype": "F32", "shape": [1] * 40, "data_offsets": [0, 4]}}, floats[:4]))

# --- Keras 3 .keras archives ---------------------------------------------------------------------
def keras_archive(entries, method=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, compress_type=method)
    return buffer.getvalue()


def keras_config(*layers):
    entries = [{"module": "keras.layers", "class_name": "InputLayer", "name": "input_layer",
                "config": {"name": "input_layer", "batch_shape": [None, 8, 8, 3]}, "inbound_nodes": []}]
    previous = "input_layer"
    for class_name, name, config in layers:
        history = {"class_name": "__keras_tensor__", "config": {"shape": [None, 8, 8, 3], "keras_history": [previous, 0, 0]}}
        entries.append({"module": "keras.layers", "class_name": class_name, "name": name, "config": dict(config, name=name),
                        "inbound_nodes": [{"args": [history], "kwargs": {}}]})
        previous = name
    return json.dumps({"module": "keras", "class_name": "Functional",
                       "config": {"name": "m", "layers": entries, "output_layers": [[previous, 0, 0]]}}).encode()


# Any valid HDF5 file stands in for weights that lack the layer's variables.
hdf5 = open(os.path.join(here, "..", "formats", "h5_chunked.h5"), "rb").read()
conv = ("Conv2D", "conv", {"filters": 2, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "use_bias": True, "activation": "linear"})
write("keras_no_config.keras", keras_archive([("metadata.json", b"{}"), ("model.weights.h5", hdf5)]))
write("keras_no_weights.keras", keras_archive([("config.json", keras_config(conv)), ("metadata.json", b"{}")]))
write("keras_unknown_class.keras", keras_archive([("config.json", keras_config(("FancyLayer", "fancy", {}))), ("model.weights.h5", hdf5)]))
write("keras_missing_variables.keras", keras_archive([("config.json", keras_config(conv)), ("model.weights.h5", hdf5)]))
# A zip bomb: 256 MiB of spaces deflated to a few hundred KB, declared as config.json.
write("keras_bomb.keras", keras_archive([("config.json", b" " * (256 << 20)), ("model.weights.h5", hdf5)], zipfile.ZIP_DEFLATED))

# --- Issue 25: .keras archives that declare giants, escape by name, repeat entries, loop or nest ----
dense_1e9 = ("Dense", "huge", {"units": 1000000000, "activation": "linear", "use_bias": True})
conv_1e8 = ("Conv2D", "wide", {"filters": 100000000, "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "use_bias": True, "activation": "linear"})
write("keras_dense_1e9.keras", keras_archive([("config.json", keras_config(("Flatten", "flat", {}), dense_1e9)), ("model.weights.h5", hdf5)]))
write("keras_conv_1e8.keras", keras_archive([("config.json", keras_config(conv_1e8)), ("model.weights.h5", hdf5)]))
# Entries named to escape the folder: graft reads the zip in memory and refuses the names.
write("keras_dotdot_entry.keras", keras_archive([("config.json", keras_config(conv)), ("../escaped.h5", hdf5), ("model.weights.h5", hdf5)]))
write("keras_absolute_entry.keras", keras_archive([("config.json", keras_config(conv)), ("/tmp/escaped.h5", hdf5), ("model.weights.h5", hdf5)]))
# Two entries named config.json (which one a reader takes would differ between readers).
import warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    write("keras_duplicate_entry.keras", keras_archive([("config.json", keras_config(conv)), ("config.json", keras_config(dense_1e9)), ("model.weights.h5", hdf5)]))
# A million layers (a compact config: 30 MB of JSON deflated to a few hundred KB).
relu = json.dumps({"class_name": "ReLU", "config": {}}).encode()
many = b'{"class_name": "Sequential", "config": {"name": "m", "layers": [' + b", ".join([relu] * 1000000) + b"]}}"
write("keras_million_layers.keras", keras_archive([("config.json", many), ("model.weights.h5", hdf5)], zipfile.ZIP_DEFLATED))
# A Functional model nested 1,000 levels deep.
# (Written as text: Python's json module recurses, and stops at this depth.)
nested = json.dumps({"class_name": "InputLayer", "name": "input_layer", "config": {"name": "input_layer", "batch_shape": [None, 4]}, "inbound_nodes": []})
opening = "".join(f'{{"class_name": "Functional", "name": "f{level}", "inbound_nodes": [], "config": {{"name": "f{level}", "layers": [' for level in range(1000))
write("keras_nested_1000.keras", keras_archive([("config.json", (opening + nested + "]}}" * 1000).encode()), ("model.weights.h5", hdf5)]))
# inbound_nodes that loop: a reads b, b reads a (and a layer that reads itself).
def call(name, source):
    return {"args": [{"class_name": "__keras_tensor__", "config": {"shape": [None, 4], "keras_history": [source, 0, 0]}}], "kwargs": {}}
looped = [{"module": "keras.layers", "class_name": "InputLayer", "name": "input_layer", "config": {"name": "input_layer", "batch_shape": [None, 4]}, "inbound_nodes": []},
          {"module": "keras.layers", "class_name": "ReLU", "name": "a", "config": {"name": "a"}, "inbound_nodes": [call("a", "b")]},
          {"module": "keras.layers", "class_name": "ReLU", "name": "b", "config": {"name": "b"}, "inbound_nodes": [call("b", "a")]}]
write("keras_cycle.keras", keras_archive([("config.json", json.dumps({"class_name": "Functional", "config": {"name": "m", "layers": looped, "output_layers": [["b", 0, 0]]}}).encode()), ("model.weights.h5", hdf5)]))
looped[1]["inbound_nodes"] = [call("a", "a")]
write("keras_self_loop.keras", keras_archive([("config.json", json.dumps({"class_name": "Functional", "config": {"name": "m", "layers": looped[:2], "output_layers": [["a", 0, 0]]}}).encode()), ("model.weights.h5", hdf5)]))
print("wrote the malformed corpus to", here)
