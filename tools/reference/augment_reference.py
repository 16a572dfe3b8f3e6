"""Reference fixtures for geossl's augmentations against torchvision.

Writes tests/fixtures/augment_torchvision.gsfx:

  image                     a 3 x 24 x 30 RGB image in [0, 1] with saturated,
                            gray and mixed pixels (smooth ramps plus noise)
  brightness_<f>, contrast_<f>, saturation_<f>, hue_<f>, grayscale
                            torchvision.transforms.functional on that float
                            tensor at the factor in the name (the colour ops
                            of ColorJitter and RandomGrayscale)
  blur_<sigma>              F.gaussian_blur with kernel 2 * ceil(3 sigma) + 1,
                            the radius geossl uses
  solarize                  F.solarize at 0.5 on the float image (BYOL's and
                            DINO's solarization: x >= 0.5 becomes 1 - x)
  pil_solarize              PIL.ImageOps.solarize at 128 on the 8-bit image
  resized_crop              F.resized_crop(top 5, left 3, 13 x 19) to 32 x 32,
                            bilinear, no antialiasing (upsampling)
  pil_<op>                  the same ops through PIL on the image rounded to
                            uint8, divided by 255: what a torchvision pipeline
                            on image files computes (8-bit at every step)
  crop_area_quantiles, crop_log_ratio_quantiles
                            5%, 10%, ..., 95% quantiles of the area fraction and
                            log(w / h) of 200,000 RandomResizedCrop.get_params
                            boxes on a 64 x 64 image (scale 0.08-1, ratio 3/4-4/3)
  crop_fallback_rate        how often all 10 tries failed (centre crop)

Run with Debian's interpreter:  /usr/bin/python3 tools/reference/augment_reference.py
"""
import math
import os
import sys

import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image, ImageOps

sys.path.insert(0, os.path.dirname(__file__))
import gsfx  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "augment_torchvision.gsfx")

# Factors shared with tests/datasets_augment_torchvision.c (names are the
# factors with the point dropped: brightness_1p3 is 1.3).
BRIGHTNESS = [0.6, 1.3]
CONTRAST = [0.65, 1.35]
SATURATION = [0.7, 1.4]
HUE = [-0.1, 0.04, 0.5]
SIGMAS = [0.6, 1.7]


def tag(x):
    return ("m" if x < 0 else "") + ("%g" % abs(x)).replace(".", "p")


def make_image(h=24, w=30):
    g = np.random.default_rng(7)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 0.5 + 0.5 * np.sin(x / 4.0)
    gch = (y / (h - 1)) ** 1.5
    b = 0.5 + 0.45 * np.cos((x + y) / 6.0)
    img = np.stack([r, gch, b]) + 0.05 * g.standard_normal((3, h, w))
    img[:, :4, :4] = 0.5            # gray block
    img[:, -3:, -3:] = [[[1.0]], [[0.0]], [[0.0]]]  # saturated red
    img[:, :3, -3:] = [[[0.2]], [[0.9]], [[0.9]]]   # cyan-ish
    return np.clip(img, 0, 1).astype(np.float32)


def pil_op(u8, fn):
    pil = Image.fromarray(np.transpose(u8, (1, 2, 0)))
    out = np.asarray(fn(pil), dtype=np.float32) / 255.0
    return np.transpose(out, (2, 0, 1)) if out.ndim == 3 else np.stack([out] * 3)


def main():
    img = make_image()
    t = torch.from_numpy(img)
    u8 = np.round(img * 255).astype(np.uint8)
    tensors = [("image", img), ("image_u8", u8.astype(np.float32) / 255.0)]
    ops = []
    for f in BRIGHTNESS:
        ops.append(("brightness_" + tag(f), lambda x, f=f: F.adjust_brightness(x, f)))
    for f in CONTRAST:
        ops.append(("contrast_" + tag(f), lambda x, f=f: F.adjust_contrast(x, f)))
    for f in SATURATION:
        ops.append(("saturation_" + tag(f), lambda x, f=f: F.adjust_saturation(x, f)))
    for f in HUE:
        ops.append(("hue_" + tag(f), lambda x, f=f: F.adjust_hue(x, f)))
    ops.append(("grayscale", lambda x: F.rgb_to_grayscale(x, num_output_channels=3)))
    for name, fn in ops:
        tensors.append((name, fn(t)))
        tensors.append(("pil_" + name, pil_op(u8, fn)))
    for s in SIGMAS:
        k = 2 * math.ceil(3 * s) + 1
        tensors.append(("blur_" + tag(s), F.gaussian_blur(t, [k, k], [s, s])))
        tensors.append(("pil_blur_" + tag(s), pil_op(u8, lambda x, k=k, s=s: F.gaussian_blur(x, [k, k], [s, s]))))
    tensors.append(("solarize", F.solarize(t, 0.5)))
    tensors.append(("pil_solarize", pil_op(u8, lambda x: ImageOps.solarize(x, 128))))
    crop = F.resized_crop(t, 5, 3, 13, 19, [32, 32], interpolation=T.InterpolationMode.BILINEAR, antialias=False)
    tensors.append(("resized_crop", crop))

    torch.manual_seed(0)
    rrc = T.RandomResizedCrop(64, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3))
    dummy = torch.zeros(1, 64, 64)
    n = 200000
    area = np.empty(n)
    logr = np.empty(n)
    fallback = 0
    for i in range(n):
        top, left, h, w = rrc.get_params(dummy, rrc.scale, rrc.ratio)
        area[i] = h * w / 4096.0
        logr[i] = math.log(w / h)
        fallback += h == 64 and w == 64
    q = np.arange(5, 100, 5) / 100.0
    tensors.append(("crop_area_quantiles", np.quantile(area, q)))
    tensors.append(("crop_log_ratio_quantiles", np.quantile(logr, q)))
    tensors.append(("crop_full_rate", [fallback / n]))
    gsfx.write(OUT, tensors)
    print("wrote", os.path.normpath(OUT), len(tensors), "tensors")


if __name__ == "__main__":
    main()
