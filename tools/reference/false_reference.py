"""FALSE reference fixtures, written from ../shared/specs/false.md (sections 3
and 5) with torch, not from geossl's C.

1. tests/fixtures/false_<name>.gsfx: the first 5 training steps of FALSE
   (tests/methods_false.c must reproduce every loss within 1e-4 relative):
     * the loss of section 3 literally: S = exp(E E^T / T), the pos / neg
       masks, the FNSD matrix D (initialised to 3, |S_ij - s+_i| on j >= i,
       the diagonal and the positive reset to 3), the pairs at its minimum,
       the FNCC gate T ln s+_a >= 0.9 and the in-place moves of S_am between
       the positive and the negative sums, -mean(log(pos / (pos + neg)));
       the per-anchor variant takes, for every anchor, the minimum of
       |S_ij - s+_i| over all j other than i and its positive;
     * LARC of section 5 around torch.optim.SGD (momentum 0.9): every
       parameter with a gradient is rescaled by
       eta ||p|| / (||g|| + wd ||p|| + eps) after adding wd p, with VISSL's
       groups: conv and linear weights and the head's linear biases decayed
       (regularize_bias True), batchnorm not (regularize_bn False);
     * the encoder and views of tools/reference/methods_reference.py
       (ResNet-18 at width 4, small stem, 16 px, 3 bands, batch 8: R = 16).
   The generator refuses a fixture whose selection or gate is fragile (the
   runner-up D within MARGIN of the minimum, a confident anchor's positive
   cosine within MARGIN of the threshold, the global minimum not below the
   sentinel 3 so that geossl's and the released rule could differ), whose
   calibration does not fire at step 0 or never stays closed, or whose 5
   losses move by more than 1e-5 relative when the weights are nudged by
   1e-6 (float32 versus float64 as well).  The learning rates are small for
   that reason: at init the gradients of this narrow ResNet move 30x more
   than the weights (a 1e-6 nudge changes them by 3e-5), and LARC steps the
   zero-initialised batchnorm biases by the raw lr * g (zero norm: no
   adaptation), so at lr 0.5 and up the 5 losses become chaotic.
   Fixture keys as methods_reference.py, plus config/alpha,
   config/per_anchor, config/head_relu, "calibrated" / "selected" (the
   pairs FNCC moved and FNSD picked at each step) and grad/<name>: every
   gradient of step 0 in float64, a calibrated step, checked directly.

2. tests/fixtures/false_larc.gsfx: LARC alone on four tensors (a decayed
   weight, a decayed bias, an undecayed norm scale, an all-zero weight) over
   4 steps of fixed gradients and learning rates: "param/<name>" at the
   start, "grad/<step>/<name>", "after/<step>/<name>", "lrs", config/*.
   tests/optim_larc.c checks geossl's larc kind against it.

Run with Debian's interpreter:  /usr/bin/python3 tools/reference/false_reference.py
"""
import copy
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
import gsfx  # noqa: E402
import methods_reference as mr  # noqa: E402

OUT_DIR = mr.OUT_DIR
STEPS, BATCH = mr.STEPS, mr.BATCH
TRUST, LARC_EPS = 0.001, 1e-8
THRESHOLD, SENTINEL = 0.9, 3.0
MARGIN = 2e-4  # D gaps and cosine distances to the gate, far above float32 trajectory noise (~1e-6)


class LARC:
    """apex-style LARC, scale mode (clip False), as specs/false.md section 5
    states it: the wrapped SGD runs with its weight decay set to 0."""

    def __init__(self, optim, trust_coefficient=TRUST, eps=LARC_EPS):
        self.optim, self.trust, self.eps = optim, trust_coefficient, eps

    def step(self):
        with torch.no_grad():
            decays = []
            for group in self.optim.param_groups:
                wd = group.get("weight_decay", 0.0)
                decays.append(wd)
                group["weight_decay"] = 0.0
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    pn, gn = torch.norm(p.data), torch.norm(p.grad.data)
                    if pn != 0 and gn != 0:
                        rate = self.trust * pn / (gn + pn * wd + self.eps)
                        p.grad.data += wd * p.data
                        p.grad.data *= rate
        self.optim.step()
        for group, wd in zip(self.optim.param_groups, decays):
            group["weight_decay"] = wd


def false_loss(e, temperature, alpha, per_anchor, stats):
    """Section 3 of the spec on the L2-normalised embeddings e (R x D)."""
    r = e.shape[0]
    c = r
    n = r // 2
    similarity = torch.exp(torch.mm(e, e.t()) / temperature)
    pos_mask = torch.zeros(r, c, dtype=e.dtype)
    neg_mask = torch.ones(r, c, dtype=e.dtype)
    for i in range(r):
        p = i + n if i < n else i - n
        pos_mask[i, p] = 1
        neg_mask[i, p] = 0
        neg_mask[i, i] = 0
    all_pos = similarity * pos_mask
    all_neg = similarity * neg_mask
    s = similarity.detach()
    pos_sim = torch.stack([s[i, i + n] if i < n else s[i, i - n] for i in range(r)])
    if per_anchor:
        pairs = []
        for i in range(r):
            p = i + n if i < n else i - n
            d = torch.abs(s[i] - pos_sim[i])
            d[i] = float("inf")
            d[p] = float("inf")
            best = torch.min(d)
            ranked = torch.sort(d).values
            stats["gaps"].append(float(ranked[1] - ranked[0]))
            pairs += [(i, int(j)) for j in torch.where(d == best)[0]]
    else:
        diff = torch.zeros(r, c, dtype=e.dtype) + SENTINEL
        for i in range(r):
            diff[i, i:] = torch.abs(s[i, i:] - pos_sim[i])
            diff[i, i] = SENTINEL
            if i < n:
                diff[i, i + n] = SENTINEL
        best = torch.min(diff)
        stats["below_sentinel"].append(float(SENTINEL - best))
        real = sorted(float(diff[i, j]) for i in range(r) for j in range(i + 1, c) if j != i + n)
        stats["gaps"].append(real[1] - real[0])
        where = torch.where(diff == best)
        pairs = [(int(a), int(m)) for a, m in zip(where[0], where[1])]
    calibrated = 0
    for a, m in pairs:
        cos_pos = torch.log(pos_sim[a]) * temperature
        stats["gate"].append(abs(float(cos_pos) - THRESHOLD))
        if cos_pos >= THRESHOLD:
            calibrated += 1
            if all_pos[a, m] == 0:
                all_pos[a, m] = alpha * all_neg[a, m]  # S_EP, the enhanced positive
            if all_neg[a, m] != 0:
                all_neg[a, m] = (1 - alpha) * all_neg[a, m]  # S_WN, the weakened negative
    stats["selected"].append(len(pairs))
    stats["calibrated"].append(calibrated)
    pos = torch.sum(all_pos, 1)
    neg = torch.sum(all_neg, 1)
    return -torch.mean(torch.log(pos / (pos + neg)))


def head(features, hidden, out, relu):
    return nn.Sequential(nn.Linear(features, hidden), nn.ReLU() if relu else nn.Identity(),
                         nn.Linear(hidden, out))


def decays(name, p):
    """VISSL's groups: conv / linear weights and (regularize_bias) linear biases."""
    return p.ndim > 1 or name.startswith("projector.")


def run(net, views_per_step, lrs, config, dtype=torch.float32, nudge=0.0):
    net = copy.deepcopy(net).to(dtype)
    if nudge:
        with torch.no_grad():
            g = torch.Generator().manual_seed(7)
            for p in net.parameters():
                p.mul_(1 + nudge * torch.randn(p.shape, generator=g, dtype=dtype))
    named = list(net.named_for_geossl_params())
    decay = [p for n, p in named if decays(n, p)]
    ids = {id(p) for p in decay}
    sgd = torch.optim.SGD([dict(params=decay, weight_decay=config["weight_decay"]),
                           dict(params=[p for _, p in named if id(p) not in ids], weight_decay=0.0)],
                          lr=lrs[0], momentum=0.9)
    opt = LARC(sgd)
    stats = dict(gaps=[], gate=[], below_sentinel=[], selected=[], calibrated=[])
    losses, grads = [], []
    for step in range(STEPS):
        sgd.zero_grad()
        z = net.projector(net.encoder(torch.cat(views_per_step[step]).to(dtype)))
        e = nn.functional.normalize(z, dim=1, p=2)
        loss = false_loss(e, config["temperature"], config["alpha"], config["per_anchor"], stats)
        losses.append(loss.item())
        loss.backward()
        if step == 0:  # before LARC rescales them in place
            grads = [(n, p.grad.detach().clone()) for n, p in named if p.grad is not None]
        for group in sgd.param_groups:
            group["lr"] = lrs[step]
        opt.step()
    return losses, stats, grads


def make_run(seed, alpha, per_anchor, head_relu, lrs, noise):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 100)
    config = dict(temperature=0.5, proj_dim=16, proj_hidden=32, momentum=0.9, weight_decay=1e-6, alpha=alpha,
                  per_anchor=int(per_anchor), head_relu=int(head_relu))
    net = mr.Online(mr.resnet_encoder(), projector=head(32, 32, 16, head_relu))
    steps = []
    for _ in range(STEPS):
        views = mr.make_views(gen, 2)
        # Two "augmentations" of one image, close enough for confident
        # positives (cosine >= 0.9) so that the calibration fires.
        views[1] = views[0] + noise * views[1]
        steps.append(views)
    return net, steps, config


def check(name, net, steps, lrs, config):
    losses, stats, _ = run(net, steps, lrs, config)
    losses64, _, grads64 = run(net, steps, lrs, config, torch.float64)
    nudged, _, _ = run(net, steps, lrs, config, torch.float64, nudge=1e-6)
    problems = []
    if min(stats["gaps"]) < MARGIN:
        problems.append("runner-up D within %.1e of the minimum" % min(stats["gaps"]))
    if stats["gate"] and min(stats["gate"]) < MARGIN:
        problems.append("a positive cosine within %.1e of the gate" % min(stats["gate"]))
    if stats["below_sentinel"] and min(stats["below_sentinel"]) < MARGIN:
        problems.append("the minimum D is not below the sentinel 3")
    if stats["calibrated"][0] == 0:
        problems.append("the calibration does not fire at step 0 (whose gradients the fixture keeps)")
    if sum(stats["calibrated"]) == sum(stats["selected"]):
        problems.append("every selected pair is calibrated (the gate is never closed)")
    for a, b, what in ((losses, losses64, "float32/float64"), (losses64, nudged, "1e-6 nudge")):
        worst = max(abs(x - y) / abs(y) for x, y in zip(a, b))
        if worst > 1e-5:
            problems.append("%s moves the losses by %.1e" % (what, worst))
    print("%s: losses %s, selected %s, calibrated %s, min gap %.2e, min gate distance %.2e%s" % (
        name, ["%.6f" % v for v in losses], stats["selected"], stats["calibrated"], min(stats["gaps"]),
        min(stats["gate"]) if stats["gate"] else float("nan"), "; REFUSED: " + "; ".join(problems) if problems else ""))
    return losses, stats, grads64, problems


def write_method(name, net, steps, lrs, config, losses, stats, grads):
    tensors = [("param/" + n, v) for n, v in net.named_for_geossl()]
    tensors += [("grad/" + n, g) for n, g in grads]
    for s, views in enumerate(steps):
        tensors += [("view/%d/%d" % (s, v), x) for v, x in enumerate(views)]
    config = dict(config, batch=BATCH)
    tensors += [("config/" + k, torch.tensor([float(v)])) for k, v in sorted(config.items())]
    tensors += [("lrs", torch.tensor(lrs)), ("losses", torch.tensor(losses)),
                ("selected", torch.tensor([float(v) for v in stats["selected"]])),
                ("calibrated", torch.tensor([float(v) for v in stats["calibrated"]]))]
    path = os.path.join(OUT_DIR, "false_%s.gsfx" % name)
    gsfx.write(path, tensors)
    print("wrote", path)


def write_larc():
    """LARC alone: torch.optim.SGD(momentum 0.9) wrapped in LARC."""
    g = torch.Generator().manual_seed(31)
    specs = [("layer.weight", (3, 5), 0.01), ("layer.bias", (5,), 0.01), ("bn.weight", (4,), 0.0),
             ("zero.weight", (2, 2), 0.01)]
    params = []
    for name, shape, _ in specs:
        value = torch.zeros(shape) if name.startswith("zero") else torch.randn(shape, generator=g)
        params.append(nn.Parameter(value))
    start = [(n, p.detach().clone()) for (n, _, _), p in zip(specs, params)]
    sgd = torch.optim.SGD([dict(params=[p], weight_decay=wd) for p, (_, _, wd) in zip(params, specs)], lr=1.0,
                          momentum=0.9)
    opt = LARC(sgd, trust_coefficient=0.02)  # a larger trust than 0.001 so the steps are visible
    lrs = [0.5, 2.0, 1.0, 4.0]
    tensors = [("param/" + n, v) for n, v in start]
    for step, lr in enumerate(lrs):
        sgd.zero_grad()
        for (name, shape, _), p in zip(specs, params):
            grad = torch.randn(shape, generator=g) * (0.1 + step)
            if step == 2 and name == "bn.weight":
                grad = torch.zeros(shape)  # a zero gradient: no adaptation, no decay
            p.grad = grad
            tensors.append(("grad/%d/%s" % (step, name), grad.clone()))
        for group in sgd.param_groups:
            group["lr"] = lr
        opt.step()
        tensors += [("after/%d/%s" % (step, n), p.detach().clone()) for (n, _, _), p in zip(specs, params)]
    tensors += [("lrs", torch.tensor(lrs)), ("config/trust", torch.tensor([0.02])),
                ("config/weight_decay", torch.tensor([0.01])), ("config/momentum", torch.tensor([0.9])),
                ("config/eps", torch.tensor([LARC_EPS]))]
    path = os.path.join(OUT_DIR, "false_larc.gsfx")
    gsfx.write(path, tensors)
    print("wrote", path)


RUNS = {
    # name: (seed, alpha, per_anchor, head_relu, lrs, view noise)
    "global": (14, 1.0, False, False, [0.1, 0.2, 0.3, 0.4, 0.5], 0.2),
    "per_anchor": (16, 0.5, True, True, [0.1, 0.2, 0.3, 0.4, 0.5], 0.2),
}


def main():
    torch.set_num_threads(1)
    only = sys.argv[1:]
    failed = False
    for name, (seed, alpha, per_anchor, head_relu, lrs, noise) in RUNS.items():
        if only and name not in only:
            continue
        net, steps, config = make_run(seed, alpha, per_anchor, head_relu, lrs, noise)
        losses, stats, grads, problems = check(name, net, steps, lrs, config)
        if problems:
            failed = True
            continue
        write_method(name, net, steps, lrs, config, losses, stats, grads)
    if not only or "larc" in only:
        write_larc()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
