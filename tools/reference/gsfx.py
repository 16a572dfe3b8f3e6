"""Writes geossl fixture files (.gsfx): named float32 tensors, little endian.

Layout: b"GSFX", uint32 version (1), uint32 count, then per tensor:
uint32 name length, name (utf-8), uint32 ndim, int64 dims[ndim], float32 data.
The C reader is tests/support/fixture.c.
"""
import struct

import numpy as np


def write(path, tensors):
    """tensors: list of (name, array-like) pairs, written in order."""
    with open(path, "wb") as f:
        f.write(b"GSFX")
        f.write(struct.pack("<II", 1, len(tensors)))
        for name, value in tensors:
            if hasattr(value, "detach"):
                value = value.detach().cpu().numpy()
            array = np.ascontiguousarray(np.asarray(value, dtype="<f4"))
            encoded = name.encode("utf-8")
            f.write(struct.pack("<I", len(encoded)))
            f.write(encoded)
            f.write(struct.pack("<I", array.ndim))
            f.write(struct.pack("<%dq" % array.ndim, *array.shape))
            f.write(array.tobytes())
