#!/usr/bin/env python3
"""Published PyTorch weights -> a safetensors file `geossl eval --weights` reads.

The weights people rank (SSL4EO-S12, SeCo, torchgeo, MoCo and DINO releases)
come as PyTorch pickles (.pth, .pt, .ckpt): a state_dict, or a dict holding one
under 'state_dict' or 'model' (Lightning, MoCo), with the encoder's names
behind a wrapper's prefix ("module.encoder_q.conv1.weight").  geossl reads
safetensors with torchvision / timm names ("conv1.weight"), so this script

  * finds the state_dict (--key NAME picks another entry, e.g. DINO's 'teacher'),
  * strips prefixes from the names, repeatedly and in any order: module.,
    encoder., backbone., model. always (what geossl itself strips), and each
    --prefix P given (MoCo's encoder_q.),
  * keeps the encoder (torchvision ResNet: conv1, bn1, layer1-4; timm ViT:
    patch_embed, cls_token, pos_embed, blocks, norm, fc_norm) and drops the rest
    (momentum encoders, queues, projection heads, the classifier fc / head unless
    --keep-head), listing what it dropped,
  * writes safetensors: an 8-byte little-endian header length, the JSON header,
    then each tensor's bytes, little-endian.  Written here, so the
    `safetensors` package is not needed.

PyTorch is needed only to read pickles; a .safetensors input (to strip a prefix
from one) is read without it.  Pickles are loaded with torch.load's
weights_only=True, which refuses to run code stored in the file; a checkpoint
that also pickles other objects (Lightning's hyper_parameters) needs
--unsafe-load, for files from a source you trust.

usage: convert-weights.py [--prefix P]... [--key NAME] [--keep-head] [--list] [--unsafe-load] [--force] IN OUT
"""
import argparse
import json
import os
import struct
import sys

DEFAULT_PREFIXES = ["module.", "encoder.", "backbone.", "model."]
ENCODER_ROOTS = {"conv1", "bn1", "layer1", "layer2", "layer3", "layer4",
                 "patch_embed", "cls_token", "pos_embed", "blocks", "norm", "fc_norm"}
HEAD_ROOTS = {"fc", "head"}
# safetensors dtype names, their sizes, and the torch dtypes they come from.
DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


class Fail(Exception):
    """An error for the user: printed as one message, exit 1."""


class Tensor:
    """A tensor as bytes: safetensors dtype, shape, little-endian data."""

    def __init__(self, dtype, shape, data):
        self.dtype, self.shape, self.data = dtype, list(shape), data


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise Fail(f"{path} is not a safetensors file (shorter than its 8-byte header length)")
    n = struct.unpack("<Q", raw[:8])[0]
    if n > len(raw) - 8:
        raise Fail(f"{path} is not a safetensors file (its header length {n} is past the end of the file)")
    try:
        header = json.loads(raw[8:8 + n])
    except ValueError as e:
        raise Fail(f"{path}: the safetensors header is not JSON ({e})")
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        out[name] = Tensor(info["dtype"], info["shape"], data[begin:end])
    return out


def torch_to_tensor(t):
    """A torch tensor as bytes; float64 becomes float32 (geossl reads F32, F16, BF16)."""
    import torch

    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64",
             torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.float64:
        t = t.float()
    if t.dtype not in names:
        raise Fail(f"tensor of dtype {t.dtype} cannot be written to safetensors here")
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: its bits as int16
        array = t.view(torch.int16).numpy()
    else:
        array = t.numpy()
    if sys.byteorder != "little":
        array = array.byteswap()
    return Tensor(names[t.dtype], t.shape, array.tobytes())


def pick_state_dict(obj, key, path):
    """The dict of tensors inside what torch.load returned."""
    import torch

    def has_tensors(d):
        return isinstance(d, dict) and any(isinstance(v, torch.Tensor) for v in d.values())

    if key is not None:
        for part in key.split("."):
            if not isinstance(obj, dict) or part not in obj:
                keys = ", ".join(map(str, obj.keys())) if isinstance(obj, dict) else type(obj).__name__
                raise Fail(f"{path} has no entry '{part}' for --key {key} (it has: {keys})")
            obj = obj[part]
    else:
        while not has_tensors(obj) and isinstance(obj, dict):
            inner = next((obj[k] for k in ("state_dict", "model", "module") if isinstance(obj.get(k), dict)), None)
            if inner is None:
                break
            obj = inner
    if not has_tensors(obj):
        keys = ", ".join(map(str, obj.keys())) if isinstance(obj, dict) else type(obj).__name__
        raise Fail(f"{path}: found no tensors (its entries: {keys}); name the one holding the weights with --key")
    return obj


def read_pickle(path, key, unsafe):
    try:
        import torch
    except ImportError:
        raise Fail("reading a PyTorch pickle needs PyTorch (Debian: apt-get install python3-torch); "
                   "a .safetensors input does not")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not unsafe)
    except TypeError:  # a torch older than 1.13 has no weights_only
        if not unsafe:
            raise Fail("this PyTorch cannot load pickles safely (weights_only needs 1.13 or later); "
                       "pass --unsafe-load for a file from a source you trust")
        obj = torch.load(path, map_location="cpu")
    except Exception as e:
        if unsafe:
            raise Fail(f"cannot read {path}: {e}")
        raise Fail(f"cannot read {path} as weights only ({str(e).splitlines()[0]}); if the file comes from a source "
                   "you trust, --unsafe-load also unpickles the other objects it holds")
    state = pick_state_dict(obj, key, path)
    out, skipped = {}, []
    for name, value in state.items():
        if isinstance(value, torch.Tensor):
            out[str(name)] = torch_to_tensor(value)
        else:
            skipped.append(str(name))
    return out, skipped


def strip(name, prefixes, used=None):
    """name without the prefixes, as geossl strips them; adds those it stripped to `used`."""
    again = True
    while again:
        again = False
        for p in prefixes:
            if p and name.startswith(p) and len(name) > len(p):
                name = name[len(p):]
                again = True
                if used is not None:
                    used.add(p)
    return name


def summarise(names):
    """'encoder_k.* (160), queue' : names grouped by their first component."""
    groups = {}
    for n in names:
        root = n.split(".")[0]
        groups.setdefault(root, []).append(n)
    parts = []
    for root, members in groups.items():
        parts.append(root if members == [root] else f"{root}.* ({len(members)})")
    return ", ".join(parts)


def convert(tensors, prefixes, keep_head, used):
    """The encoder's tensors under their stripped names, and the names dropped."""
    kept, dropped, sources = {}, [], {}
    for name, t in tensors.items():
        stripped = set()
        key = strip(name, prefixes, stripped)
        root = key.split(".")[0]
        if root in ENCODER_ROOTS or (keep_head and root in HEAD_ROOTS):
            used.update(stripped)
            if key in kept:
                raise Fail(f"'{sources[key]}' and '{name}' both become '{key}' once the prefixes are stripped: "
                           "give --prefix only for the encoder you want (e.g. --prefix encoder_q.)")
            kept[key], sources[key] = t, name
        else:
            dropped.append(key)
    return kept, dropped


def write_safetensors(path, tensors, metadata):
    header, offset = {}, 0
    for name, t in tensors.items():
        expected = DTYPE_SIZES[t.dtype]
        for d in t.shape:
            expected *= d
        if expected != len(t.data):
            raise Fail(f"tensor '{name}' holds {len(t.data)} bytes, its shape {t.shape} needs {expected}")
        header[name] = {"dtype": t.dtype, "shape": t.shape, "data_offsets": [offset, offset + len(t.data)]}
        offset += len(t.data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data starts 8-byte aligned, as the safetensors writer does it
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for t in tensors.values():
            f.write(t.data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)  # a failed conversion never leaves half a file under the name


def main(argv):
    ap = argparse.ArgumentParser(
        prog="convert-weights.py",
        description="Converts PyTorch weights (.pth/.pt/.ckpt, or .safetensors) into the safetensors file "
                    "`geossl eval --weights` reads: torchvision/timm names, the encoder only.")
    ap.add_argument("input", metavar="IN", help="a .pth/.pt/.ckpt pickle or a .safetensors file")
    ap.add_argument("output", metavar="OUT", nargs="?", help="the .safetensors file to write")
    ap.add_argument("--prefix", action="append", default=[], metavar="P",
                    help="strip P from the names (repeatable; module., encoder., backbone., model. always are)")
    ap.add_argument("--key", metavar="NAME", help="the checkpoint entry holding the weights, e.g. teacher or "
                    "state_dict (dots go deeper) [state_dict, else model, else the file itself]")
    ap.add_argument("--keep-head", action="store_true", help="keep the classifier (fc.*, head.*) [dropped]")
    ap.add_argument("--list", action="store_true", help="print the names, dtypes and shapes in IN, and stop")
    ap.add_argument("--unsafe-load", action="store_true",
                    help="unpickle every object in IN, not only tensors (only for files from a source you trust)")
    ap.add_argument("--force", action="store_true", help="replace OUT when it exists")
    a = ap.parse_args(argv)
    if not a.list and not a.output:
        ap.error("OUT is missing (or give --list)")
    if a.output and not a.force and os.path.exists(a.output):
        raise Fail(f"{a.output} exists: pass --force to replace it")
    if a.input.endswith(".safetensors"):
        tensors, not_tensors = read_safetensors(a.input), []
    else:
        tensors, not_tensors = read_pickle(a.input, a.key, a.unsafe_load)
    if a.list:
        for name, t in tensors.items():
            print(f"{name}\t{t.dtype}\t{tuple(t.shape)}")
        return 0
    prefixes = DEFAULT_PREFIXES + [p for p in a.prefix if p not in DEFAULT_PREFIXES]
    stripped = set()
    kept, dropped = convert(tensors, prefixes, a.keep_head, stripped)
    if not kept:
        raise Fail(f"no encoder tensors in {a.input} once {', '.join(prefixes)} are stripped; its names begin "
                   f"{summarise(dropped)}: give the encoder's prefix with --prefix (e.g. --prefix encoder_q.)")
    used = [p for p in prefixes if p in stripped]
    metadata = {"format": "pt", "producer": "tools/convert-weights.py", "source": os.path.basename(a.input),
                "stripped_prefixes": ",".join(used)}
    write_safetensors(a.output, kept, metadata)
    dtypes = ", ".join(sorted({t.dtype for t in kept.values()}))
    print(f"wrote {a.output}: {len(kept)} encoder tensors ({dtypes})"
          + (f", prefixes stripped: {' '.join(used)}" if used else ""))
    if dropped:
        heads = [d for d in dropped if d.split(".")[0] in HEAD_ROOTS]
        print(f"dropped {len(dropped)} tensors that are not the encoder's: {summarise(dropped)}"
              + ("; --keep-head keeps fc.* / head.*" if heads else ""))
    if not_tensors:
        print(f"skipped {len(not_tensors)} entries that are not tensors: {', '.join(not_tensors)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Fail as e:
        print(f"convert-weights.py: {e}", file=sys.stderr)
        sys.exit(1)
    except OSError as e:
        print(f"convert-weights.py: {e}", file=sys.stderr)
        sys.exit(1)
