"""Independent check of geossl's Potsdam reader: decodes the ISPRS Potsdam
TIFFs in ../shared/data with the Python standard library only (no libtiff),
and prints the per-class pixel counts of each label file and the pixel values
tests/datasets_potsdam.c checks at fixed positions.

Handles what those files use: 8-bit contiguous samples, strips or tiles,
no compression or PackBits.  Usage: python3 tools/reference/potsdam_reference.py [DATA_DIR]
"""
import os
import struct
import sys

# ISPRS 2D semantic labeling benchmark palette (R,G,B), in geossl's class order.
PALETTE = [
    ("impervious_surfaces", (255, 255, 255)),
    ("building", (0, 0, 255)),
    ("low_vegetation", (0, 255, 255)),
    ("tree", (0, 255, 0)),
    ("car", (255, 255, 0)),
    ("clutter", (255, 0, 0)),
]


def unpackbits(data, size):
    out = bytearray()
    i = 0
    while len(out) < size and i < len(data):
        n = data[i]
        i += 1
        if n < 128:
            out += data[i:i + n + 1]
            i += n + 1
        elif n > 128:
            out += bytes([data[i]]) * (257 - n)
            i += 1
    return bytes(out[:size])


def read_tiff(path):
    """Returns (width, height, samples_per_pixel, bytes row-major interleaved)."""
    with open(path, "rb") as f:
        raw = f.read()
    order = "<" if raw[:2] == b"II" else ">"
    (offset,) = struct.unpack(order + "I", raw[4:8])
    (count,) = struct.unpack(order + "H", raw[offset:offset + 2])
    sizes = {1: 1, 2: 1, 3: 2, 4: 4, 16: 8}
    tags = {}
    for k in range(count):
        entry = raw[offset + 2 + 12 * k:offset + 14 + 12 * k]
        tag, typ, n = struct.unpack(order + "HHI", entry[:8])
        width = sizes.get(typ, 1) * n
        where = entry[8:12] if width <= 4 else raw[struct.unpack(order + "I", entry[8:12])[0]:][:width]
        code = {1: "B", 2: "B", 3: "H", 4: "I", 16: "Q"}.get(typ)
        if code:
            tags[tag] = struct.unpack(order + code * n, where[:sizes[typ] * n])
    width, height = tags[256][0], tags[257][0]
    spp = tags.get(277, (1,))[0]
    assert all(b == 8 for b in tags.get(258, (8,))), "8-bit samples only"
    assert tags.get(284, (1,))[0] == 1, "contiguous planes only"
    compression = tags.get(259, (1,))[0]
    assert compression in (1, 32773), "no compression or PackBits only"
    image = bytearray(width * height * spp)
    if 322 in tags:  # tiled
        tw, th = tags[322][0], tags[323][0]
        offsets, counts = tags[324], tags[325]
        across = (width + tw - 1) // tw
        for t, (o, c) in enumerate(zip(offsets, counts)):
            block = raw[o:o + c]
            if compression == 32773:
                block = unpackbits(block, tw * th * spp)
            ty, tx = divmod(t, across)
            for r in range(th):
                y = ty * th + r
                if y >= height:
                    break
                n = min(tw, width - tx * tw) * spp
                dst = (y * width + tx * tw) * spp
                image[dst:dst + n] = block[r * tw * spp:r * tw * spp + n]
    else:
        rows = tags.get(278, (height,))[0]
        y = 0
        for o, c in zip(tags[273], tags[279]):
            block = raw[o:o + c]
            n = min(rows, height - y) * width * spp
            if compression == 32773:
                block = unpackbits(block, n)
            image[y * width * spp:y * width * spp + n] = block[:n]
            y += rows
    return width, height, spp, bytes(image)


def class_counts(path):
    w, h, spp, data = read_tiff(path)
    lookup = {rgb: i for i, (_, rgb) in enumerate(PALETTE)}
    counts = [0] * (len(PALETTE) + 1)  # last: not in the palette
    for p in range(w * h):
        counts[lookup.get(tuple(data[p * spp:p * spp + 3]), len(PALETTE))] += 1
    return counts


def pixel(path, x, y):
    w, _, spp, data = read_tiff(path)
    return tuple(data[(y * w + x) * spp:(y * w + x + 1) * spp])


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../shared/data")
    crops = os.path.join(root, "potsdam-crops")
    for split, name in (("train", "top_potsdam_2_10_RGBIR__36"), ("val", "top_potsdam_2_13_RGBIR__26")):
        label = os.path.join(crops, split + "_lbl", name + ".tif")
        image = os.path.join(crops, split + "_RGBIR", name + ".tif")
        counts = class_counts(label)
        print(split, name, "counts", dict(zip([n for n, _ in PALETTE] + ["other"], counts)), "sum", sum(counts))
        for x, y in ((0, 0), (100, 50), (255, 255), (17, 200)):
            print("  image(%d,%d)=%s label(%d,%d)=%s" % (x, y, pixel(image, x, y), x, y, pixel(label, x, y)))
    tiles = os.path.join(root, "format-fixtures/potsdam")
    for tile in ("2_10", "2_11", "5_15", "6_15"):
        image = os.path.join(tiles, "4_Ortho_RGBIR", "top_potsdam_%s_RGBIR.tif" % tile)
        label = os.path.join(tiles, "top_potsdam_%s_label.tif" % tile)
        print(tile, "image", [pixel(image, x, y) for y in range(2) for x in range(2)],
              "label", [pixel(label, x, y) for y in range(2) for x in range(2)])


if __name__ == "__main__":
    main()
