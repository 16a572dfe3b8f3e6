"""Reference losses of 5 SatMAE training steps, written from the
specification ../shared/specs/satmae.md with torch.nn.functional (not from
geossl's C, and not from the authors' code).

Each fixture holds identical initial weights, the views and the kept-token
indices of every step (the masks are drawn here, MAE's way: argsort of
uniform noise, and fed to the C side), the learning rates and the 5 losses
of AdamW (betas 0.9 / 0.95, weight decay 0.05 on every parameter of more
than one dimension).  tests/methods_satmae.c must reproduce them within
1e-4 relative.

Model (spec sections 1-3): a ViT encoder (timm blocks: pre-norm, qkv bias,
MLP 4x, exact GELU, LayerNorm eps 1e-6) at ViT-Tiny's depth and heads (12,
3) narrowed to width 48, patch 4, 16 px views, and a decoder of width 32,
2 blocks, 2 heads.
  group: 10 bands, groups (0,1,2,6) (3,4,5,7) (8,9) (SatMAE's defaults over
         its 10 bands); one patch embedding per group; each token gets
         concat(2-d sin-cos position (3D/4), 1-d sin-cos group code (D/4));
         decoder the same at 3/4 and 1/4 of its width, the cls slot
         [0 ; group code of index G]; a prediction layer per group; the
         loss pairs each group head with its own bands (the intended pairing,
         not the authors' concatenation quirk, spec 3.2).
  rgb:   3 bands, plain MAE: full-width sin-cos positions, one head,
         pixel-major channel-last patch vectors.
Fixtures:
  satmae_group.gsfx              independent masking, plain targets
  satmae_group_consistent.gsfx   the groups of a location masked together,
                                 norm_pix_loss
  satmae_rgb.gsfx                norm_pix_loss
  satmae_group_authors.gsfx      the authors' pairing of head outputs and bands
                                 (pairing=authors)
  satmae_temporal.gsfx           3 RGB frames per sample with their (year,
                                 month, hour), dates/<step> (N, 3, 3), norm_pix_loss;
                                 width 96 (the 5D/8 position block must be a
                                 multiple of 4)
Entries: param/<name> (geossl's = the authors' names), view/<step>/0,
keep/<step> (N, K) kept token indices (in the order the encoder sees them),
config/<key>, lrs, losses.

Conditioning: each configuration is run in float32 and float64, and again in
float64 from weights nudged by 1e-6 (relative); the script refuses to write a
fixture whose 5-step losses move by more than 1e-5 relative under either, so
a 1e-4 comparison is meaningful on every BLAS kernel.
Run: /usr/bin/python3 tools/reference/satmae_reference.py
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import gsfx  # noqa: E402

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures")
SIZE, PATCH, DEPTH, HEADS = 16, 4, 12, 3
DIM = 48  # 96 for temporal (its 5D/8 position block must be a multiple of 4): set by make()
FRAMES, YEAR0 = 3, 2002
DEC_DIM, DEC_DEPTH, DEC_HEADS = 32, 2, 2
BATCH, STEPS, MASK_RATIO, WEIGHT_DECAY = 4, 5, 0.75, 0.05
GROUPS = [(0, 1, 2, 6), (3, 4, 5, 7), (8, 9)]
LRS = [2e-4, 4e-4, 6e-4, 8e-4, 1e-3]
GRID = SIZE // PATCH
L = GRID * GRID


def sincos_1d(dim, positions):
    """[sin(pos w_k), cos(pos w_k)], w_k = 1 / 10000^(k / (dim / 2)) (spec 1.1)."""
    omega = 1.0 / 10000 ** (np.arange(dim // 2, dtype=np.float64) / (dim / 2.0))
    angles = np.outer(np.asarray(positions, dtype=np.float64), omega)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


def sincos_2d(dim, grid):
    """(grid^2, dim): the first half codes the column, the second the row."""
    rows, cols = np.divmod(np.arange(grid * grid), grid)
    return np.concatenate([sincos_1d(dim // 2, cols), sincos_1d(dim // 2, rows)], axis=1)


def time_codes(dim, dates):
    """temporal (spec 1.3): per frame, [2-d position (5 dim / 8) ; E(year - 2002),
    E(month - 1), E(hour)] (dim / 8 each): (frames * L, dim)."""
    part = dim // 8
    pos = sincos_2d(dim - 3 * part, GRID)
    rows = []
    for year, month, hour in dates:
        code = np.concatenate([sincos_1d(part, [year - YEAR0]), sincos_1d(part, [month - 1]), sincos_1d(part, [hour])], 1)
        rows.append(np.concatenate([pos, np.repeat(code, L, 0)], 1))
    return np.concatenate(rows)


def temporal_encodings(dates):
    """(N, T, D) for the encoder and (N, 1 + T, Dd) for the decoder (cls slot zero)."""
    enc = np.stack([time_codes(DIM, d) for d in dates])
    dec = np.stack([np.concatenate([np.zeros((1, DEC_DIM)), time_codes(DEC_DIM, d)]) for d in dates])
    return torch.tensor(enc), torch.tensor(dec)


def encodings(variant):
    """The fixed tables added to the encoder's and the decoder's tokens."""
    if variant == "rgb":
        enc = np.concatenate([np.zeros((1, DIM)), sincos_2d(DIM, GRID)])  # cls row zero
        dec = np.concatenate([np.zeros((1, DEC_DIM)), sincos_2d(DEC_DIM, GRID)])
        return torch.tensor(enc), torch.tensor(dec)
    g = len(GROUPS)
    chan, dchan = DIM // 4, DEC_DIM // 4
    enc = np.concatenate([np.concatenate([sincos_2d(DIM - chan, GRID), np.repeat(sincos_1d(chan, [i]), L, 0)], 1)
                          for i in range(g)])
    dec_cls = np.concatenate([np.zeros((1, DEC_DIM - dchan)), sincos_1d(dchan, [g])], 1)
    dec = np.concatenate([dec_cls] + [np.concatenate([sincos_2d(DEC_DIM - dchan, GRID),
                                                      np.repeat(sincos_1d(dchan, [i]), L, 0)], 1) for i in range(g)])
    return torch.tensor(enc), torch.tensor(dec)


def block_params(prefix, dim, gen):
    def w(*shape):
        bound = math.sqrt(6.0 / (shape[0] + shape[1]))
        return (torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound

    def small(n):
        return 0.02 * torch.randn(n, generator=gen, dtype=torch.float64)

    return {prefix + ".norm1.weight": 1 + small(dim), prefix + ".norm1.bias": small(dim),
            prefix + ".attn.qkv.weight": w(3 * dim, dim), prefix + ".attn.qkv.bias": small(3 * dim),
            prefix + ".attn.proj.weight": w(dim, dim), prefix + ".attn.proj.bias": small(dim),
            prefix + ".norm2.weight": 1 + small(dim), prefix + ".norm2.bias": small(dim),
            prefix + ".mlp.fc1.weight": w(4 * dim, dim), prefix + ".mlp.fc1.bias": small(4 * dim),
            prefix + ".mlp.fc2.weight": w(dim, 4 * dim), prefix + ".mlp.fc2.bias": small(dim)}


def init_params(variant, bands, gen):
    """MAE-like initial weights (xavier weights) with small random biases and
    norm shifts, so that every parameter's role shows in the losses."""
    def xavier(out, fan_in, *shape):
        bound = math.sqrt(6.0 / (out + fan_in))
        return (torch.rand(out, *shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound

    def small(*shape):
        return 0.02 * torch.randn(*shape, generator=gen, dtype=torch.float64)

    p = {}
    pp = PATCH * PATCH
    if variant in ("rgb", "temporal"):
        p["patch_embed.proj.weight"] = xavier(DIM, bands * pp, bands, PATCH, PATCH)
        p["patch_embed.proj.bias"] = small(DIM)
    else:
        for g, members in enumerate(GROUPS):
            p["patch_embed.%d.proj.weight" % g] = xavier(DIM, len(members) * pp, len(members), PATCH, PATCH)
            p["patch_embed.%d.proj.bias" % g] = small(DIM)
    p["cls_token"] = small(1, 1, DIM)
    for i in range(DEPTH):
        p.update(block_params("blocks.%d" % i, DIM, gen))
    p["norm.weight"], p["norm.bias"] = 1 + small(DIM), small(DIM)
    p["mask_token"] = small(1, 1, DEC_DIM)
    p["decoder_embed.weight"], p["decoder_embed.bias"] = xavier(DEC_DIM, DIM, DIM), small(DEC_DIM)
    for i in range(DEC_DEPTH):
        p.update(block_params("decoder_blocks.%d" % i, DEC_DIM, gen))
    p["decoder_norm.weight"], p["decoder_norm.bias"] = 1 + small(DEC_DIM), small(DEC_DIM)
    if variant in ("rgb", "temporal"):
        p["decoder_pred.weight"], p["decoder_pred.bias"] = xavier(pp * bands, DEC_DIM, DEC_DIM), small(pp * bands)
    else:
        for g, members in enumerate(GROUPS):
            out = len(members) * pp
            p["decoder_pred.%d.weight" % g], p["decoder_pred.%d.bias" % g] = xavier(out, DEC_DIM, DEC_DIM), small(out)
    return p


def block(p, prefix, x, heads):
    """timm Block: x + proj(attention(norm1 x)); x + fc2(gelu(fc1(norm2 x)))."""
    n, t, d = x.shape
    h = F.layer_norm(x, (d,), p[prefix + ".norm1.weight"], p[prefix + ".norm1.bias"], eps=1e-6)
    qkv = F.linear(h, p[prefix + ".attn.qkv.weight"], p[prefix + ".attn.qkv.bias"])
    q, k, v = qkv.reshape(n, t, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
    attn = torch.softmax(q @ k.transpose(-2, -1) * (d // heads) ** -0.5, dim=-1)
    h = (attn @ v).transpose(1, 2).reshape(n, t, d)
    x = x + F.linear(h, p[prefix + ".attn.proj.weight"], p[prefix + ".attn.proj.bias"])
    h = F.layer_norm(x, (d,), p[prefix + ".norm2.weight"], p[prefix + ".norm2.bias"], eps=1e-6)
    h = F.gelu(F.linear(h, p[prefix + ".mlp.fc1.weight"], p[prefix + ".mlp.fc1.bias"]))
    return x + F.linear(h, p[prefix + ".mlp.fc2.weight"], p[prefix + ".mlp.fc2.bias"])


def patchify(x, channel_major):
    """(N, C, S, S) -> (N, L, C p^2): 'nchpwq->nhwcpq' (group) or 'nhwpqc' (MAE)."""
    n, c = x.shape[:2]
    x = x.reshape(n, c, GRID, PATCH, GRID, PATCH)
    x = torch.einsum("nchpwq->nhwcpq" if channel_major else "nchpwq->nhwpqc", x)
    return x.reshape(n, L, c * PATCH * PATCH)


def norm_pix(target):
    mean = target.mean(dim=-1, keepdim=True)
    var = target.var(dim=-1, keepdim=True)  # unbiased, as MAE
    return (target - mean) / (var + 1e-6) ** 0.5


def loss_fn(p, enc, dec, x, keep, variant, use_norm_pix, authors_pairing=False):
    n = x.shape[0]
    groups = [tuple(range(x.shape[1]))] if variant == "rgb" else GROUPS
    g_count = FRAMES if variant == "temporal" else len(groups)
    t = g_count * L
    # Tokens with their fixed encodings (spec 1.2 / 1.3 / 1.4).
    if variant == "temporal":  # x (N, frames, C, S, S); enc (N, T, D), dec (N, 1 + T, Dd)
        tokens = torch.cat([F.conv2d(x[:, f], p["patch_embed.proj.weight"], p["patch_embed.proj.bias"], stride=PATCH)
                            .flatten(2).transpose(1, 2) for f in range(FRAMES)], dim=1) + enc
    elif variant == "rgb":
        tokens = F.conv2d(x, p["patch_embed.proj.weight"], p["patch_embed.proj.bias"], stride=PATCH)
        tokens = tokens.flatten(2).transpose(1, 2) + enc[1:]
    else:
        parts = []
        for g, members in enumerate(groups):
            e = F.conv2d(x[:, list(members)], p["patch_embed.%d.proj.weight" % g], p["patch_embed.%d.proj.bias" % g],
                         stride=PATCH)
            parts.append(e.flatten(2).transpose(1, 2))
        tokens = torch.cat(parts, dim=1) + enc
    # MAE's masking with the given kept tokens: shuffle = kept then the rest.
    removed = torch.ones(n, t, dtype=torch.bool)
    removed[torch.arange(n)[:, None], keep] = False
    shuffle = torch.cat([keep, torch.stack([torch.nonzero(r).flatten() for r in removed])], dim=1)
    restore = torch.argsort(shuffle, dim=1)
    k = keep.shape[1]
    visible = torch.gather(tokens, 1, keep[:, :, None].expand(-1, -1, DIM))
    cls = p["cls_token"].expand(n, -1, -1)  # the encoder's cls token carries no encoding
    h = torch.cat([cls, visible], dim=1)
    for i in range(DEPTH):
        h = block(p, "blocks.%d" % i, h, HEADS)
    h = F.layer_norm(h, (DIM,), p["norm.weight"], p["norm.bias"], eps=1e-6)
    # Decoder.
    h = F.linear(h, p["decoder_embed.weight"], p["decoder_embed.bias"])
    rest = torch.cat([h[:, 1:], p["mask_token"].expand(n, t - k, -1)], dim=1)
    rest = torch.gather(rest, 1, restore[:, :, None].expand(-1, -1, DEC_DIM))
    h = torch.cat([h[:, :1], rest], dim=1) + dec
    for i in range(DEC_DEPTH):
        h = block(p, "decoder_blocks.%d" % i, h, DEC_HEADS)
    h = F.layer_norm(h, (DEC_DIM,), p["decoder_norm.weight"], p["decoder_norm.bias"], eps=1e-6)
    mask = removed.to(x.dtype)
    if variant == "temporal":  # one head; targets the frames' patches, frame-major
        pred = F.linear(h[:, 1:], p["decoder_pred.weight"], p["decoder_pred.bias"])
        target = torch.cat([patchify(x[:, f], channel_major=False) for f in range(FRAMES)], dim=1)
        if use_norm_pix:
            target = norm_pix(target)
        per_token = ((pred - target) ** 2).mean(dim=-1)
        return (per_token * mask).sum() / mask.sum()
    if variant == "rgb":
        pred = F.linear(h[:, 1:], p["decoder_pred.weight"], p["decoder_pred.bias"])
        target = patchify(x, channel_major=False)
        if use_norm_pix:
            target = norm_pix(target)
        per_token = ((pred - target) ** 2).mean(dim=-1)
        return (per_token * mask).sum() / mask.sum()
    # group (spec 3.2): targets (N, L, C, p^2) over every band, norm-pix
    # statistics over all of a location's values; each head's output put back
    # at its own bands (the intended pairing).
    c = x.shape[1]
    target = patchify(x, channel_major=True)
    if use_norm_pix:
        target = norm_pix(target)
    target = target.reshape(n, L, c, PATCH * PATCH)
    outs = [F.linear(h[:, 1 + g * L:1 + (g + 1) * L], p["decoder_pred.%d.weight" % g], p["decoder_pred.%d.bias" % g])
            .reshape(n, L, len(members), -1) for g, members in enumerate(groups)]
    if authors_pairing:  # the code's quirk: heads concatenated in group order vs bands in natural order
        pred = torch.cat(outs, dim=2)
    else:
        pred = torch.zeros_like(target)
        for members, out in zip(groups, outs):
            pred = pred.index_put((torch.arange(n)[:, None, None], torch.arange(L)[None, :, None],
                                   torch.tensor(members)[None, None, :]), out)
    per_band = ((pred - target) ** 2).mean(dim=-1)  # (N, L, C)
    total, count = 0.0, 0.0
    for g, members in enumerate(groups):
        mask_g = mask[:, g * L:(g + 1) * L]
        total = total + (per_band[:, :, list(members)].mean(dim=-1) * mask_g).sum()
        count = count + mask_g.sum()
    return total / count


def draw_keep(gen, variant, consistent):
    """MAE's random_masking: argsort of uniform noise, the lowest kept."""
    g_count = 1 if variant == "rgb" else FRAMES if variant == "temporal" else len(GROUPS)
    if consistent:
        locations = torch.argsort(torch.rand(BATCH, L, generator=gen), dim=1)[:, :int(L * (1 - MASK_RATIO))]
        # The G tokens of each kept location, location by location.
        return (locations[:, :, None] + L * torch.arange(g_count)[None, None, :]).reshape(BATCH, -1)
    t = g_count * L
    return torch.argsort(torch.rand(BATCH, t, generator=gen), dim=1)[:, :int(t * (1 - MASK_RATIO))]


def train(start, enc, dec, steps, variant, use_norm_pix, dtype, authors_pairing=False):
    p = {k: v.to(dtype).clone().requires_grad_(True) for k, v in start.items()}
    decay = [v for v in p.values() if v.ndim > 1]
    other = [v for v in p.values() if v.ndim <= 1]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=WEIGHT_DECAY), dict(params=other, weight_decay=0.0)],
                            lr=LRS[0], betas=(0.9, 0.95), eps=1e-8)
    losses = []
    for step, (x, keep, dates) in enumerate(steps):
        opt.zero_grad()
        if variant == "temporal":
            enc, dec = temporal_encodings(dates)
        loss = loss_fn(p, enc.to(dtype), dec.to(dtype), x.to(dtype), keep, variant, use_norm_pix, authors_pairing)
        losses.append(loss.item())
        loss.backward()
        for group in opt.param_groups:
            group["lr"] = LRS[step]
        opt.step()
    return losses


def draw_dates(gen):
    """(year, month, hour) of each sample's 3 frames, in frame (not time) order as the authors' loader gives them."""
    years = torch.randint(2010, 2021, (BATCH, FRAMES), generator=gen)
    months = torch.randint(1, 13, (BATCH, FRAMES), generator=gen)
    hours = torch.randint(0, 24, (BATCH, FRAMES), generator=gen)
    return [[(int(years[i, f]), int(months[i, f]), int(hours[i, f])) for f in range(FRAMES)] for i in range(BATCH)]


def make(name, variant, consistent, use_norm_pix, seed, authors_pairing=False):
    global DIM
    DIM = 96 if variant == "temporal" else 48
    gen = torch.Generator().manual_seed(seed)
    bands = 10 if variant == "group" else 3
    start = init_params(variant, bands, gen)
    enc, dec = encodings(variant) if variant != "temporal" else (None, None)
    shape = (BATCH, FRAMES, bands, SIZE, SIZE) if variant == "temporal" else (BATCH, bands, SIZE, SIZE)
    steps = [(torch.randn(*shape, generator=gen), draw_keep(gen, variant, consistent),
              draw_dates(gen) if variant == "temporal" else None) for _ in range(STEPS)]
    losses = train(start, enc, dec, steps, variant, use_norm_pix, torch.float32, authors_pairing)
    exact = train(start, enc, dec, steps, variant, use_norm_pix, torch.float64, authors_pairing)
    nudge_gen = torch.Generator().manual_seed(seed + 1)
    nudged = {k: v * (1 + 1e-6 * torch.randn(v.shape, generator=nudge_gen, dtype=torch.float64))
              for k, v in start.items()}
    moved = train(nudged, enc, dec, steps, variant, use_norm_pix, torch.float64, authors_pairing)
    f32 = max(abs(a - b) / abs(b) for a, b in zip(losses, exact))
    nudge = max(abs(a - b) / abs(b) for a, b in zip(moved, exact))
    print("%s: losses %s; float32 vs float64 %.2g, 1e-6 nudge %.2g" % (
        name, ["%.6f" % v for v in exact], f32, nudge))
    if f32 > 1e-5 or nudge > 1e-5:
        sys.exit("ill-conditioned reference configuration %s: lower LRS" % name)
    tensors = [("param/" + k, v) for k, v in start.items()]
    if variant == "rgb":  # the fixed table the C encoder must have built itself
        tensors.append(("param/pos_embed", enc[None]))
    if variant == "temporal":  # the exported encoder's table: one frame at time 0 (2002-01, hour 0)
        tensors.append(("param/pos_embed", torch.tensor(np.concatenate([np.zeros((1, DIM)),
                                                                        time_codes(DIM, [(YEAR0, 1, 0)])]))[None]))
    for s, (x, keep, dates) in enumerate(steps):
        tensors += [("view/%d/0" % s, x), ("keep/%d" % s, keep.to(torch.float32))]
        if dates is not None:
            tensors.append(("dates/%d" % s, torch.tensor(dates, dtype=torch.float32)))
    config = dict(bands=bands, size=SIZE, patch=PATCH, width=DIM, batch=BATCH, decoder_width=DEC_DIM,
                  decoder_depth=DEC_DEPTH, decoder_heads=DEC_HEADS, mask_ratio=MASK_RATIO, weight_decay=WEIGHT_DECAY,
                  consistent_mask=int(consistent), norm_pix_loss=int(use_norm_pix), group=int(variant == "group"),
                  temporal=int(variant == "temporal"), authors_pairing=int(authors_pairing))
    tensors += [("config/" + k, torch.tensor([float(v)])) for k, v in sorted(config.items())]
    tensors += [("lrs", torch.tensor(LRS)), ("losses", torch.tensor(exact))]
    path = os.path.join(OUT_DIR, "%s.gsfx" % name)
    gsfx.write(path, tensors)
    print("wrote", path)


def main():
    torch.set_num_threads(1)
    make("satmae_group", "group", False, False, 301)
    make("satmae_group_consistent", "group", True, True, 302)
    make("satmae_rgb", "rgb", False, True, 303)
    make("satmae_group_authors", "group", False, False, 304, authors_pairing=True)
    make("satmae_temporal", "temporal", False, True, 305)


if __name__ == "__main__":
    main()
