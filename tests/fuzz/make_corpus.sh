#!/usr/bin/env bash
# Writes the seed corpora (one folder per fuzz target) into CORPUS_DIR
# (default build-fuzz/fuzz-seeds); tools/fuzz.sh runs it, nothing of it is
# committed.  Needs a built geossl (GEOSSL=path, default
# build/geossl), the fuzz build's seed_writer (SEED_WRITER=path, default
# build-fuzz/tests/fuzz/seed_writer: tools/fuzz.sh 0 builds it), tiffcp
# (libtiff-tools) and python3 (standard library only).
# Seeds are a few small valid files per target, written by geossl itself
# where it writes that kind of file, else by the few lines below.
set -euo pipefail
cd "$(dirname "$0")/../.."
GEOSSL=${GEOSSL:-build/geossl}
SEED_WRITER=${SEED_WRITER:-build-fuzz/tests/fuzz/seed_writer}
[ -x "$GEOSSL" ] || { echo "make_corpus: no geossl at $GEOSSL (build it, or set GEOSSL=...)" >&2; exit 1; }
[ -x "$SEED_WRITER" ] || { echo "make_corpus: no seed_writer at $SEED_WRITER (set SEED_WRITER=...)" >&2; exit 1; }
command -v tiffcp >/dev/null || { echo "make_corpus: needs tiffcp (apt-get install libtiff-tools)" >&2; exit 1; }
OUT=${CORPUS_DIR:-build-fuzz/fuzz-seeds}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GEOSSL_CACHE_DIR=$WORK/cache
rm -rf "$OUT"
mkdir -p "$OUT"/{safetensors,suite,results,reference,kernel_timings,loss_log,tiff,jpeg,bigearthnet_labels,band_stats}
mkdir -p "$OUT"/{checkpoint,cache,feature_cache}

# ---- data from geossl's synthetic generator, at its smallest sizes
for spec in "eurosat-rgb --count 10" "eurosat-ms --count 1 --size 16" "bigearthnet --count 3 --size 24" \
            "seco --count 1 --size 24 --dates 1" "potsdam --count 1 --size 16" "geotiff --count 1 --size 16" \
            "s2-timeseries --count 1 --size 16"; do
    set -- $spec
    "$GEOSSL" data synth "$1" "$WORK/$1" --seed 1 "${@:2}" >/dev/null
done
first() { find "$WORK/$1" -name "$2" | LC_ALL=C sort | sed -n 1p; }

# TIFF: each sample type and layout geossl writes, then libtiff's other layouts.
cp "$(first bigearthnet '*_B01.tif')" "$OUT/tiff/u16-uncompressed.tif"
cp "$(first seco 'B1.tif')" "$OUT/tiff/u8-lzw.tif"
cp "$(first potsdam '*_RGBIR.tif')" "$OUT/tiff/rgba-u8.tif"
cp "$(first potsdam '*_label.tif')" "$OUT/tiff/rgb-u8.tif"
cp "$(first geotiff 'scene_*.tif')" "$OUT/tiff/u16-4band-lzw.tif"
cp "$(first eurosat-ms '*.tif')" "$OUT/tiff/u16-13band.tif"
cp "$(first s2-timeseries '*.tif')" "$OUT/tiff/f64-named-bands.tif"
tiffcp -s -t -w 16 -l 16 "$OUT/tiff/u16-4band-lzw.tif" "$OUT/tiff/u16-tiled.tif"
tiffcp -p separate "$OUT/tiff/rgb-u8.tif" "$OUT/tiff/rgb-separate.tif"
tiffcp -c zip "$OUT/tiff/u8-lzw.tif" "$OUT/tiff/u8-deflate.tif"
tiffcp -c packbits "$OUT/tiff/u16-uncompressed.tif" "$OUT/tiff/u16-packbits.tif"
tiffcp -c jpeg -r 16 "$OUT/tiff/rgb-u8.tif" "$OUT/tiff/ycbcr-jpeg.tif"
# Sample formats geossl does not write (int16, float32) and the GeoKeys
# gs_tiff_epsg reads: tiny little-endian TIFFs written by hand.
python3 - "$OUT/tiff" <<'PY'
import struct, sys
def tiff(path, w, h, bits, fmt, values, extra=()):
    data = b"".join(struct.pack("<" + values[0], v) for v in values[1])
    entries = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, 1, bits), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, None), (277, 3, 1, 1), (278, 3, 1, h), (279, 4, 1, len(data)), (339, 3, 1, fmt)]
    entries += list(extra)
    entries.sort(key=lambda e: e[0])
    ifd_at = 8
    ifd_size = 2 + 12 * len(entries) + 4
    blob_at = ifd_at + ifd_size
    blobs = b""
    out = []
    for tag, typ, count, value in entries:
        if isinstance(value, bytes):
            out.append((tag, typ, count, blob_at + len(blobs)))
            blobs += value + (b"\0" if len(value) % 2 else b"")
        else:
            out.append((tag, typ, count, value))
    data_at = blob_at + len(blobs)
    body = struct.pack("<H", len(out))
    for tag, typ, count, value in out:
        value = data_at if value is None else value
        packed = struct.pack("<H", value) + b"\0\0" if typ == 3 and count == 1 else struct.pack("<I", value)
        body += struct.pack("<HHI", tag, typ, count) + packed
    body += struct.pack("<I", 0)
    open(path, "wb").write(b"II*\0" + struct.pack("<I", ifd_at) + body + blobs + data)
d = sys.argv[1]
tiff(d + "/i16.tif", 3, 2, 16, 2, ("h", [-32768, -1, 0, 1, 300, 32767]))
tiff(d + "/f32.tif", 2, 2, 32, 3, ("f", [0.5, -1.25, 1e30, 3.0]))
geo = lambda crs_key, code: struct.pack("<12H", 1, 1, 0, 2, 1024, 0, 1, 1, crs_key, 0, 1, code)
tiff(d + "/u8-epsg-projected.tif", 2, 2, 8, 1, ("B", [1, 2, 3, 4]), [(34735, 3, 12, geo(3072, 32632))])
tiff(d + "/u8-epsg-geographic.tif", 2, 2, 8, 1, ("B", [5, 6, 7, 8]), [(34735, 3, 12, geo(2048, 4326))])
meta = b'<GDALMetadata>\n  <Item name="DESCRIPTION" sample="0" role="description">B8A</Item>\n</GDALMetadata>\0'
tiff(d + "/u16-gdal-name.tif", 2, 1, 16, 1, ("H", [100, 4000]), [(42112, 2, len(meta), meta)])
PY

# JPEG: EuroSAT RGB at its real 64 x 64, and a 16 x 16 one.
cp "$(first eurosat-rgb 'Forest_1.jpg')" "$OUT/jpeg/eurosat-64.jpg"
"$GEOSSL" data synth resisc45 "$WORK/resisc" --count 1 --classes 1 --size 16 --seed 1 >/dev/null
cp "$(first resisc '*.jpg')" "$OUT/jpeg/rgb-16.jpg"

# BigEarthNet labels: as geossl writes them, an empty list, a name the
# 19-class nomenclature drops.
i=0
for f in $(find "$WORK/bigearthnet" -name '*_labels_metadata.json' | LC_ALL=C sort); do
    cp "$f" "$OUT/bigearthnet_labels/synth-$i.json"; i=$((i + 1))
done
printf '{"labels":[]}' > "$OUT/bigearthnet_labels/empty.json"
printf '{"labels":["Port areas","Sea and ocean"],"acquisition_date":"2017-06-13 10:10:31"}' \
    > "$OUT/bigearthnet_labels/dropped-by-19.json"

# ---- results, band statistics and a loss log from a tiny evaluation and pretraining
D="$WORK/eurosat-rgb"
"$GEOSSL" eval --random-init --protocol knn --data "eurosat-rgb:$D" --results "$WORK/results.csv" --threads 1 --width 8 >/dev/null 2>&1
"$GEOSSL" eval --random-init --protocol linear --labels 50% --data "eurosat-rgb:$D" --results "$WORK/results.csv" \
    --threads 1 --width 8 >/dev/null 2>&1
"$GEOSSL" pretrain --method simclr --data "eurosat-rgb:$D" --epochs 1 --batch 16 --width 8 --threads 1 \
    --out "$WORK/run" >/dev/null 2>&1
head -1 "$WORK/results.csv" > "$OUT/results/results.csv"
grep -m2 ',knn,' "$WORK/results.csv" >> "$OUT/results/results.csv"
grep -m2 ',linear,' "$WORK/results.csv" >> "$OUT/results/results.csv"
cut -d, -f1-16 "$OUT/results/results.csv" > "$OUT/results/legacy-16-columns.csv"
cp "$(first cache '*.stats')" "$OUT/band_stats/eurosat-rgb.stats"
"$GEOSSL" data synth eurosat-ms "$WORK/ms" --count 5 --seed 1 >/dev/null
"$GEOSSL" eval --random-init --protocol knn --data "eurosat-ms:$WORK/ms" --results "$WORK/ms.csv" --threads 1 \
    --width 8 >/dev/null 2>&1
cp "$(grep -l '^format eurosat-ms' "$WORK"/cache/*.stats | sed -n 1p)" "$OUT/band_stats/eurosat-ms.stats"
cp "$WORK/run/log.csv" "$OUT/loss_log/run-folder-log.csv"
{ echo run_id,step,loss; tail -n +2 "$WORK/run/log.csv" | awk -F, '{print "simclr," $1 "," $3}'; echo "byol,1,nan"; } \
    > "$OUT/loss_log/runs.csv"

# ---- suites, reference numbers, kernel timings: the committed files, cut short
cp suites/tiny.conf suites/eurosat-sample.conf "$OUT/suite/"
head -4 results/reference.csv > "$OUT/reference/reference-head.csv"
head -9 tools/bench/baselines/kernels-c-kernels-2core.csv > "$OUT/kernel_timings/baseline.csv"
{ head -6 tools/bench/baselines/kernels-c-kernels-2core.csv; echo --;
  head -1 tools/bench/baselines/kernels-c-kernels-2core.csv;
  sed -n '2,9p' tools/bench/baselines/kernels-c-kernels-2core.csv | awk -F, -v OFS=, '{$4 = $4 * 1.5; print}'; } \
    > "$OUT/kernel_timings/baseline-vs-slower.csv"
# instruction counts (bench kernels --count), and counts against times (refused)
head -9 tools/bench/baselines/kernels-instructions.csv > "$OUT/kernel_timings/counts.csv"
{ head -5 tools/bench/baselines/kernels-instructions.csv; echo --; head -5 tools/bench/baselines/kernels-c-kernels-2core.csv; } \
    > "$OUT/kernel_timings/counts-vs-times.csv"

# ---- safetensors: F32 with metadata, F16 + BF16, an int64 buffer, a scalar, an empty file
python3 - "$OUT/safetensors" <<'PY'
import json, struct, sys
def write(path, tensors, meta=None):
    header, data = {}, b""
    if meta is not None:
        header["__metadata__"] = meta
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    open(path, "wb").write(struct.pack("<Q", len(text)) + text + data)
d = sys.argv[1]
f32 = lambda *v: struct.pack("<%df" % len(v), *v)
write(d + "/f32-meta.safetensors",
      [("conv1.weight", "F32", [2, 1, 1, 2], f32(0.5, -1, 2, 3)), ("bn1.running_var", "F32", [2], f32(1, 0.25))],
      {"format": "pt", "architecture": "resnet18"})
write(d + "/f16-bf16.safetensors",
      [("fc.weight", "F16", [2, 2], struct.pack("<4H", 0x3c00, 0xc000, 0x0001, 0x7c00)),
       ("fc.bias", "BF16", [2], struct.pack("<2H", 0x3f80, 0xff80))])
write(d + "/i64-buffer.safetensors",
      [("bn1.num_batches_tracked", "I64", [], struct.pack("<q", 100)), ("bn1.weight", "F32", [1], f32(1))])
write(d + "/scalar.safetensors", [("logit_scale", "F32", [], f32(2.6592))])
write(d + "/empty.safetensors", [])
PY
# ---- geossl's HDF5 files, sealed with their digest: the tiny model's
# checkpoints, dataset caches (unlabeled, multi-label, segmentation) and
# feature caches (classification, multi-label)
"$SEED_WRITER" checkpoint "$OUT/checkpoint/step-7.h5" 7
"$SEED_WRITER" checkpoint "$OUT/checkpoint/step-0.h5" 0
"$GEOSSL" data synth bigearthnet "$WORK/ben1" --count 1 --size 24 --seed 2 >/dev/null
"$SEED_WRITER" cache "geotiff:$WORK/geotiff" "$OUT/cache/geotiff.h5" 16
"$SEED_WRITER" cache "bigearthnet:$WORK/ben1" "$OUT/cache/bigearthnet.h5"
"$SEED_WRITER" cache "potsdam:$WORK/potsdam" "$OUT/cache/potsdam.h5" 16
"$SEED_WRITER" features "$OUT/feature_cache/classes.h5" fuzz-key
"$SEED_WRITER" features "$OUT/feature_cache/multilabel.h5" fuzz-key multilabel
du -sh "$OUT"
