"""Reference fixtures for the C ResNet-18 (see SIZES for the input sizes): torchvision's own ResNet and
BasicBlock classes, narrowed to a base width of 16 (the full topology: every
block, the 7x7 stride-2 stem with max-pool, or the small 3x3 stem), for 4
input bands.

Writes tests/fixtures/resnet18_<stem>.gsfx with the input, labels, initial
weights and buffers, the train-mode logits, the cross-entropy loss, every
parameter gradient, the eval-mode logits after that forward (running
statistics updated once), and the losses of 5 optimizer steps with SGD and
with AdamW (weight decay on conv/linear weights only).

Run with Debian's interpreter:  /usr/bin/python3 tools/reference/resnet_reference.py
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock, ResNet

sys.path.insert(0, os.path.dirname(__file__))
import gsfx  # noqa: E402

WIDTH, BANDS, CLASSES, BATCH = 16, 4, 10, 8
# Odd intermediate sizes exercise padding: 56 -> 28 -> 14 -> 14, 7, 4, 2 and
# 20 -> 20, 10, 5, 3.
SIZES = {"imagenet": 56, "small": 20}
SGD = dict(lr=0.02, momentum=0.9, weight_decay=5e-4)
ADAMW = dict(lr=5e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05)
OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures")


def narrow_resnet18(width, bands, classes, stem):
    """torchvision's resnet18 with stage widths width*(1,2,4,8)."""
    model = ResNet(BasicBlock, [2, 2, 2, 2], num_classes=classes)
    model.inplanes = width
    if stem == "imagenet":
        model.conv1 = nn.Conv2d(bands, width, 7, 2, 3, bias=False)
    else:
        model.conv1 = nn.Conv2d(bands, width, 3, 1, 1, bias=False)
        model.maxpool = nn.Identity()
    model.bn1 = nn.BatchNorm2d(width)
    model.layer1 = model._make_layer(BasicBlock, width, 2)
    model.layer2 = model._make_layer(BasicBlock, width * 2, 2, stride=2)
    model.layer3 = model._make_layer(BasicBlock, width * 4, 2, stride=2)
    model.layer4 = model._make_layer(BasicBlock, width * 8, 2, stride=2)
    model.fc = nn.Linear(width * 8, classes)
    return model


def param_groups(model):
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    return decay, no_decay


def run_steps(model, state, x, labels, make_optimizer):
    model.load_state_dict(state)
    decay, no_decay = param_groups(model)
    opt = make_optimizer(decay, no_decay)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), labels)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return losses


def main(stem):
    torch.manual_seed(1234 if stem == "imagenet" else 4321)
    model = narrow_resnet18(WIDTH, BANDS, CLASSES, stem)
    # Non-trivial affine batchnorm parameters, so their gradients are tested.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)
    model.train()
    x = torch.randn(BATCH, BANDS, SIZES[stem], SIZES[stem])
    labels = torch.randint(0, CLASSES, (BATCH,))
    state = {k: v.clone() for k, v in model.state_dict().items()}

    tensors = [("input", x), ("labels", labels.float())]
    for name, value in state.items():
        if not name.endswith("num_batches_tracked"):
            tensors.append(("param/" + name, value))

    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    tensors += [("output", logits), ("loss", loss.reshape(1))]
    for name, p in model.named_parameters():
        tensors.append(("grad/" + name, p.grad))
    model.eval()
    with torch.no_grad():
        tensors.append(("eval_output", model(x)))
    model.train()

    sgd = run_steps(model, state, x, labels, lambda d, n: torch.optim.SGD(
        [dict(params=d), dict(params=n, weight_decay=0.0)], **SGD))
    adamw = run_steps(model, state, x, labels, lambda d, n: torch.optim.AdamW(
        [dict(params=d), dict(params=n, weight_decay=0.0)], **ADAMW))
    tensors += [("sgd_losses", sgd), ("adamw_losses", adamw)]
    path = os.path.join(OUT_DIR, "resnet18_%s.gsfx" % stem)
    gsfx.write(path, tensors)
    print("%s: %d parameters, loss %.6f, sgd %s, adamw %s" % (
        path, sum(p.numel() for p in model.parameters()), loss.item(),
        ["%.5f" % v for v in sgd], ["%.5f" % v for v in adamw]))


if __name__ == "__main__":
    torch.set_num_threads(1)
    for stem_name in ("imagenet", "small"):
        main(stem_name)
