"""DINO end to end in plain PyTorch, the recipe `geossl pretrain --method dino`
runs (Caron et al. 2021, with the official code's defaults as methods/dino.c
states them): a student (ResNet-18, ImageNet stem, and DINO's head: 3-layer
GELU MLP 512 -> 2048 -> 2048 -> 256, L2 normalization, weight-normalized
last layer to 65,536 outputs with its scale fixed at 1) and a teacher that is
its momentum average (cosine from 0.996 to 1, parameters only).  Views: 2
global crops (0.4-1, BYOL's asymmetric blur / solarize pair) and 6 local
crops of 96/224 of the view (0.05-0.4, blur at 0.5); the student sees all,
one forward per resolution, the teacher the global ones.  Loss: cross-entropy
of each student crop (temperature 0.1) against the centered, sharpened
teacher output of every other global crop (temperature 0.04 -> 0.07 over 30
epochs or 30% of a shorter run, per step), averaged over the pairs; center:
EMA 0.9 of the teacher's batch mean.  AdamW, warm-up then cosine, weight
decay cosine from --weight-decay to 10x, each parameter's gradient clipped to
norm 3, the last layer's gradient dropped during the first epoch.  Output as
simclr_recipe.py.

  /usr/bin/python3 tools/reference/dino_recipe.py --data eurosat-rgb:../shared/data/eurosat-rgb \
      --epochs 30 --batch 256 --lr 5e-4
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


class Head(nn.Module):
    def __init__(self, inp=512, hidden=2048, bottleneck=256, out=65536):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(inp, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                 nn.Linear(hidden, bottleneck))
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        self.last_layer = nn.Linear(bottleneck, out, bias=False)  # V; the weight norm's g is fixed at 1

    def forward(self, x):
        x = F.normalize(self.mlp(x), dim=-1, eps=1e-12)
        return x @ F.normalize(self.last_layer.weight, dim=1, eps=1e-12).t()


class Student(nn.Module):
    def __init__(self, out):
        super().__init__()
        self.backbone = rc.resnet18_backbone()
        self.head = Head(out=out)

    def forward(self, x):
        return self.head(self.backbone(x))


def main():
    p = rc.add_common_arguments(rc.parser(__doc__.split("\n")[0]), lr=5e-4, temperature=0.1)
    p.add_argument("--momentum-target", type=float, default=0.996)
    p.add_argument("--local-crops", type=int, default=6)
    p.add_argument("--out-dim", type=int, default=65536)
    p.set_defaults(weight_decay=0.04, saturation=0.2)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    student = Student(args.out_dim)
    teacher = copy.deepcopy(student)
    for q in teacher.parameters():
        q.requires_grad = False
    local_size = max(8, round(args.size * 96 / 224))
    state = {"center": torch.zeros(1, args.out_dim)}

    def transforms(mean, std):
        glob = (0.4, 1.0)
        return ([rc.view_transform(args, mean, std, scale=glob, blur_p=1.0),
                 rc.view_transform(args, mean, std, scale=glob, blur_p=0.1, solarize_p=0.2)] +
                [rc.view_transform(args, mean, std, scale=(0.05, 0.4), size=local_size, blur_p=0.5)] *
                args.local_crops)

    def teacher_temperature(step, total):
        per_epoch = total // args.epochs
        warmup = min(30 * per_epoch, total * 3 // 10)
        return 0.07 if warmup <= 0 or step >= warmup else 0.04 + 0.03 * step / warmup

    def step(views, step, total):
        n = len(views[0])
        student_out = [student(torch.cat(views[:2]))]
        if len(views) > 2:
            student_out.append(student(torch.cat(views[2:])))
        student_out = torch.cat(student_out).chunk(len(views))
        with torch.no_grad():
            t = teacher(torch.cat(views[:2]))
            q = F.softmax((t - state["center"]) / teacher_temperature(step, total), dim=-1).chunk(2)
            state["batch_center"] = t.mean(dim=0, keepdim=True)
        total_loss, terms = 0.0, 0
        for iq in range(2):
            for v in range(len(views)):
                if v == iq:
                    continue
                logp = F.log_softmax(student_out[v] / args.temperature, dim=-1)
                total_loss = total_loss + torch.sum(-q[iq] * logp, dim=-1).mean()
                terms += 1
        assert n == len(q[0])
        return total_loss / terms

    def before_update(opt, step, total):
        # The official order: clip each parameter, drop the last layer's
        # gradient in the first epoch, then the weight-decay schedule.
        for q in student.parameters():
            if q.grad is not None:
                coef = 3.0 / (q.grad.norm(2) + 1e-6)
                if coef < 1:
                    q.grad.mul_(coef)
        if step < total // args.epochs:
            student.head.last_layer.weight.grad = None
        final = 10 * args.weight_decay
        opt.param_groups[0]["weight_decay"] = final + (args.weight_decay - final) * 0.5 * (
            1 + math.cos(math.pi * step / total))

    @torch.no_grad()
    def after_step(step, total):
        tau = 1 - (1 - args.momentum_target) * (math.cos(math.pi * step / total) + 1) / 2
        for pt, ps in zip(teacher.parameters(), student.parameters()):
            pt.mul_(tau).add_(ps.detach(), alpha=1 - tau)
        state["center"] = state["center"] * 0.9 + state["batch_center"] * 0.1

    rc.run(args, "dino", student, step, transforms, after_step=after_step, optimizer="adamw",
           before_update=before_update)


if __name__ == "__main__":
    main()
