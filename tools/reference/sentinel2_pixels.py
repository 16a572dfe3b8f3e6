"""Expected pixel values of the Sentinel-2 formats on the real samples.

Reads the band files with PIL (an independent TIFF reader: geossl uses
libtiff directly), brings every band onto B02's grid with its own numpy
bilinear upsampling (pixel centres aligned, edges clamped: the rule in
datasets/sentinel2.h) and writes the values at a few fixed positions to
tests/fixtures/sentinel2_pixels.gsfx, read by tests/datasets_bigearthnet.c and
tests/datasets_seasonal.c.

Usage: /usr/bin/python3 tools/reference/sentinel2_pixels.py [SHARED_DATA_DIR]
(default ../shared/data next to the repository).
"""
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gsfx  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BIGEARTHNET_BANDS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"]
SSL4EO_BANDS = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12"]
SECO_BANDS = [b for b in SSL4EO_BANDS if b != "B10"]

# Positions as fractions of the grid: corners, near-corner, centre, off-centre.
FRACTIONS = [(0, 0), (0, 0.999), (0.999, 0), (0.999, 0.999), (0.01, 0.02), (0.5, 0.5), (0.31, 0.77), (0.83, 0.29)]


def read_band(path):
    return np.array(Image.open(path)).astype(np.float64)


def axis_taps(n_out, n_in):
    k = n_out // n_in
    assert k * n_in == n_out, (n_out, n_in)
    s = np.clip((np.arange(n_out) + 0.5) / k - 0.5, 0, n_in - 1)
    i0 = np.floor(s).astype(int)
    i1 = np.minimum(i0 + 1, n_in - 1)
    return i0, i1, s - i0


def upsample(band, h, w):
    y0, y1, wy = axis_taps(h, band.shape[0])
    x0, x1, wx = axis_taps(w, band.shape[1])
    rows = band[y0, :] * (1 - wy)[:, None] + band[y1, :] * wy[:, None]
    return rows[:, x0] * (1 - wx)[None, :] + rows[:, x1] * wx[None, :]


def stack(paths):
    """paths[1] is B02, the reference grid."""
    ref = read_band(paths[1])
    return np.stack([upsample(read_band(p), *ref.shape) for p in paths])


def positions(n_bands, h, w, n_dates=1):
    out = []
    for d in range(n_dates):
        for b in range(n_bands):
            for fy, fx in FRACTIONS:
                out.append((d, b, int(fy * h), int(fx * w)))
    return np.array(out, dtype=np.float64)


def sample_values(cube, pos):
    return np.array([cube[int(d), int(b), int(y), int(x)] for d, b, y, x in pos])


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "..", "shared", "data")
    tensors = []

    root = os.path.join(shared, "bigearthnet-s2-example")
    patches = sorted(p for p in os.listdir(root) if os.path.isdir(os.path.join(root, p)))
    pos = positions(len(BIGEARTHNET_BANDS), 120, 120)
    tensors.append(("bigearthnet/positions", pos))
    for patch in patches:
        cube = stack([os.path.join(root, patch, "%s_%s.tif" % (patch, b)) for b in BIGEARTHNET_BANDS])
        assert cube.shape == (12, 120, 120), cube.shape
        tensors.append(("bigearthnet/" + patch, sample_values(cube[None], pos)))

    root = os.path.join(shared, "ssl4eo-s12-example")
    pos = positions(len(SSL4EO_BANDS), 264, 264)
    tensors.append(("ssl4eo/positions", pos))
    for loc in sorted(os.listdir(root)):
        (date,) = sorted(os.listdir(os.path.join(root, loc)))
        cube = stack([os.path.join(root, loc, date, b + ".tif") for b in SSL4EO_BANDS])
        tensors.append(("ssl4eo/" + loc, sample_values(cube[None], pos)))

    # SeCo (synthetic pixels in the real layout): 5 dates, sorted by name.
    loc = os.path.join(shared, "format-fixtures", "seco", "seasonal_contrast_100k", "000000")
    dates = sorted(d for d in os.listdir(loc) if os.path.isdir(os.path.join(loc, d)))
    cube = np.stack([stack([os.path.join(loc, d, b + ".tif") for b in SECO_BANDS]) for d in dates])
    pos = positions(len(SECO_BANDS), 264, 264, n_dates=len(dates))
    tensors.append(("seco/positions", pos))
    tensors.append(("seco/000000", sample_values(cube, pos)))

    out = os.path.join(REPO, "tests", "fixtures", "sentinel2_pixels.gsfx")
    gsfx.write(out, tensors)
    print("wrote %s (%d tensors)" % (out, len(tensors)))


if __name__ == "__main__":
    main()
