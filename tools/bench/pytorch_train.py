"""The PyTorch side of tools/bench/vs_pytorch.sh, fixed as issue 3 defines it
(not tuned): torchvision resnet18/resnet50(num_classes=128) with conv1
replaced for N bands; ViT-Tiny/Small = patch P, cls token, learned position
embedding, pre-norm nn.TransformerEncoderLayer (GELU, no dropout), final
LayerNorm, linear head to 128; loss out.pow(2).mean(); SGD momentum 0.9;
torch.set_num_threads(T); median over steps 4 to 10.

Prints "parameters N", "peak memory X MiB" and "<median> img/s".
Run with Debian's interpreter: /usr/bin/python3 tools/bench/pytorch_train.py --help
"""
import argparse
import resource
import statistics
import time

import torch
import torch.nn as nn
import torchvision


class ViT(nn.Module):
    def __init__(self, size, patch, bands, dim, depth, heads):
        super().__init__()
        self.patch = nn.Conv2d(bands, dim, patch, patch)
        tokens = (size // patch) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 128)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


def build(args):
    if args.backbone.startswith("resnet"):
        model = getattr(torchvision.models, args.backbone)(num_classes=128)
        if args.bands != 3:
            model.conv1 = nn.Conv2d(args.bands, 64, 7, 2, 3, bias=False)
        return model
    dim, heads = (192, 3) if args.backbone == "vit-tiny" else (384, 6)
    return ViT(args.size, args.patch, args.bands, dim, 12, heads)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backbone", default="resnet18", choices=["resnet18", "resnet50", "vit-tiny", "vit-small"])
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--bands", type=int, default=3)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--patch", type=int, default=8)
    p.add_argument("--steps", type=int, default=10, help="steps run; the median is over steps 4..steps")
    p.add_argument("--inference", action="store_true", help="forward only, eval mode, no gradients")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build(args)
    print("parameters %d" % sum(t.numel() for t in model.parameters()))
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    rates = []
    if args.inference:
        model.eval()
    for step in range(1, args.steps + 1):
        x = torch.randn(args.batch, args.bands, args.size, args.size)
        t0 = time.perf_counter()
        if args.inference:
            with torch.no_grad():
                model(x)
        else:
            opt.zero_grad()
            model(x).pow(2).mean().backward()
            opt.step()
        rate = args.batch / (time.perf_counter() - t0)
        if step >= 4:
            rates.append(rate)
    print("peak memory %.1f MiB" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    print("%.1f img/s" % statistics.median(rates))


if __name__ == "__main__":
    main()
