"""MoCo v2 end to end in plain PyTorch, the recipe `geossl pretrain --method
mocov2 --optimizer sgd` runs (He et al. 2020; Chen et al. 2020, arXiv:2003.04297):
a query encoder (ResNet-18, ImageNet stem) with an MLP head without
batchnorm (512 -> 512 -> 128), a key encoder that is its momentum average
(m 0.999, parameters only), InfoNCE at --temperature between view 1's
queries and view 2's keys against a queue of earlier keys (random unit
vectors at the start; --queue 0: geossl's default, 65,536 capped at half an
epoch in whole batches), keys enqueued after the step; no shuffled
batchnorm (one device).  SGD, momentum 0.9, weight decay 1e-4, warm-up then
cosine.  Output as simclr_recipe.py.

  /usr/bin/python3 tools/reference/mocov2_recipe.py --data eurosat-rgb:../shared/data/eurosat-rgb \
      --epochs 30 --batch 256 --lr 0.03
"""
import copy
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import recipe_common as rc  # noqa: E402


class Encoder(nn.Module):
    def __init__(self, hidden=512, out=128):
        super().__init__()
        self.backbone = rc.resnet18_backbone()
        self.projector = nn.Sequential(nn.Linear(512, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out))

    def forward(self, x):
        return self.projector(self.backbone(x))


def main():
    p = rc.add_common_arguments(rc.parser(__doc__.split("\n")[0]), lr=0.03, temperature=0.2)
    p.add_argument("--momentum-target", type=float, default=0.999)
    p.add_argument("--queue", type=int, default=0)
    # MoCo v2's crops cover 20-100% of the image (geossl's mocov2 views).
    p.set_defaults(weight_decay=1e-4, crop_min=0.2)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    query = Encoder()
    key = copy.deepcopy(query)
    for q in key.parameters():
        q.requires_grad = False
    state = {}

    def transforms(mean, std):
        t = rc.view_transform(args, mean, std)
        return [t, t]

    def step(views, step, total):
        if "queue" not in state:
            n_train = total // args.epochs * args.batch
            size = args.queue or max(args.batch, min(65536, n_train // 2 // args.batch * args.batch))
            state["queue"] = F.normalize(torch.randn(size, 128), dim=1)
            state["ptr"] = 0
        q = F.normalize(query(views[0]), dim=1)
        with torch.no_grad():
            k = F.normalize(key(views[1]), dim=1)
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ state["queue"].T], dim=1) / args.temperature
        state["keys"] = k
        return F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long))

    @torch.no_grad()
    def after_step(step, total):
        for pk, pq in zip(key.parameters(), query.parameters()):
            pk.mul_(args.momentum_target).add_(pq.detach(), alpha=1 - args.momentum_target)
        k, queue, ptr = state["keys"], state["queue"], state["ptr"]
        rows = torch.arange(ptr, ptr + len(k)) % len(queue)
        queue[rows] = k
        state["ptr"] = int((ptr + len(k)) % len(queue))

    rc.run(args, "mocov2", query, step, transforms, after_step=after_step)


if __name__ == "__main__":
    main()
