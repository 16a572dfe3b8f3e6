"""GLCNet reference fixture, written from ../shared/specs/glcnet.md (sections 1,
3 and 5) with torch, not from geossl's C.

tests/fixtures/glcnet.gsfx: the first 5 training steps of GLCNet
(tests/methods_glcnet.c must reproduce every loss within 1e-4 relative and
every gradient of step 0):
  * the network of section 1: a narrow ResNet-18 (width 4, 4 bands, the 7x7
    stem) at output stride 16 (layer4 dilated, as
    tools/reference/deeplab_reference.py builds it with torchvision's
    replace_stride_with_dilation), the ASPP and decoder of
    deeplab_reference.py (ASPP dropout off: its mask cannot be shared with
    C), batchnorm momentum 0.9, the decoder's 64-channel output upsampled
    (align_corners) to the 32 px input;
  * each view in its own forward pass (the released model runs the backbone
    once per view);
  * global branch: [mean; torch.var (unbiased)] of every ASPP channel ->
    Linear -> ReLU -> Linear; local branch: torchvision.ops.roi_pool with
    output (P, P) and spatial_scale 1 on the full-resolution map over the
    boxes [k, x1, y1, x1 + P - 1, y1 + P - 1], then the mean over the P x P
    bins -> Linear(64, 64) -> ReLU -> Linear;
  * the NT-Xent of utils/contrast_loss.py as the spec states it: positive
    and self left out of the denominator (masks diag, k = +-B), + 1e-8;
  * L = 0.5 L_global + 0.5 L_local;
  * torch.optim.Adam(betas=(0.9, 0.99), weight_decay=1e-5) over every
    parameter, learning rates given per step.
The regions are drawn here at random (4 pairs per image, P = 7 = round(48 x
32 / 224)) and stored, so the C test feeds them to the method instead of
matching its own.  The generator refuses a fixture whose 5 losses move by
more than 1e-5 relative between float32 and float64 or under a 1e-6 nudge
of the weights.

Fixture keys: param/<name> (geossl names: the ResNet's torchvision names,
aspp.*, decoder.*, global_proj.*, local_proj.*), view/<step>/<v>,
boxes/<step> (B*J rows: top1, left1, top2, left2), config/<key>, lrs,
losses, global_losses, local_losses, grad/<name> (step 0, float64).

Run with Debian's interpreter:  /usr/bin/python3 tools/reference/glcnet_reference.py
"""
import copy
import os
import sys

import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.dirname(__file__))
import deeplab_reference as dr  # noqa: E402
import gsfx  # noqa: E402

OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures")
BANDS, SIZE, BATCH, WIDTH, STEPS = 4, 32, 4, 4, 5
PATCH, PATCHES = 7, 4  # round(48 * 32 / 224) = 7
HEAD = 256 * WIDTH // 64  # ASPP and decoder channels: 16
LOW = (HEAD * 48 + 128) // 256  # low-level projection: 3
LOCAL = 64  # the decoder's output channels
HIDDEN, OUT = 32, 16
RATES = (6, 12, 18)
TEMPERATURE, LAMBDA, WEIGHT_DECAY, BETAS, BN_MOMENTUM = 0.5, 0.5, 1e-5, (0.9, 0.99), 0.9
LRS = [1e-4, 2e-4, 3e-4, 2e-4, 1e-4]  # Adam moves every weight by ~lr: 1e-3 makes these 5 steps chaotic


class GLCNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = dr.narrow_resnet(dr.DilatedBasicBlock, [2, 2, 2, 2], WIDTH, BANDS, 10, [False, False, True],
                                        deeplab_dilation=True)  # the authors' DeepLab ResNet (spec section 1)
        self.encoder.fc = nn.Identity()
        self.aspp = dr.ASPP(WIDTH * 8, HEAD, RATES, 0.0)
        self.decoder = dr.Decoder(WIDTH, HEAD, LOW, HEAD, LOCAL)
        self.global_proj = nn.Sequential(nn.Linear(2 * HEAD, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, OUT))
        self.local_proj = nn.Sequential(nn.Linear(LOCAL, LOCAL), nn.ReLU(), nn.Linear(LOCAL, OUT))
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.momentum = BN_MOMENTUM

    def branch(self, x, rois):
        e = self.encoder
        low = e.layer1(e.maxpool(e.relu(e.bn1(e.conv1(x)))))
        high = e.layer4(e.layer3(e.layer2(low)))
        f = self.aspp(high)
        _, predict = self.decoder(f, low, x.shape[2:])
        style = torch.cat([f.mean(dim=(2, 3)), torch.var(f.flatten(2), dim=2)], dim=1)
        pooled = torchvision.ops.roi_pool(predict, rois, output_size=(PATCH, PATCH), spatial_scale=1.0)
        return self.global_proj(style), self.local_proj(pooled.mean(dim=(2, 3)))

    def named_for_geossl(self):
        for name, value in self.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            yield (name[len("encoder."):] if name.startswith("encoder.") else name), value.clone()


def nt_xent(zi, zj, tau=TEMPERATURE, eps=1e-8):
    """utils/contrast_loss.py's NTXentLoss(cos_sim=True) as specs/glcnet.md section 3 states it."""
    zi, zj = nn.functional.normalize(zi, dim=1), nn.functional.normalize(zj, dim=1)
    bs = zi.shape[0]
    z = torch.cat([zi, zj], dim=0)
    sim = torch.exp(nn.functional.cosine_similarity(z.unsqueeze(1), z.unsqueeze(0), dim=-1) / tau)
    eye = torch.eye(bs, dtype=torch.bool)
    zeros = torch.zeros(bs, bs, dtype=torch.bool)
    pos_mask = torch.cat([torch.cat([zeros, eye], 0), torch.cat([eye, zeros], 0)], 1)
    neg_mask = ~(pos_mask | torch.eye(2 * bs, dtype=torch.bool))
    sim_pos = sim.masked_select(pos_mask).view(2 * bs)
    sim_neg = sim.masked_select(neg_mask).view(2 * bs, -1)
    return (-torch.log(sim_pos / (sim_neg.sum(dim=-1) + eps))).mean()


def rois_of(boxes, view, dtype):
    """boxes (B*J, 4): top1, left1, top2, left2 -> RoIs [k, x1, y1, x2, y2] of one view."""
    rows = []
    for r, b in enumerate(boxes.tolist()):
        top, left = (b[0], b[1]) if view == 0 else (b[2], b[3])
        rows.append([r // PATCHES, left, top, left + PATCH - 1, top + PATCH - 1])
    return torch.tensor(rows, dtype=dtype)


def run(net, steps, dtype=torch.float32, nudge=0.0):
    net = copy.deepcopy(net).to(dtype)
    if nudge:
        with torch.no_grad():
            g = torch.Generator().manual_seed(7)
            for p in net.parameters():
                p.mul_(1 + nudge * torch.randn(p.shape, generator=g, dtype=dtype))
    opt = torch.optim.Adam(net.parameters(), lr=LRS[0], betas=BETAS, weight_decay=WEIGHT_DECAY)
    losses, parts, grads = [], [], []
    for step, (views, boxes) in enumerate(steps):
        opt.zero_grad()
        g1, l1 = net.branch(views[0].to(dtype), rois_of(boxes, 0, dtype))
        g2, l2 = net.branch(views[1].to(dtype), rois_of(boxes, 1, dtype))
        lg, ll = nt_xent(g1, g2), nt_xent(l1, l2)
        loss = LAMBDA * lg + (1 - LAMBDA) * ll
        losses.append(loss.item())
        parts.append((lg.item(), ll.item()))
        loss.backward()
        if step == 0:
            names = dict((id(p), n) for n, p in net.named_parameters())
            grads = [(names[id(p)][len("encoder."):] if names[id(p)].startswith("encoder.") else names[id(p)],
                      p.grad.detach().clone()) for p in net.parameters()]
        for group in opt.param_groups:
            group["lr"] = LRS[step]
        opt.step()
    return losses, parts, grads


def make_steps(seed):
    gen = torch.Generator().manual_seed(seed)
    steps = []
    for _ in range(STEPS):
        x = torch.randn(BATCH, BANDS, SIZE, SIZE, generator=gen)
        views = [x, x + 0.5 * torch.randn(BATCH, BANDS, SIZE, SIZE, generator=gen)]
        boxes = torch.randint(0, SIZE - PATCH + 1, (BATCH * PATCHES, 4), generator=gen).float()
        steps.append((views, boxes))
    return steps


def main():
    torch.set_num_threads(1)
    seed = 5
    torch.manual_seed(seed)
    net = GLCNet()
    with torch.no_grad():  # non-trivial affine batchnorm parameters
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
    start = list(net.named_for_geossl())
    steps = make_steps(seed + 100)
    losses, parts, _ = run(net, steps)
    losses64, parts64, grads64 = run(net, steps, torch.float64)
    nudged, _, _ = run(net, steps, torch.float64, nudge=1e-6)
    problems = []
    for a, b, what in ((losses, losses64, "float32/float64"), (losses64, nudged, "1e-6 nudge")):
        worst = max(abs(x - y) / abs(y) for x, y in zip(a, b))
        print("%s: worst relative change %.2e" % (what, worst))
        if worst > 1e-5:
            problems.append("%s moves the losses by %.1e" % (what, worst))
    print("losses", ["%.6f" % v for v in losses64], "global/local", ["%.5f/%.5f" % p for p in parts64])
    if problems:
        sys.exit("refused: " + "; ".join(problems))
    tensors = [("param/" + n, v) for n, v in start]
    tensors += [("grad/" + n, g) for n, g in grads64]
    for s, (views, boxes) in enumerate(steps):
        tensors += [("view/%d/%d" % (s, v), x) for v, x in enumerate(views)]
        tensors.append(("boxes/%d" % s, boxes))
    config = dict(batch=BATCH, bands=BANDS, size=SIZE, width=WIDTH, patch=PATCH, patches=PATCHES, head=HEAD,
                  proj_hidden=HIDDEN, proj_dim=OUT, temperature=TEMPERATURE, weight_decay=WEIGHT_DECAY,
                  beta2=BETAS[1], bn_momentum=BN_MOMENTUM)
    tensors += [("config/" + k, torch.tensor([float(v)])) for k, v in sorted(config.items())]
    tensors += [("lrs", torch.tensor(LRS)), ("losses", torch.tensor(losses64)),
                ("global_losses", torch.tensor([p[0] for p in parts64])),
                ("local_losses", torch.tensor([p[1] for p in parts64]))]
    path = os.path.join(OUT_DIR, "glcnet.gsfx")
    gsfx.write(path, tensors)
    print("wrote", path)


if __name__ == "__main__":
    main()
