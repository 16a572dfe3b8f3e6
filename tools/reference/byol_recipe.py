"""BYOL end to end in plain PyTorch, the recipe `geossl pretrain --method byol
--optimizer sgd` runs (Grill et al. 2020): an online network (ResNet-18,
ImageNet stem; projector 512 -> 1024 -> 128 and predictor 128 -> 1024 -> 128,
each Linear-BN-ReLU-Linear; views asymmetric as in the paper's table 6)
predicts a target network that is its momentum
average (tau from 0.996 to 1 on a cosine over all steps, parameters only);
both views through both networks as one batch of 2N; loss 2 - 2 cos(p, z')
for each view against the other's target projection, summed.  SGD (geossl's
default is LARS; the side-by-side runs SGD on both), warm-up then cosine.
Output as simclr_recipe.py.

  /usr/bin/python3 tools/reference/byol_recipe.py --data eurosat-rgb:../shared/data/eurosat-rgb \
      --epochs 30 --batch 256 --lr 0.2
"""
import copy
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import recipe_common as rc  # noqa: E402


def mlp(i, hidden, out):
    return nn.Sequential(nn.Linear(i, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out))


class Online(nn.Module):
    def __init__(self, hidden=1024, out=128):
        super().__init__()
        self.backbone = rc.resnet18_backbone()
        self.projector = mlp(512, hidden, out)
        self.predictor = mlp(out, hidden, out)


def main():
    p = rc.add_common_arguments(rc.parser(__doc__.split("\n")[0]), lr=0.2)
    p.add_argument("--momentum-target", type=float, default=0.996)
    # The paper's views (table 6): saturation 0.2; view 1 always blurred,
    # view 2 blurred at 0.1 and solarized at 0.2 (geossl's byol-1 / byol-2).
    p.set_defaults(weight_decay=1.5e-6, saturation=0.2)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    online = Online()
    if args.init_from:
        rc.load_geossl_checkpoint(online, args.init_from)  # before the target copies it
        args.init_loaded = True
    target = nn.ModuleDict({"backbone": copy.deepcopy(online.backbone), "projector": copy.deepcopy(online.projector)})
    for q in target.parameters():
        q.requires_grad = False

    def transforms(mean, std):
        return [rc.view_transform(args, mean, std, blur_p=1.0),
                rc.view_transform(args, mean, std, blur_p=0.1, solarize_p=0.2)]

    def loss2(p, z):
        return 2 - 2 * F.cosine_similarity(p, z, dim=1, eps=1e-12).mean()

    def step(views, step, total):
        x = torch.cat(views)
        n = len(views[0])
        pred = online.predictor(online.projector(online.backbone(x)))
        with torch.no_grad():
            zt = target["projector"](target["backbone"](x))
        return loss2(pred[:n], zt[n:]) + loss2(pred[n:], zt[:n])

    @torch.no_grad()
    def after_step(step, total):
        tau = 1 - (1 - args.momentum_target) * (math.cos(math.pi * step / total) + 1) / 2
        pairs = [(target["backbone"], online.backbone), (target["projector"], online.projector)]
        for t, o in pairs:
            for pt, po in zip(t.parameters(), o.parameters()):
                pt.mul_(tau).add_(po.detach(), alpha=1 - tau)

    rc.run(args, "byol", online, step, transforms, after_step=after_step)


if __name__ == "__main__":
    main()
