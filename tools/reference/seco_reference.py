"""Reference losses of SeCo's first 5 training steps, written from the
specification ../shared/specs/seco.md (sections 1-5) with torch.nn.functional,
not from geossl's C.

Per step: four views of every location, each holding all of its dates,
(N, dates, C, H, W) as geossl's loader delivers them (view 0 crop only,
view 1 augmented, view 2 crop only, view 3 augmented), and the date draws
(t0, t1, t2) of each location, drawn here without replacement.  The spec's
four images are then
    q  = view 0 at date t0      k0 = view 1 at date t1
    k1 = view 2 at date t2      k2 = view 3 at date t0.
Query encoder f_q and three heads h_i = Linear(D, D) - ReLU - Linear(D, P);
key encoder and key heads are EMA copies (updated after each optimizer step,
which gives the values the authors' update at the start of the next forward
gives); the key encoder runs once per key view in train-mode batchnorm.
Sub-space i: positive h_i^k(f_k(k_i)); negatives the queue Q_i, and for
i = 1, 2 the 2N keys h_i^k(f_k(k_j)), j != i.  Loss = L0 + L1 + L2, InfoNCE
at temperature tau.  Each queue receives its positives after the step (rows
wrap around: the queue here is not a multiple of the batch).  SGD with
momentum 0.9 and weight decay on every parameter (biases and batchnorm too,
as the authors' torch.optim.SGD(model.parameters(), weight_decay=...)).

Fixture tests/fixtures/seco.gsfx:
  param/<name>      initial query encoder and heads (torchvision names; heads.<i>.0/2)
  state/<name>      queue.0, queue.1, queue.2 (K, P) and queue_ptr (3)
  view/<step>/<v>   the 4 views of each step, (N, dates, C, H, W)
  dates/<step>      (N, 3): t0, t1, t2 of each location
  config/<key>      the scalars the C side uses
  lrs, losses       learning rate and loss of each of the 5 steps

Conditioning: the run is repeated in float64 and with the initial weights
nudged by 1e-6; the fixture is refused when either moves a loss by more than
1e-5 relative (the C check is 1e-4).
Run: /usr/bin/python3 tools/reference/seco_reference.py
"""
import copy
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import gsfx  # noqa: E402
from methods_reference import Online, ema, mlp_head, resnet_encoder  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "seco.gsfx")
BANDS, SIZE, DATES, BATCH, STEPS = 3, 12, 4, 6, 5
FEATURES, PROJ = 32, 16
CONFIG = dict(temperature=0.07, proj_dim=PROJ, proj_hidden=FEATURES, momentum=0.9, weight_decay=1e-4,
              queue_size=20, dates=DATES, size=SIZE)
LRS = [0.003, 0.006, 0.009, 0.012, 0.015]  # 0.002 sits next to a relu kink float32 rounding crosses
SPACES = 3
SEASON = 0.7


def make_inputs(gen):
    """Views and date draws of every step.  A location is one image plus a
    change per date (its seasons); each view adds its own noise (its
    augmentation).  Positives are then closer than negatives, which keeps the
    five steps well conditioned."""
    steps = []
    for _ in range(STEPS):
        place = torch.randn(BATCH, 1, BANDS, SIZE, SIZE, generator=gen)
        seasons = place + SEASON * torch.randn(BATCH, DATES, BANDS, SIZE, SIZE, generator=gen)
        views = [seasons + 0.5 * torch.randn(BATCH, DATES, BANDS, SIZE, SIZE, generator=gen) for _ in range(4)]
        dates = torch.stack([torch.randperm(DATES, generator=gen)[:3] for _ in range(BATCH)])  # distinct
        steps.append((views, dates))
    return steps


def seco_loss(net, key, queues, views, dates, tau):
    rows = torch.arange(BATCH)
    q_img = views[0][rows, dates[:, 0]]
    k_imgs = [views[1][rows, dates[:, 1]], views[2][rows, dates[:, 2]], views[3][rows, dates[:, 0]]]
    v_q = net.encoder(q_img)
    with torch.no_grad():
        v_k = [key.encoder(x) for x in k_imgs]  # one pass per key view: its own batch statistics
    total, positives = 0.0, []
    for i in range(SPACES):
        z_q = F.normalize(net.heads[i](v_q), dim=1)
        with torch.no_grad():
            z_k = [F.normalize(key.heads[i](v), dim=1) for v in v_k]
        z_pos = z_k[i]
        z_neg = queues[i].t()  # (P, K)
        if i > 0:  # sub-space 0 is invariant to everything: queue only
            z_neg = torch.cat([z_neg] + [z_k[j].t() for j in range(SPACES) if j != i], dim=1)
        l_pos = torch.einsum("nc,nc->n", z_q, z_pos).unsqueeze(-1)
        l_neg = torch.einsum("nc,ck->nk", z_q, z_neg)
        logits = torch.cat([l_pos, l_neg], dim=1) / tau
        total = total + F.cross_entropy(logits, torch.zeros(BATCH, dtype=torch.long))
        positives.append(z_pos)
    return total, positives


def build(seed):
    torch.manual_seed(seed)
    net = Online(resnet_encoder(), heads=nn.ModuleList(
        [mlp_head(FEATURES, FEATURES, PROJ, False) for _ in range(SPACES)]))
    gen = torch.Generator().manual_seed(seed + 1)
    queues = [F.normalize(torch.randn(CONFIG["queue_size"], PROJ, generator=gen), dim=1) for _ in range(SPACES)]
    return net, queues


def run(net, queues, steps, dtype=torch.float32, nudge=0.0):
    net = copy.deepcopy(net).to(dtype)
    if nudge:
        gen = torch.Generator().manual_seed(7)
        with torch.no_grad():
            for p in net.parameters():
                p.mul_(1 + nudge * torch.randn(p.shape, generator=gen, dtype=torch.float64).to(dtype))
    key = copy.deepcopy(net)
    queues = [q.clone().to(dtype) for q in queues]
    ptr = [0] * SPACES
    opt = torch.optim.SGD(net.parameters(), lr=LRS[0], momentum=0.9, weight_decay=CONFIG["weight_decay"])
    losses = []
    for step, (views, dates) in enumerate(steps):
        views = [v.to(dtype) for v in views]
        opt.zero_grad()
        loss, positives = seco_loss(net, key, queues, views, dates, CONFIG["temperature"])
        losses.append(loss.item())
        loss.backward()
        for group in opt.param_groups:
            group["lr"] = LRS[step]
        opt.step()
        ema(key, net, CONFIG["momentum"])
        for i in range(SPACES):
            k = CONFIG["queue_size"]
            for r in range(BATCH):
                queues[i][(ptr[i] + r) % k] = positives[i][r]
            ptr[i] = (ptr[i] + BATCH) % k
    return losses


def main():
    torch.set_num_threads(1)
    net, queues = build(500)
    steps = make_inputs(torch.Generator().manual_seed(501))
    start = list(net.named_for_geossl())
    losses = run(net, queues, steps)
    exact = run(net, queues, steps, torch.float64)
    nudged = run(net, queues, steps, torch.float64, 1e-6)
    stray = max(abs(a - b) / abs(b) for a, b in zip(losses, exact))
    moved = max(abs(c - b) / abs(b) for b, c in zip(exact, nudged))
    print("losses   %s\nfloat64  %s\nnudged   %s\nfloat32 vs float64 %.2g, after a 1e-6 nudge %.2g" % (
        ["%.6f" % v for v in losses], ["%.6f" % v for v in exact], ["%.6f" % v for v in nudged], stray, moved))
    if stray > 2e-5 or moved > 2.5e-5:
        sys.exit("ill-conditioned: change the seeds or learning rates")
    tensors = [("param/" + n, v) for n, v in start]
    tensors += [("state/queue.%d" % i, q) for i, q in enumerate(queues)]
    tensors += [("state/queue_ptr", torch.zeros(SPACES))]
    for s, (views, dates) in enumerate(steps):
        tensors += [("view/%d/%d" % (s, v), x) for v, x in enumerate(views)]
        tensors.append(("dates/%d" % s, dates.float()))
    config = dict(CONFIG, batch=BATCH)
    tensors += [("config/" + k, torch.tensor([float(v)])) for k, v in sorted(config.items())]
    tensors += [("lrs", torch.tensor(LRS)), ("losses", torch.tensor(exact))]
    gsfx.write(OUT, tensors)
    print("%s: %d tensors" % (OUT, len(tensors)))


if __name__ == "__main__":
    main()
