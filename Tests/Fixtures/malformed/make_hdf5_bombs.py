"""HDF5 files that lie about their data, for HostileInputTests (h5py and numpy; no Keras needed):

    ~/.cache/graft/zoo-venv/bin/python Tests/Fixtures/malformed/make_hdf5_bombs.py

h5_sparse_chunks.h5: a chunked dataset of 2^29 float32 (2 GiB) of which no chunk was ever written,
in a file of a few KB. h5_far_address.h5: a contiguous dataset whose data address is 2^63 - 1.
"""
import os
import struct

import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))

sparse = os.path.join(here, "h5_sparse_chunks.h5")
with h5py.File(sparse, "w", libver="earliest") as f:
    f.create_dataset("sparse", shape=(1 << 29,), dtype=np.float32, chunks=(1 << 16,), track_times=False)

far = os.path.join(here, "h5_far_address.h5")
with h5py.File(far, "w", libver="earliest") as f:
    offset = f.create_dataset("far", data=np.arange(4, dtype=np.float32), track_times=False).id.get_offset()
data = open(far, "rb").read()
needle = struct.pack("<QQ", offset, 16)   # the layout message: address, then size
assert data.count(needle) == 1, "layout message not found"
with open(far, "wb") as f:
    f.write(data.replace(needle, struct.pack("<QQ", (1 << 63) - 1, 16)))
print("wrote", sparse, "and", far)
