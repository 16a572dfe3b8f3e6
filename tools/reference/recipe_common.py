"""What every end-to-end recipe script shares: the data, the split, the view
pipeline, the schedule, the training loop, the kNN evaluation and the
safetensors export.  A plain PyTorch 1.13 + torchvision 0.14 pipeline, the
way a researcher would write it, with geossl's conventions where a choice
must be made so the two sides run the same recipe:

- data: a FORMAT:PATH EuroSAT RGB folder (eurosat-rgb:DIR, class folders of
  JPEGs); classes in name order, images in natural name order per class,
  every 5th image per class is test (gs_split_every_nth), pretraining sees
  the rest only;
- normalization: per-channel mean and std of the training images;
- schedule: linear warm-up over the first 10% of steps (lr * (step + 1) /
  warm-up), then a cosine to 0 (gs_cosine_lr); batches drop the last
  partial one; a new shuffle every epoch;
- evaluation: the backbone's pooled features of the unaugmented images, kNN
  with k 20 and temperature 0.07 over L2-normalized features, votes
  exp(similarity / T) (Wu et al. 2018, as DINO's eval_knn), top-1 in %.

Each method script builds its model and loss and calls run().  Options
common to all are added by add_common_arguments().
"""
import argparse
import json
import math
import os
import re
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as T
from PIL import Image


def natural_key(name):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def open_eurosat(spec):
    fmt, _, root = spec.partition(":")
    if fmt != "eurosat-rgb" or not root:
        sys.exit("recipe: --data must be eurosat-rgb:DIR, not %r" % spec)
    if not os.path.isdir(root):
        sys.exit("recipe: %s is not a folder" % root)
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))
    train, test = [], []
    for label, c in enumerate(classes):
        files = sorted((f for f in os.listdir(os.path.join(root, c)) if f.lower().endswith((".jpg", ".jpeg"))),
                       key=lambda f: natural_key(os.path.splitext(f)[0]))
        for pos, f in enumerate(files, start=1):
            (test if pos % 5 == 0 else train).append((os.path.join(root, c, f), label))
    if not train or not test:
        sys.exit("recipe: %s has %d training and %d test images" % (root, len(train), len(test)))
    return classes, train, test


def load_images(items):
    return [Image.open(p).convert("RGB") for p, _ in items]


def channel_stats(images):
    a = np.stack([np.asarray(im, dtype=np.float64) / 255.0 for im in images])
    return a.mean(axis=(0, 1, 2)).tolist(), a.std(axis=(0, 1, 2)).tolist()


class GaussianBlurPerSigma:
    """Blur with sigma ~ U(lo, hi) px and a kernel 2 * ceil(3 sigma) + 1 wide
    (geossl's), or a fixed odd kernel when kernel > 0 (torchvision's
    GaussianBlur, as most SimCLR ports use it)."""

    def __init__(self, sigma, kernel=0):
        self.sigma, self.kernel = sigma, kernel

    def __call__(self, img):
        s = float(torch.empty(1).uniform_(self.sigma[0], self.sigma[1]))
        k = self.kernel if self.kernel > 0 else 2 * math.ceil(3 * s) + 1
        return T.functional.gaussian_blur(img, [k, k], [s, s])


def view_transform(args, mean, std, scale=None, size=None, blur_p=None, solarize_p=0.0):
    """torchvision's pipeline in the papers' order: crop, flip, colour
    jitter, grayscale, blur, solarize (PIL's at 128, as BYOL and DINO),
    normalize.  blur_p None: args.blur_p."""
    size = size or args.size
    blur_p = args.blur_p if blur_p is None else blur_p
    ops = [T.RandomResizedCrop(size, scale=scale or (args.crop_min, 1.0)), T.RandomHorizontalFlip()]
    if args.jitter_p > 0:
        ops.append(T.RandomApply([T.ColorJitter(args.brightness, args.contrast, args.saturation, args.hue)],
                                 p=args.jitter_p))
    if args.gray_p > 0:
        ops.append(T.RandomGrayscale(p=args.gray_p))
    if blur_p > 0:
        # 0: the paper's 0.1-2.0 px at 224 px scaled to the view, geossl's default.
        hi = args.blur_sigma_max if args.blur_sigma_max > 0 else 2.0 * size / 224.0
        lo = args.blur_sigma_min if args.blur_sigma_min > 0 else 0.1 * size / 224.0
        lo = min(lo, hi)
        ops.append(T.RandomApply([GaussianBlurPerSigma((lo, hi), args.blur_kernel)], p=blur_p))
    if solarize_p > 0:
        ops.append(T.RandomSolarize(128, p=solarize_p))
    ops += [T.ToTensor(), T.Normalize(mean, std)]
    return T.Compose(ops)


class Views(torch.utils.data.Dataset):
    def __init__(self, images, transforms):
        self.images, self.transforms = images, transforms

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return [t(self.images[i]) for t in self.transforms]


def add_common_arguments(p, lr, temperature=None):
    p.add_argument("--data", required=True, help="eurosat-rgb:DIR")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=lr, help="peak learning rate [%(default)s]")
    p.add_argument("--weight-decay", type=float, default=1e-6)
    if temperature is not None:
        p.add_argument("--temperature", type=float, default=temperature)
    p.add_argument("--size", type=int, default=64, help="view size in px")
    p.add_argument("--crop-min", type=float, default=0.08)
    p.add_argument("--jitter-p", type=float, default=0.8)
    p.add_argument("--brightness", type=float, default=0.4)
    p.add_argument("--contrast", type=float, default=0.4)
    p.add_argument("--saturation", type=float, default=0.4)
    p.add_argument("--hue", type=float, default=0.1)
    p.add_argument("--gray-p", type=float, default=0.2)
    p.add_argument("--blur-p", type=float, default=0.5)
    p.add_argument("--blur-sigma-min", type=float, default=0,
                   help="0: 0.1 px x size / 224 (the paper's 0.1 at 224 px) [0]")
    p.add_argument("--blur-sigma-max", type=float, default=0,
                   help="0: 2 px x size / 224 (the paper's 2.0 at 224 px) [0]")
    p.add_argument("--blur-kernel", type=int, default=0, help="0: 2 ceil(3 sigma) + 1, else a fixed odd size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--k", type=int, default=20)
    p.add_argument("--knn-temperature", type=float, default=0.07)
    p.add_argument("--out", help="folder for log.csv, result.json and backbone.safetensors")
    p.add_argument("--init-from", help="start from the weights of this geossl checkpoint (pretrain with "
                   "--keep-every writes them; needs python3-h5py)")
    p.add_argument("--views-from", help="train on the views geossl pretrain --dump-views wrote to this folder "
                   "(its data order and augmentations) instead of torchvision's")
    return p


def resnet18_backbone():
    net = torchvision.models.resnet18()
    net.fc = nn.Identity()
    return net


def load_geossl_checkpoint(model, path):
    """Starts `model` from a geossl checkpoint (HDF5; python3-h5py): its
    "model" group into model.backbone (torchvision names) and its "heads"
    group into the model's other submodules by name (projector.0.weight is
    model.projector[0].weight).  Every tensor of the model must be there
    (BN step counters excepted), so the two sides start from the same
    weights."""
    import h5py
    state = {}
    with h5py.File(path, "r") as f:
        for name, value in f["model"].items():
            state["backbone." + name] = torch.from_numpy(value[()])
        for name, value in f["heads"].items():
            state[name] = torch.from_numpy(value[()])
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit("recipe: %s does not fit the model: missing %s, unexpected %s" % (path, missing[:5], unexpected[:5]))


def cosine_lr(base, step, total, warmup):
    if step < warmup:
        return base * (step + 1) / warmup
    if step >= total or total - warmup <= 0:
        return 0.0
    return base * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def param_groups(modules, weight_decay):
    """Weight decay on weights of convolutions and linear layers only, as
    geossl's GS_PARAM_WEIGHT (biases and norm parameters are exempt)."""
    decay, no_decay = [], []
    for m in modules:
        for name, p in m.named_parameters():
            if not p.requires_grad:
                continue
            (decay if p.ndim > 1 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


@torch.no_grad()
def knn_top1(backbone, train, test, mean, std, k, temperature, batch=256):
    backbone.eval()
    tf = T.Compose([T.ToTensor(), T.Normalize(mean, std)])

    def feats(items):
        out = []
        for i in range(0, len(items), batch):
            x = torch.stack([tf(Image.open(p).convert("RGB")) for p, _ in items[i:i + batch]])
            out.append(nn.functional.normalize(backbone(x), dim=1))
        return torch.cat(out)

    ftr, fte = feats(train), feats(test)
    ytr = torch.tensor([y for _, y in train])
    yte = torch.tensor([y for _, y in test])
    sim = fte @ ftr.T
    top, idx = sim.topk(k, dim=1)
    votes = torch.zeros(len(test), int(ytr.max()) + 1, dtype=torch.float64)
    votes.scatter_add_(1, ytr[idx], torch.exp((top.double() - top.double().max(1, keepdim=True).values) / temperature))
    backbone.train()
    return 100.0 * float((votes.argmax(1) == yte).sum()) / len(test)


def save_safetensors(path, state):
    """A safetensors file of float32 tensors, written by hand (the python
    safetensors package is not needed); torchvision's names."""
    header, blobs, offset = {}, [], 0
    for name, t in state.items():
        if t.dtype != torch.float32:
            continue
        b = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def run(args, name, model, step_fn, transforms, after_step=None, optimizer="sgd", momentum=0.9,
        before_update=None):
    """Trains `model` (an nn.Module whose .backbone is the encoder) with
    step_fn(views, step, total) -> loss, logging every args.log_every steps;
    before_update(opt, step, total) runs between backward and the update
    (clipping, weight-decay schedules)."""
    if args.init_from and not getattr(args, "init_loaded", False):
        sys.exit("recipe: %s cannot start from a geossl checkpoint yet (--init-from)" % name)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    classes, train, test = open_eurosat(args.data)
    images = load_images(train)
    mean, std = channel_stats(images)
    tfs = transforms(mean, std)
    data = Views(images, tfs)
    g = torch.Generator()
    g.manual_seed(args.seed)
    loader = torch.utils.data.DataLoader(data, batch_size=args.batch, shuffle=True, drop_last=True,
                                         num_workers=args.workers, persistent_workers=args.workers > 0, generator=g)
    per_epoch = len(loader)
    if args.views_from:
        # geossl's own views (pretrain --dump-views), step by step in its
        # order: the two sides then differ only in the model and its training.
        dumped = dumped_steps(args.views_from)
        if len(dumped) % args.epochs:
            sys.exit("recipe: %s holds %d steps, not a whole number of %d epochs" %
                     (args.views_from, len(dumped), args.epochs))
        per_epoch = len(dumped) // args.epochs
        loader = None
    if per_epoch < 1:
        sys.exit("recipe: %d training images are fewer than one batch of %d" % (len(images), args.batch))
    total = per_epoch * args.epochs
    warmup = total // 10
    groups = param_groups([model], args.weight_decay)
    if optimizer == "adamw":
        opt = torch.optim.AdamW(groups, lr=args.lr)
    else:
        opt = torch.optim.SGD(groups, lr=args.lr, momentum=momentum)
    log = []
    out = args.out
    if out:
        os.makedirs(out, exist_ok=True)
    print("%s: %d training images (%d test), %d steps of %d, mean %s std %s" %
          (name, len(images), len(test), total, args.batch, np.round(mean, 4).tolist(), np.round(std, 4).tolist()),
          flush=True)
    t0 = time.time()
    step = 0
    model.train()
    for epoch in range(args.epochs):
        batches = loader if loader is not None else (
            load_dumped(dumped[i]) for i in range(epoch * per_epoch, (epoch + 1) * per_epoch))
        for views in batches:
            lr = cosine_lr(args.lr, step, total, warmup)
            for group in opt.param_groups:
                group["lr"] = lr
            loss = step_fn(views, step, total)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if before_update:
                before_update(opt, step, total)
            opt.step()
            if after_step:
                after_step(step, total)
            step += 1
            log.append((step, epoch + 1, float(loss), lr))
            if step % args.log_every == 0 or step == total:
                print("%s epoch %d/%d step %d: loss %.4f lr %.4f %.0f s" %
                      (name, epoch + 1, args.epochs, step, float(loss), lr, time.time() - t0), flush=True)
    wall = time.time() - t0
    top1 = knn_top1(model.backbone, train, test, mean, std, args.k, args.knn_temperature)
    print("%s: kNN top-1 %.2f %% (k %d, T %g) after %d steps, %.0f s" % (name, top1, args.k, args.knn_temperature,
                                                                         step, wall), flush=True)
    if out:
        with open(os.path.join(out, "log.csv"), "w") as f:
            f.write("step,epoch,loss,lr\n")
            for row in log:
                f.write("%d,%d,%.6f,%.6g\n" % row)
        with open(os.path.join(out, "result.json"), "w") as f:
            json.dump({"method": name, "knn_top1": top1, "steps": step, "wall_s": wall, "seed": args.seed,
                       "args": vars(args)}, f, indent=1)
        save_safetensors(os.path.join(out, "backbone.safetensors"), model.backbone.state_dict())
    return top1


def dumped_steps(folder):
    """The steps geossl pretrain --dump-views wrote, in order: for each, its
    view files (step-NNNNNN-view-V.npy)."""
    steps = {}
    for name in os.listdir(folder):
        m = re.fullmatch(r"step-(\d+)-view-(\d+)\.npy", name)
        if m:
            steps.setdefault(int(m.group(1)), {})[int(m.group(2))] = os.path.join(folder, name)
    if not steps:
        sys.exit("recipe: %s holds no step-NNNNNN-view-V.npy files" % folder)
    order = sorted(steps)
    if order != list(range(1, len(order) + 1)):
        sys.exit("recipe: %s: the dumped steps are not 1..%d" % (folder, len(order)))
    return [[steps[s][v] for v in sorted(steps[s])] for s in order]


def load_dumped(paths):
    return [torch.from_numpy(np.load(p)) for p in paths]


def parser(description):
    return argparse.ArgumentParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
