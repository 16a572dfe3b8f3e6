"""Reference losses of the first 5 training steps of each SSL method, written
from the papers' pseudo-code with torch.nn.functional (not from geossl's C).

For SimCLR, MoCo v2, BYOL, DINO (ResNet) and DINO (ViT): identical initial
weights, identical fixed views (random tensors, one set per step), the
method's optimizer, learning-rate values, target EMA, MoCo queue and DINO
center, teacher-temperature warm-up, weight-decay schedule, per-parameter
gradient clipping and the frozen last layer.  The C test
(tests/methods_reference.c) loads the weights and views and must reproduce
the 5 losses within 1e-4 relative.

Fixture tests/fixtures/method_<name>.gsfx:
  param/<name>     initial online weights and buffers (torchvision / timm names)
  state/<name>     initial non-trained state that is not a copy of the online
                   network (MoCo's queue)
  view/<step>/<v>  the views of each step
  config/<key>     the scalars the C side must use (see CONFIG)
  lrs, losses      learning rate and loss of each of the 5 steps

Backbones: torchvision's ResNet-18 narrowed to width 4 with the small stem,
16 px inputs, 3 bands; and a ViT at ViT-Tiny's depth (12 blocks, 3 heads) and
width 24, patch 4 (small widths keep the fixtures small).

Conditioning: these 5-step runs are chaotic (a 1e-6 nudge of the SimCLR
weights moves its step-3 loss by ~1%), yet torch float32 and float64 agree to
~1e-6 and so does geossl; the learning rates are kept small for that reason.  Run: /usr/bin/python3 tools/reference/methods_reference.py
"""
import copy
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import gsfx  # noqa: E402
from resnet_reference import narrow_resnet18  # noqa: E402

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures")
BANDS, SIZE, LOCAL_SIZE, BATCH, STEPS = 3, 16, 8, 8, 5
TOTAL_STEPS, STEPS_PER_EPOCH = 10, 2  # schedules run over 10 steps; "epoch 1" starts at step 2
LARS_ETA = 0.001


def resnet_encoder():
    model = narrow_resnet18(4, BANDS, 10, "small")
    model.fc = nn.Identity()
    return model  # 32 features


class ViT(nn.Module):
    """Pre-norm ViT with a cls token and learned positions; another input size
    resamples the patch positions bilinearly (DINO's local crops)."""

    def __init__(self, dim=24, depth=12, heads=3, patch=4, size=SIZE):
        super().__init__()
        self.grid, self.patch_size = size // patch, patch
        self.patch = nn.Conv2d(BANDS, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, self.grid ** 2 + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout=0.0, activation="gelu", layer_norm_eps=1e-6,
                                       batch_first=True, norm_first=True) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x):
        grid = x.shape[-1] // self.patch_size
        pos = self.pos_embed[:, 1:]
        if grid != self.grid:
            table = pos.reshape(1, self.grid, self.grid, -1).permute(0, 3, 1, 2)
            pos = F.interpolate(table, size=(grid, grid), mode="bilinear", align_corners=False)
            pos = pos.permute(0, 2, 3, 1).reshape(1, grid * grid, -1)
        x = self.patch(x).flatten(2).transpose(1, 2) + pos
        cls = self.cls_token + self.pos_embed[:, :1]
        x = torch.cat([cls.expand(x.shape[0], -1, -1), x], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)[:, 0]


def timm_name(name):
    name = name.replace("patch.", "patch_embed.proj.")
    name = name.replace("self_attn.in_proj_weight", "attn.qkv.weight")
    name = name.replace("self_attn.in_proj_bias", "attn.qkv.bias")
    name = name.replace("self_attn.out_proj.", "attn.proj.")
    return name.replace("linear1.", "mlp.fc1.").replace("linear2.", "mlp.fc2.")


def mlp_head(inp, hidden, out, batchnorm):
    layers = [nn.Linear(inp, hidden)] + ([nn.BatchNorm1d(hidden)] if batchnorm else []) + [nn.ReLU(),
                                                                                           nn.Linear(hidden, out)]
    return nn.Sequential(*layers)


class DINOHead(nn.Module):
    def __init__(self, inp, hidden, bottleneck, out):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(inp, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                 nn.Linear(hidden, bottleneck))
        self.last_layer = nn.Linear(bottleneck, out, bias=False)  # its weight is V; g is fixed at 1

    def forward(self, x):
        x = F.normalize(self.mlp(x), dim=-1, eps=1e-12)
        return x @ F.normalize(self.last_layer.weight, dim=1, eps=1e-12).t()


class Online(nn.Module):
    """Encoder plus named heads: parameter names as in geossl."""

    def __init__(self, encoder, **heads):
        super().__init__()
        self.encoder = encoder
        for name, module in heads.items():
            setattr(self, name, module)

    def named_for_geossl(self):
        for name, value in self.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            name = name[len("encoder."):] if name.startswith("encoder.") else name
            yield timm_name(name), value.clone()  # a copy: training changes the live tensors


def decays(name, p):
    """geossl's WEIGHT kind: conv and linear weights (not tokens, positions, norms, biases)."""
    return p.ndim > 1 and "token" not in name and "pos_embed" not in name


def lars_step(params, lr, momentum, wd, buffers):
    """LARS as geossl and the SimCLR / BYOL PyTorch ports use it: weights get
    weight decay and the trust ratio; biases and norms neither."""
    with torch.no_grad():
        for name, p in params:
            if p.grad is None:
                continue
            d = p.grad.clone()
            if decays(name, p):
                d = d + wd * p
                pn, dn = p.norm(), d.norm()
                if pn > 0 and dn > 0:
                    d = d * (LARS_ETA * pn / dn)
            buf = buffers.setdefault(name, torch.zeros_like(p))
            buf.mul_(momentum).add_(d)
            p.sub_(lr * buf)


def make_views(gen, n_global, n_local=0):
    views = [torch.randn(BATCH, BANDS, SIZE, SIZE, generator=gen) for _ in range(n_global)]
    views += [torch.randn(BATCH, BANDS, LOCAL_SIZE, LOCAL_SIZE, generator=gen) for _ in range(n_local)]
    return views


def ema(target, online, tau):
    with torch.no_grad():
        for t, o in zip(target.parameters(), online.parameters()):
            t.mul_(tau).add_((1 - tau) * o)
        for t, o in zip(target.buffers(), online.buffers()):
            t.copy_(o)  # geossl copies buffers (they do not enter train-mode losses)


def cosine_momentum(base, step):
    return 1 - (1 - base) * (math.cos(math.pi * step / TOTAL_STEPS) + 1) / 2


def nt_xent(z, temperature):
    n2 = z.shape[0]
    zn = F.normalize(z, dim=1, eps=1e-12)
    logits = zn @ zn.t() / temperature - 1e9 * torch.eye(n2)
    labels = torch.cat([torch.arange(n2 // 2, n2), torch.arange(0, n2 // 2)])
    return F.cross_entropy(logits, labels)


def run_simclr(gen):
    config = dict(temperature=0.5, proj_dim=16, momentum=0.9, weight_decay=1e-4)
    net = Online(resnet_encoder(), projector=mlp_head(32, 32, 16, True))
    start = list(net.named_for_geossl())
    lrs = [0.01, 0.02, 0.03, 0.04, 0.05]  # larger rates make these 5 steps chaotic (see main)
    buffers, losses, steps = {}, [], []
    for step in range(STEPS):
        views = make_views(gen, 2)
        views[1] = views[0] + 0.5 * views[1]  # two "augmentations" of one image: better conditioned
        steps.append(views)
        net.zero_grad()
        loss = nt_xent(net.projector(net.encoder(torch.cat(views))), config["temperature"])
        losses.append(loss.item())
        loss.backward()
        lars_step(list(net.named_for_geossl_params()), lrs[step], 0.9, config["weight_decay"], buffers)
    return config, start, [], steps, lrs, losses


def normalized_mse(p, z):
    return 2 - 2 * (F.normalize(p, dim=-1, eps=1e-12) * F.normalize(z, dim=-1, eps=1e-12)).sum(-1).mean()


def run_byol(gen):
    config = dict(proj_dim=16, momentum=0.9, weight_decay=1e-4)
    net = Online(resnet_encoder(), projector=mlp_head(32, 64, 16, True), predictor=mlp_head(16, 64, 16, True))
    target = Online(copy.deepcopy(net.encoder), projector=copy.deepcopy(net.projector))
    start = list(net.named_for_geossl())
    lrs = [0.05, 0.1, 0.15, 0.2, 0.25]
    buffers, losses, steps = {}, [], []
    online_for_ema = Online(net.encoder, projector=net.projector)
    for step in range(STEPS):
        views = make_views(gen, 2)
        steps.append(views)
        net.zero_grad()
        x = torch.cat(views)
        z = net.projector(net.encoder(x))
        p = net.predictor(z)
        with torch.no_grad():
            zt = target.projector(target.encoder(x))
        n = BATCH
        loss = normalized_mse(p[:n], zt[n:]) + normalized_mse(p[n:], zt[:n])
        losses.append(loss.item())
        loss.backward()
        lars_step(list(net.named_for_geossl_params()), lrs[step], 0.9, config["weight_decay"], buffers)
        ema(target, online_for_ema, cosine_momentum(config["momentum"], step))
    return config, start, [], steps, lrs, losses


def run_moco(gen):
    queue_size = 20  # not a multiple of the batch: the enqueue wraps around
    config = dict(temperature=0.2, proj_dim=16, momentum=0.9, weight_decay=1e-4, queue_size=queue_size)
    net = Online(resnet_encoder(), projector=mlp_head(32, 32, 16, False))
    key = copy.deepcopy(net)
    start = list(net.named_for_geossl())
    queue = F.normalize(torch.randn(queue_size, 16, generator=gen), dim=1)
    state = [("queue", queue.clone()), ("queue_ptr", torch.zeros(1))]
    ptr = 0
    lrs = [0.01, 0.02, 0.03, 0.04, 0.05]
    decay = [p for n, p in net.named_for_geossl_params() if decays(n, p)]
    ids = {id(p) for p in decay}
    opt = torch.optim.SGD([dict(params=decay, weight_decay=config["weight_decay"]),
                           dict(params=[p for p in net.parameters() if id(p) not in ids], weight_decay=0.0)],
                          lr=lrs[0], momentum=0.9)
    losses, steps = [], []
    for step in range(STEPS):
        views = make_views(gen, 2)
        steps.append(views)
        opt.zero_grad()
        q = F.normalize(net.projector(net.encoder(views[0])), dim=1, eps=1e-12)
        with torch.no_grad():
            k = F.normalize(key.projector(key.encoder(views[1])), dim=1, eps=1e-12)
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ queue.t()], dim=1) / config["temperature"]
        loss = F.cross_entropy(logits, torch.zeros(BATCH, dtype=torch.long))
        losses.append(loss.item())
        loss.backward()
        for group in opt.param_groups:
            group["lr"] = lrs[step]
        opt.step()
        ema(key, net, config["momentum"])
        for i in range(BATCH):
            queue[(ptr + i) % queue_size] = k[i]
        ptr = (ptr + BATCH) % queue_size
    return config, start, state, steps, lrs, losses


def teacher_temperature(step):
    warmup = min(30 * STEPS_PER_EPOCH, TOTAL_STEPS * 3 // 10)
    return 0.07 if step >= warmup else 0.04 + 0.03 * step / warmup


def run_dino(gen, encoder, features):
    locals_, out, hidden = 2, 48, 32
    config = dict(temperature=0.1, proj_dim=out, proj_hidden=hidden, momentum=0.9, weight_decay=0.04,
                  local_crops=locals_)
    net = Online(encoder, head=DINOHead(features, hidden, hidden, out))
    teacher = copy.deepcopy(net)
    start = list(net.named_for_geossl())
    center = torch.zeros(1, out)
    state = [("center", center.clone())]
    lrs = [1e-3, 2e-3, 3e-3, 4e-3, 5e-3]
    named = list(net.named_for_geossl_params())
    decay = [p for n, p in named if decays(n, p)]
    ids = {id(p) for p in decay}
    opt = torch.optim.AdamW([dict(params=decay), dict(params=[p for _, p in named if id(p) not in ids],
                                                      weight_decay=0.0)], lr=lrs[0], betas=(0.9, 0.999), eps=1e-8)
    losses, steps = [], []
    for step in range(STEPS):
        views = make_views(gen, 2, locals_)
        steps.append(views)
        opt.zero_grad()
        student = [net.head(net.encoder(torch.cat(views[:2])))]
        student.append(net.head(net.encoder(torch.cat(views[2:]))))
        student = torch.cat(student).chunk(2 + locals_)
        with torch.no_grad():
            t = teacher.head(teacher.encoder(torch.cat(views[:2])))
            q = F.softmax((t - center) / teacher_temperature(step), dim=-1).chunk(2)
        total, terms = 0.0, 0
        for iq in range(2):
            for v in range(2 + locals_):
                if v == iq:
                    continue
                total = total + torch.sum(-q[iq] * F.log_softmax(student[v] / config["temperature"], dim=-1),
                                          dim=-1).mean()
                terms += 1
        loss = total / terms
        losses.append(loss.item())
        loss.backward()
        # The official code's order: clip each parameter, cancel the last
        # layer's gradient during the first epoch, then step.
        for _, p in named:
            if p.grad is not None:
                norm = p.grad.norm(2)
                coef = 3.0 / (norm + 1e-6)
                if coef < 1:
                    p.grad.mul_(coef)
        if step < STEPS_PER_EPOCH:
            net.head.last_layer.weight.grad = None
        wd = 0.4 + (0.04 - 0.4) * 0.5 * (1 + math.cos(math.pi * step / TOTAL_STEPS))
        opt.param_groups[0]["weight_decay"] = wd
        for group in opt.param_groups:
            group["lr"] = lrs[step]
        opt.step()
        ema(teacher, net, cosine_momentum(config["momentum"], step))
        center = center * 0.9 + t.mean(dim=0, keepdim=True) * 0.1
    return config, start, state, steps, lrs, losses


def named_for_geossl_params(self):
    for name, p in self.named_parameters():
        name = name[len("encoder."):] if name.startswith("encoder.") else name
        yield timm_name(name), p


Online.named_for_geossl_params = named_for_geossl_params


def write(name, result):
    config, start, state, steps, lrs, losses = result
    tensors = [("param/" + n, v) for n, v in start]
    tensors += [("state/" + n, v) for n, v in state]
    for s, views in enumerate(steps):
        tensors += [("view/%d/%d" % (s, v), x) for v, x in enumerate(views)]
    config = dict(config, total_steps=TOTAL_STEPS, steps_per_epoch=STEPS_PER_EPOCH, batch=BATCH)
    tensors += [("config/" + k, torch.tensor([float(v)])) for k, v in sorted(config.items())]
    tensors += [("lrs", torch.tensor(lrs)), ("losses", torch.tensor(losses))]
    path = os.path.join(OUT_DIR, "method_%s.gsfx" % name)
    gsfx.write(path, tensors)
    print("%s: losses %s" % (path, ["%.6f" % v for v in losses]))


def main():
    torch.set_num_threads(1)
    runs = [("simclr", run_simclr), ("byol", run_byol), ("moco", run_moco),
            ("dino_resnet", lambda g: run_dino(g, resnet_encoder(), 32)),
            ("dino_vit", lambda g: run_dino(g, ViT(), 24))]
    for seed, (name, run) in enumerate(runs):
        torch.manual_seed(100 + seed)
        write(name, run(torch.Generator().manual_seed(200 + seed)))


if __name__ == "__main__":
    main()
