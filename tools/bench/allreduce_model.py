#!/usr/bin/env python3
"""The data-parallel scaling model of the README's scaling section.

Per step each rank sends and receives 2 (N - 1) / N x S bytes in a ring
all-reduce of S gradient bytes (S = parameters x 4), over a link of B bytes/s,
plus a latency of 2 (N - 1) hops of alpha seconds per bucket (a ring; a tree,
as NCCL uses at scale, pays 2 log2 N hops).  geossl starts each bucket's sum
when backward has finished its parameters (harness/dist/data_parallel.c), so
all but the last bucket overlap the rest of backward; the model takes the
backward pass as 2/3 of the step.  Efficiency = compute / (compute + exposed).

Step times are not measured here (no GPU was lent): ResNet-50 at batch 256
per GPU on an A100 80GB, 938 img/s in TF32 and 2470 img/s in mixed precision
(NVIDIA DeepLearningExamples, PyTorch ResNet50 v1.5 README, "Training
performance: NVIDIA DGX A100"); ViT-S/16 scaled from it by forward GFLOPs
(4.6 against 4.1: DeiT, Touvron et al. 2021, Table 1, and the ResNet paper).
Usage: python3 tools/bench/allreduce_model.py
"""
import math

MODELS = {  # parameters, seconds per step of 256 images per GPU (TF32, mixed precision)
    "ResNet-50": (25.557e6, 256 / 938, 256 / 2470),
    "ViT-S/16": (22.05e6, 256 / 938 * 4.6 / 4.1, 256 / 2470 * 4.6 / 4.1),
}
LINKS = {  # bytes/s per rank, seconds per hop
    "100 Gb/s": (12.5e9, 5e-6),
    "NVLink": (450e9, 2e-6),
}
BUCKET_VALUES = 4 << 20  # harness/dist/data_parallel.c


def step(params, compute, n, bandwidth, alpha, per_gpu_batch=256, tree=False):
    compute = compute * per_gpu_batch / 256
    size = params * 4
    buckets = math.ceil(params / BUCKET_VALUES)
    hops = 2 * math.log2(n) if tree else 2 * (n - 1)
    volume = 2 * (n - 1) / n * size
    comm = volume / bandwidth + buckets * hops * alpha
    last = volume / buckets / bandwidth + hops * alpha  # the first layers' bucket, finished last
    overlap = 2 / 3 * compute
    exposed = max(last, comm - overlap)
    return volume, comm, compute / (compute + exposed), compute / (compute + comm)


def main():
    print("| model | GPUs | link | MB sent per rank and step | all-reduce ms | step ms (TF32) | efficiency, overlapped | "
          "not overlapped | step ms (mixed) | efficiency, overlapped |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, (params, tf32, amp) in MODELS.items():
        for n in (8, 64, 512):
            for link, (bw, alpha) in LINKS.items():
                v, c, e, e_no = step(params, tf32, n, bw, alpha)
                _, _, e_amp, _ = step(params, amp, n, bw, alpha)
                print(f"| {name} | {n} | {link} | {v / 1e6:.0f} | {c * 1e3:.1f} | {tf32 * 1e3:.0f} | {e * 100:.0f}% | "
                      f"{e_no * 100:.0f}% | {amp * 1e3:.0f} | {e_amp * 100:.0f}% |")
    print()
    print("SimCLR's global batch of 4096 spread over the GPUs (strong scaling), mixed precision, overlapped:")
    print("| model | GPUs | images per GPU | link | efficiency (ring) | efficiency (tree) |")
    print("|---|---|---|---|---|---|")
    for name, (params, _, amp) in MODELS.items():
        for n in (8, 64, 512):
            for link, (bw, alpha) in LINKS.items():
                _, _, ring, _ = step(params, amp, n, bw, alpha, per_gpu_batch=4096 / n)
                _, _, tree, _ = step(params, amp, n, bw, alpha, per_gpu_batch=4096 / n, tree=True)
                print(f"| {name} | {n} | {4096 // n} | {link} | {ring * 100:.0f}% | {tree * 100:.0f}% |")


if __name__ == "__main__":
    main()
