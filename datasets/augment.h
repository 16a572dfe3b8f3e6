/* Augmentations for any band count on float (dates, bands, height, width)
 * buffers, deterministic given a gs_rng.
 *
 * One call (gs_augment_apply) turns a decoded sample into one view:
 *   1. geometry: a box (random resized crop, or the whole image) resized
 *      bilinearly to the output size, then flips, then quarter turns; masks
 *      follow with nearest sampling.  All done in one resampling pass.
 *   2. colour jitter and grayscale (3-band RGB only), on raw / rgb_max in
 *      [0, 1] as torchvision's ColorJitter and RandomGrayscale work;
 *   3. normalization (x - mean) / std with the dataset's band statistics;
 *   4. per-band brightness and contrast jitter, in normalized units;
 *   5. gaussian blur (separable, reflect padding);
 *   6. solarize in normalized units.
 * The same geometric and photometric draws apply to every date of a
 * multi-date sample.  The record tells methods where the view came from. */
#ifndef GS_DATASETS_AUGMENT_H
#define GS_DATASETS_AUGMENT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "core/rng.h"

typedef struct gs_augment_config {
    int out_height, out_width; /* 0: the source size */
    /* Random resized crop as torchvision's RandomResizedCrop: area fraction
     * uniform in crop_scale, aspect ratio log-uniform in crop_ratio, 10
     * tries, then a centre crop.  Off: the whole image is resized. */
    bool crop;
    float crop_scale[2];
    float crop_ratio[2];
    float hflip_p, vflip_p;
    /* Probability of k quarter turns, k uniform in 1..3 (only 2 when the
     * output is not square, so the shape stays). */
    float rot90_p;
    /* Per band: brightness adds U(-b, b) normalized units, contrast scales
     * around the band's image mean by U(1-c, 1+c). */
    float band_jitter_p, band_brightness, band_contrast;
    /* RGB only (3 bands): torchvision ColorJitter factors, applied in random
     * order, on raw / rgb_max clamped to [0, 1]. */
    float color_jitter_p, brightness, contrast, saturation, hue;
    float grayscale_p;
    float rgb_max; /* the raw value that is 1.0 for colour jitter: 255 for 8-bit */
    float blur_p;
    float blur_sigma[2]; /* sigma uniform in this range; kernel radius ceil(3 sigma) */
    /* Values >= t become 2t - x.  In normalized units, t = 0 reflects the
     * brighter-than-mean half of each band below its mean, the analogue of
     * 1 - x above 0.5 on [0, 1] images, for any bit depth.  With
     * solarize_raw (3-band RGB), t is a fraction of rgb_max on the raw
     * values, as torchvision's solarize on [0, 1] images and PIL's on 8-bit
     * ones (BYOL, DINO: t = 0.5, i.e. 128 of 255 -> 255 - x); it is turned
     * into each band's normalized units, where the reflection is the same. */
    float solarize_p, solarize_threshold;
    bool solarize_raw;
} gs_augment_config;

/* The crop box in source pixels. */
typedef struct gs_crop_box {
    int x, y, width, height;
} gs_crop_box;

typedef struct gs_augment_record {
    gs_crop_box box;
    bool hflip, vflip; /* applied after the resize */
    int rot90;         /* counter-clockwise quarter turns (numpy.rot90), after the flips */
    bool color_jitter, grayscale, band_jitter, solarized;
    float blur_sigma; /* 0: not blurred */
} gs_augment_record;

/* What a view is made from.  mean/std: per band, NULL for no normalization. */
typedef struct gs_augment_input {
    const float *pixels; /* dates * bands * height * width */
    const int32_t *mask; /* height * width, or NULL */
    int dates, bands, height, width;
    const float *mean, *std;
} gs_augment_input;

/* Scratch memory (resampling rows, the blur's intermediate plane), one per
 * thread; grows as needed.  Zero-initialize. */
typedef struct gs_augment_workspace {
    float *buf;
    int64_t capacity;
} gs_augment_workspace;
void gs_augment_workspace_free(gs_augment_workspace *ws);

/* Everything off, output = input. */
gs_augment_config gs_augment_identity(void);
/* Named recipes for `size` x `size` views, each its paper's:
 *   "none";
 *   "simclr" (Chen et al. 2020, appendix A): crop 0.08-1, hflip, colour
 *     jitter 0.4/0.4/0.4/0.1 at 0.8 and grayscale 0.2 for RGB (per-band
 *     jitter 0.4/0.4 at 0.8 otherwise), blur at 0.5 with sigma
 *     0.1-2.0 px x size / 224;
 *   "mocov2" (Chen et al. 2020, arXiv:2003.04297): simclr with crop 0.2-1;
 *   "byol-1", "byol-2" (Grill et al. 2020, table 6): the two asymmetric
 *     views, crop 0.08-1, hflip, jitter 0.4/0.4/0.2/0.1 at 0.8, grayscale
 *     0.2, blur at 1.0 / 0.1, solarize at 0 / 0.2;
 *   "dino-global-1", "dino-global-2", "dino-local" (Caron et al. 2021,
 *     DataAugmentationDINO): BYOL's photometric pair on crops of 0.4-1, and
 *     local crops of 0.05-0.4 blurred at 0.5.
 * Solarize on RGB is PIL's (threshold half of rgb_max on the raw values);
 * on other band counts it reflects each band about its mean.  Non-RGB data
 * get per-band jitter 0.4/0.4 at 0.8 in place of colour jitter and
 * grayscale.  GS_ERR_ARGUMENT for other names.
 *
 * The blur's sigma scales with the view: SimCLR (Chen et al. 2020, appendix
 * A) draws sigma in [0.1, 2.0] px for 224 px views with a kernel of 10% of
 * the side, so the same relative blur on a 64 px EuroSAT view is sigma in
 * [0.029, 0.57] px.  A fixed 0.1-2 px would blur a 64 px view 3.5 times
 * harder than the paper does. */
gs_status gs_augment_preset(const char *name, int bands, int size, gs_augment_config *out, gs_error *err);
/* The i-th preset's name, NULL past the last (for listings). */
const char *gs_augment_preset_name(int i);
/* Overrides from "KEY=VALUE[,KEY=VALUE...]" (NULL or "": none): crop=0|1,
 * crop_scale=LO:HI, crop_ratio=LO:HI, the probabilities (hflip_p, vflip_p,
 * rot90_p, color_jitter_p, grayscale_p, band_jitter_p, blur_p, solarize_p),
 * the strengths (brightness, contrast, saturation, hue, band_brightness,
 * band_contrast, solarize_threshold) and blur_sigma=LO:HI in px.  An
 * unknown key or a value out of range is GS_ERR_ARGUMENT naming it. */
gs_status gs_augment_set(gs_augment_config *cfg, const char *settings, gs_error *err);
/* The recipe as "key = value  # unit" lines, each prefixed; the keys and
 * value syntax are those gs_augment_set reads. */
void gs_augment_print(FILE *out, const char *prefix, const gs_augment_config *cfg);
/* Checks a config against the source (ranges, RGB-only ops on 3 bands). */
gs_status gs_augment_check(const gs_augment_config *cfg, int bands, int height, int width, gs_error *err);

/* One view into dst (dates * bands * out_h * out_w) and dst_mask
 * (out_h * out_w, when in->mask is set).  GS_ERR_MEMORY only. */
gs_status gs_augment_apply(const gs_augment_config *cfg, const gs_augment_input *in, gs_rng *rng,
                           gs_augment_workspace *ws, float *dst, int32_t *dst_mask, gs_augment_record *rec,
                           gs_error *err);

/* Where output pixel (ox, oy) (its centre) came from, in source pixel
 * coordinates: undoes the turns and flips and maps into the box. */
void gs_augment_to_source(const gs_augment_record *rec, int out_h, int out_w, float ox, float oy, float *sx,
                          float *sy);

/* ---- the primitive operations (exposed for tests and for methods) ---- */

gs_crop_box gs_augment_random_crop_box(gs_rng *rng, int height, int width, const float scale[2],
                                       const float ratio[2]);
/* planes images of height x width: box resized to the pre-turn grid
 * (out_h x out_w, swapped for odd turns), flipped, turned.  Bilinear with
 * half-pixel centres and edge clamping (PyTorch's align_corners=False,
 * no antialiasing).  GS_ERR_MEMORY only. */
gs_status gs_augment_resample(const float *src, int planes, int height, int width, gs_crop_box box, bool hflip,
                              bool vflip, int rot90, float *dst, int out_h, int out_w, gs_augment_workspace *ws,
                              gs_error *err);
/* Same geometry with nearest sampling (pixel centres), for masks. */
void gs_augment_resample_mask(const int32_t *src, int height, int width, gs_crop_box box, bool hflip, bool vflip,
                              int rot90, int32_t *dst, int out_h, int out_w);
void gs_augment_band_jitter(float *plane, int64_t n, float shift, float contrast);
/* On one RGB image (3 planes of n values in [0, 1]). */
void gs_augment_rgb_brightness(float *rgb, int64_t n, float factor);
void gs_augment_rgb_contrast(float *rgb, int64_t n, float factor);
void gs_augment_rgb_saturation(float *rgb, int64_t n, float factor);
void gs_augment_rgb_hue(float *rgb, int64_t n, float shift); /* shift in turns, [-0.5, 0.5] */
void gs_augment_rgb_grayscale(float *rgb, int64_t n);
/* The radius is ceil(3 sigma), at most 96; scratch holds
 * gs_augment_blur_scratch(height, width) floats. */
int64_t gs_augment_blur_scratch(int height, int width);
void gs_augment_blur(float *img, int planes, int height, int width, float sigma, float *scratch);
void gs_augment_solarize(float *x, int64_t n, float threshold);

#endif
