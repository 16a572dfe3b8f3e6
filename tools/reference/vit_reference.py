"""Reference fixtures for the C ViT: the ViT defined for the side-by-side
benchmark (patch embedding by a stride-p convolution, cls token, learned
position embedding, pre-norm nn.TransformerEncoderLayer with GELU and no
dropout, final LayerNorm, linear head), at ViT-Tiny's depth (12 blocks) with
a reduced width of 48 (3 heads, MLP 192), 4 input bands, 32x32 input,
patch 8.  LayerNorm eps is 1e-6 (timm's).

Parameter names are written in timm's convention (what the C backbone uses):
patch_embed.proj.*, cls_token, pos_embed, blocks.<i>.norm1.*, .attn.qkv.*,
.attn.proj.*, .norm2.*, .mlp.fc1.*, .mlp.fc2.*, norm.*, head.*.

Writes tests/fixtures/vit_tiny.gsfx: input, labels, weights, logits, loss,
every gradient, and the losses of 5 SGD and 5 AdamW steps.
Run with Debian's interpreter:  /usr/bin/python3 tools/reference/vit_reference.py
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import gsfx  # noqa: E402
from steps import run_steps  # noqa: E402

DIM, DEPTH, HEADS, MLP, PATCH, BANDS, SIZE, CLASSES, BATCH = 48, 12, 3, 192, 8, 4, 32, 10, 4
# The same optimizer settings as resnet_reference.py.
SGD = dict(lr=0.002, momentum=0.9, weight_decay=5e-4)
ADAMW = dict(lr=5e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05)
OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures")


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        tokens = (SIZE // PATCH) ** 2
        self.patch = nn.Conv2d(BANDS, DIM, PATCH, PATCH)
        self.cls_token = nn.Parameter(torch.randn(1, 1, DIM) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, tokens + 1, DIM) * 0.02)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(DIM, HEADS, MLP, dropout=0.0, activation="gelu",
                                       layer_norm_eps=1e-6, batch_first=True, norm_first=True)
            for _ in range(DEPTH)])
        self.norm = nn.LayerNorm(DIM, eps=1e-6)
        self.head = nn.Linear(DIM, CLASSES)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


def timm_name(name):
    name = name.replace("patch.", "patch_embed.proj.")
    name = name.replace("self_attn.in_proj_weight", "attn.qkv.weight")
    name = name.replace("self_attn.in_proj_bias", "attn.qkv.bias")
    name = name.replace("self_attn.out_proj.", "attn.proj.")
    name = name.replace("linear1.", "mlp.fc1.").replace("linear2.", "mlp.fc2.")
    return name


DECAY = lambda n, p: p.ndim > 1 and "token" not in n and "pos_embed" not in n  # conv and linear weights


def main():
    torch.manual_seed(2024)
    model = ViT()
    with torch.no_grad():  # non-trivial layernorm affine parameters
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
    x = torch.randn(BATCH, BANDS, SIZE, SIZE)
    labels = torch.randint(0, CLASSES, (BATCH,))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    tensors = [("input", x), ("labels", labels.float()),
               ("sgd_lr", torch.tensor([SGD["lr"]])), ("adamw_lr", torch.tensor([ADAMW["lr"]]))]
    tensors += [("param/" + timm_name(k), v) for k, v in state.items()]
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    tensors += [("output", logits), ("loss", loss.reshape(1))]
    tensors += [("grad/" + timm_name(n), p.grad.clone()) for n, p in model.named_parameters()]  # later steps reuse p.grad
    sgd = run_steps(model, state, x, labels, lambda d, n: torch.optim.SGD(
        [dict(params=d), dict(params=n, weight_decay=0.0)], **SGD), DECAY)
    adamw = run_steps(model, state, x, labels, lambda d, n: torch.optim.AdamW(
        [dict(params=d), dict(params=n, weight_decay=0.0)], **ADAMW), DECAY)
    tensors += [("sgd_losses", sgd), ("adamw_losses", adamw)]
    path = os.path.join(OUT_DIR, "vit_tiny.gsfx")
    gsfx.write(path, tensors)
    print("%s: %d parameters, loss %.6f, sgd %s, adamw %s" % (
        path, sum(p.numel() for p in model.parameters()), loss.item(),
        ["%.5f" % v for v in sgd], ["%.5f" % v for v in adamw]))
    assert not math.isnan(loss.item())


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
