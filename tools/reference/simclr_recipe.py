"""SimCLR end to end in plain PyTorch, the recipe `geossl pretrain --method
simclr --optimizer sgd` runs (Chen et al. 2020): two views per image,
ResNet-18 (ImageNet stem) + projection MLP (Linear-BN-ReLU-Linear, 512 ->
512 -> 128), both views through the network as one batch of 2N, NT-Xent at
--temperature, SGD with momentum 0.9, warm-up then cosine.  Prints the loss
every --log-every steps and the kNN top-1 at the end; with --out, writes
log.csv, result.json and backbone.safetensors (torchvision names, readable
by `geossl eval --weights`).

  /usr/bin/python3 tools/reference/simclr_recipe.py --data eurosat-rgb:../shared/data/eurosat-rgb \
      --epochs 30 --batch 256 --lr 0.3 --temperature 0.2

The knobs of the view pipeline are arguments (--help); see recipe_common.py
for what is shared with the other methods' scripts.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
import recipe_common as rc  # noqa: E402


class SimCLR(nn.Module):
    def __init__(self, hidden=512, out=128):
        super().__init__()
        self.backbone = rc.resnet18_backbone()
        self.projector = nn.Sequential(nn.Linear(512, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                                       nn.Linear(hidden, out))

    def forward(self, x):
        return self.projector(self.backbone(x))


def nt_xent(z, temperature):
    z = F.normalize(z, dim=1)
    n2 = z.shape[0]
    n = n2 // 2
    logits = z @ z.T / temperature
    logits = logits - 1e9 * torch.eye(n2)
    target = torch.cat([torch.arange(n, n2), torch.arange(0, n)])
    return F.cross_entropy(logits, target)


def main():
    p = rc.add_common_arguments(rc.parser(__doc__.split("\n")[0]), lr=0.3, temperature=0.2)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    model = SimCLR()

    def transforms(mean, std):
        t = rc.view_transform(args, mean, std)
        return [t, t]

    def step(views, step, total):
        return nt_xent(model(torch.cat(views)), args.temperature)

    rc.run(args, "simclr", model, step, transforms)


if __name__ == "__main__":
    main()
