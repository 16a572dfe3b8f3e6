"""Reference fixtures for importing PyTorch weights through safetensors.

Builds two small models the way published checkpoints are made and saves
their state_dicts as safetensors files, written by hand (struct + json; the
python safetensors package is not needed):

  tests/fixtures/st_resnet18_module.safetensors
      torchvision's ResNet/BasicBlock narrowed to base width 8, 4 input bands,
      the ImageNet stem and a 10-class fc, wrapped as DataParallel would save
      it ("module." on every name), F32, with torchvision's int64
      num_batches_tracked buffers and non-trivial running statistics.
  tests/fixtures/st_vit_f16.safetensors
      a timm-style ViT (timm's module names: patch_embed.proj, cls_token,
      pos_embed, blocks.<i>.norm1 / attn.qkv / attn.proj / norm2 / mlp.fc1 /
      mlp.fc2, norm, head): width 48, 2 blocks, 3 heads, MLP 192, patch 8,
      32x32 input, 4 bands, LayerNorm eps 1e-6, stored as F16.
  tests/fixtures/st_reference.gsfx
      an input per model and its eval-mode output, computed in float64 from
      exactly the weights stored (the F16 ones widened back), so the C import
      must reproduce them to float32 rounding.

  --check DIR   loads the files that tests/io_safetensors.c exports when run
                with GEOSSL_SAFETENSORS_EXPORT=DIR into the same PyTorch
                modules (load_state_dict(strict=True)) and checks their
                weights and outputs against the fixtures.

Run with Debian's interpreter:  /usr/bin/python3 tools/reference/safetensors_reference.py
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, ResNet

sys.path.insert(0, os.path.dirname(__file__))
import gsfx  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures")
RESNET_FILE = os.path.join(FIXTURES, "st_resnet18_module.safetensors")
VIT_FILE = os.path.join(FIXTURES, "st_vit_f16.safetensors")
IO_FILE = os.path.join(FIXTURES, "st_reference.gsfx")

WIDTH, BANDS, CLASSES, RESNET_SIZE, BATCH = 8, 4, 10, 40, 2
DIM, DEPTH, HEADS, MLP, PATCH, VIT_SIZE = 48, 2, 3, 192, 8, 32

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64"}
NUMPY = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}


# ---- the file format, by hand ------------------------------------------------

def save_safetensors(path, tensors, metadata):
    """tensors: dict name -> torch tensor, written in order."""
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        if t.dtype in (torch.float16, torch.bfloat16):  # numpy has no bfloat16: write the bits
            raw = t.view(torch.int16).numpy().astype("<i2").tobytes()
        else:
            raw = t.numpy().astype(NUMPY[DTYPES[t.dtype]]).tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # data aligned to 8 bytes, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)


def load_safetensors(path):
    """dict name -> torch tensor, and the metadata."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    metadata = header.pop("__metadata__", {})
    data, out = blob[8 + n:], {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=NUMPY[entry["dtype"]]).reshape(entry["shape"])
        out[name] = torch.from_numpy(array.copy())
    return out, metadata


# ---- the models --------------------------------------------------------------

def narrow_resnet18():
    """torchvision's resnet18 with stage widths WIDTH*(1,2,4,8) for BANDS inputs."""
    model = ResNet(BasicBlock, [2, 2, 2, 2], num_classes=CLASSES)
    model.inplanes = WIDTH
    model.conv1 = nn.Conv2d(BANDS, WIDTH, 7, 2, 3, bias=False)
    model.bn1 = nn.BatchNorm2d(WIDTH)
    model.layer1 = model._make_layer(BasicBlock, WIDTH, 2)
    model.layer2 = model._make_layer(BasicBlock, WIDTH * 2, 2, stride=2)
    model.layer3 = model._make_layer(BasicBlock, WIDTH * 4, 2, stride=2)
    model.layer4 = model._make_layer(BasicBlock, WIDTH * 8, 2, stride=2)
    model.fc = nn.Linear(WIDTH * 8, CLASSES)
    return model


class PatchEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(BANDS, DIM, PATCH, PATCH)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    """timm's layout: one qkv projection whose rows are q, k, v, each split into heads."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(DIM, 3 * DIM)
        self.proj = nn.Linear(DIM, DIM)

    def forward(self, x):
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, HEADS, d // HEADS).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1) * (d // HEADS) ** -0.5).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(DIM, MLP), nn.GELU(), nn.Linear(MLP, DIM)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(DIM, eps=1e-6), Attention()
        self.norm2, self.mlp = nn.LayerNorm(DIM, eps=1e-6), Mlp()

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch_embed = PatchEmbed()
        self.cls_token = nn.Parameter(torch.randn(1, 1, DIM) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, (VIT_SIZE // PATCH) ** 2 + 1, DIM) * 0.02)
        self.blocks = nn.Sequential(*[Block() for _ in range(DEPTH)])
        self.norm = nn.LayerNorm(DIM, eps=1e-6)
        self.head = nn.Linear(DIM, CLASSES)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        return self.head(self.norm(self.blocks(x))[:, 0])


def eval_output(model, state, x):
    """The model's eval-mode output in float64 for the given float32 weights."""
    model.load_state_dict(state)
    model = model.double().eval()
    with torch.no_grad():
        return model(x.double()).float()


# ---- writing the fixtures and checking exported files --------------------------

def make_resnet():
    torch.manual_seed(31)
    model = narrow_resnet18()
    with torch.no_grad():  # trained-looking batchnorm: eval mode must use these statistics
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
                m.running_mean.normal_(0.0, 0.2)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(1000)
    x = torch.randn(BATCH, BANDS, RESNET_SIZE, RESNET_SIZE)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    return state, x


def make_vit():
    torch.manual_seed(32)
    model = ViT()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
    x = torch.randn(BATCH, BANDS, VIT_SIZE, VIT_SIZE)
    # What the file will hold: F16, and the float32 values it widens back to.
    half = {k: v.half() for k, v in model.state_dict().items()}
    return half, x


def write_fixtures():
    state, rx = make_resnet()
    save_safetensors(RESNET_FILE, {"module." + k: v for k, v in state.items()}, {"format": "pt"})
    half, vx = make_vit()
    save_safetensors(VIT_FILE, half, {"format": "pt"})
    rout = eval_output(narrow_resnet18(), state, rx)
    vout = eval_output(ViT(), {k: v.float() for k, v in half.items()}, vx)
    gsfx.write(IO_FILE, [("resnet/input", rx), ("resnet/output", rout), ("vit/input", vx), ("vit/output", vout)])
    for path in (RESNET_FILE, VIT_FILE, IO_FILE):
        print("%s: %d bytes" % (path, os.path.getsize(path)))


def check_exported(directory):
    """Loads geossl's exports into PyTorch (strict) and compares with the fixtures."""
    state, rx = make_resnet()
    half, vx = make_vit()
    cases = [("resnet18_export.safetensors", narrow_resnet18, state, rx),
             ("vit_export.safetensors", ViT, {k: v.float() for k, v in half.items()}, vx)]
    for name, build, reference, x in cases:
        loaded, metadata = load_safetensors(os.path.join(directory, name))
        model = build()
        model.load_state_dict(loaded, strict=True)  # raises on a missing or unexpected name
        for key, value in loaded.items():
            if not torch.equal(value, reference[key]):
                sys.exit("%s: tensor %s differs from the fixture" % (name, key))
        ours = eval_output(build(), loaded, x)
        theirs = eval_output(build(), reference, x)
        print("%s: %d tensors load strictly into PyTorch, identical to the fixture; outputs differ by %.3g; "
              "architecture '%s'" % (name, len(loaded), float((ours - theirs).abs().max()),
                                     metadata.get("architecture")))


if __name__ == "__main__":
    torch.set_num_threads(1)
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check_exported(sys.argv[2])
    else:
        write_fixtures()
