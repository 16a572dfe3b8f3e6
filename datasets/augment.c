#include "augment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLUR_RADIUS 96
#define MAX_BLUR_SIGMA 32.0f

static float uniform(gs_rng *rng, float lo, float hi) { return lo + (hi - lo) * gs_rng_uniform(rng); }
static bool chance(gs_rng *rng, float p) { return p > 0 && gs_rng_uniform(rng) < p; }
static float clamp01(float x) { return x < 0 ? 0 : (x > 1 ? 1 : x); }

gs_augment_config gs_augment_identity(void) {
    gs_augment_config c;
    memset(&c, 0, sizeof c);
    c.crop_scale[0] = 0.08f;
    c.crop_scale[1] = 1.0f;
    c.crop_ratio[0] = 3.0f / 4.0f;
    c.crop_ratio[1] = 4.0f / 3.0f;
    c.rgb_max = 255.0f;
    c.blur_sigma[0] = 0.1f;
    c.blur_sigma[1] = 2.0f;
    return c;
}

/* One row per named recipe (augment.h cites the papers). */
typedef struct augment_preset {
    const char *name;
    float crop_min, crop_max; /* 0, 0: no crop */
    float saturation;         /* RGB colour jitter's saturation (SimCLR 0.4, BYOL and DINO 0.2) */
    float blur_p, solarize_p;
} augment_preset;

static const augment_preset PRESETS[] = {
    {"none", 0, 0, 0, 0, 0},
    {"simclr", 0.08f, 1, 0.4f, 0.5f, 0},
    {"mocov2", 0.2f, 1, 0.4f, 0.5f, 0},
    {"byol-1", 0.08f, 1, 0.2f, 1.0f, 0},
    {"byol-2", 0.08f, 1, 0.2f, 0.1f, 0.2f},
    {"dino-global-1", 0.4f, 1, 0.2f, 1.0f, 0},
    {"dino-global-2", 0.4f, 1, 0.2f, 0.1f, 0.2f},
    {"dino-local", 0.05f, 0.4f, 0.2f, 0.5f, 0},
};
enum { N_PRESETS = sizeof PRESETS / sizeof *PRESETS };

const char *gs_augment_preset_name(int i) { return i >= 0 && i < N_PRESETS ? PRESETS[i].name : NULL; }

gs_status gs_augment_preset(const char *name, int bands, int size, gs_augment_config *out, gs_error *err) {
    const augment_preset *p = NULL;
    for (int i = 0; i < N_PRESETS; i++)
        if (!strcmp(name, PRESETS[i].name)) p = &PRESETS[i];
    if (!p) {
        char names[256];
        size_t used = 0;
        names[0] = '\0';
        for (int i = 0; i < N_PRESETS && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", PRESETS[i].name);
        return gs_error_set(err, GS_ERR_ARGUMENT, "unknown augmentation '%s' (%s)", name, names);
    }
    gs_augment_config c = gs_augment_identity();
    c.out_height = c.out_width = size;
    if (p->crop_max > 0) {
        c.crop = true;
        c.crop_scale[0] = p->crop_min;
        c.crop_scale[1] = p->crop_max;
        c.hflip_p = 0.5f;
        if (bands == 3) {
            c.color_jitter_p = 0.8f;
            c.brightness = c.contrast = 0.4f;
            c.saturation = p->saturation;
            c.hue = 0.1f;
            c.grayscale_p = 0.2f;
        } else {
            c.band_jitter_p = 0.8f;
            c.band_brightness = c.band_contrast = 0.4f;
        }
        c.blur_p = p->blur_p;
        /* The papers' 0.1-2.0 px at 224 px, as a fraction of the view (augment.h). */
        float relative = size > 0 ? (float)size / 224.0f : 1.0f;
        c.blur_sigma[0] = 0.1f * relative;
        c.blur_sigma[1] = 2.0f * relative;
        c.solarize_p = p->solarize_p;
        if (bands == 3) {
            c.solarize_raw = true;
            c.solarize_threshold = 0.5f;
        }
    }
    *out = c;
    return GS_OK;
}

gs_status gs_augment_check(const gs_augment_config *c, int bands, int height, int width, gs_error *err) {
    if (bands < 1 || height < 1 || width < 1)
        return gs_error_set(err, GS_ERR_ARGUMENT, "augmentation: source of %d bands, %dx%d", bands, height, width);
    if (c->out_height < 0 || c->out_width < 0 || (c->out_height == 0) != (c->out_width == 0))
        return gs_error_set(err, GS_ERR_ARGUMENT, "augmentation: output size %dx%d (give both, or 0 for the source's)",
                            c->out_height, c->out_width);
    if (c->crop && !(c->crop_scale[0] > 0 && c->crop_scale[0] <= c->crop_scale[1] && c->crop_scale[1] <= 1))
        return gs_error_set(err, GS_ERR_ARGUMENT, "augmentation: crop scale [%g, %g] must be within (0, 1]",
                            c->crop_scale[0], c->crop_scale[1]);
    if (c->crop && !(c->crop_ratio[0] > 0 && c->crop_ratio[0] <= c->crop_ratio[1]))
        return gs_error_set(err, GS_ERR_ARGUMENT, "augmentation: crop ratio [%g, %g] must be positive and ordered",
                            c->crop_ratio[0], c->crop_ratio[1]);
    bool rgb_ops = c->color_jitter_p > 0 || c->grayscale_p > 0;
    if (rgb_ops && bands != 3)
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "augmentation: colour jitter and grayscale need 3 (RGB) bands, the data has %d; use "
                            "per-band brightness/contrast jitter instead",
                            bands);
    if (c->solarize_raw && c->solarize_p > 0 && bands != 3)
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "augmentation: solarize_raw (a threshold on raw RGB values) needs 3 bands, the data has "
                            "%d; use solarize_raw=0 (threshold in normalized units)",
                            bands);
    if (c->solarize_raw && c->solarize_p > 0 && !(c->solarize_threshold <= 1))
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "augmentation: with solarize_raw the threshold is a fraction of rgb_max, at most 1 "
                            "(got %g)",
                            c->solarize_threshold);
    if ((rgb_ops || (c->solarize_raw && c->solarize_p > 0)) && !(c->rgb_max > 0))
        return gs_error_set(err, GS_ERR_ARGUMENT, "augmentation: rgb_max must be positive (255 for 8-bit)");
    if (c->brightness < 0 || c->contrast < 0 || c->saturation < 0 || c->hue < 0 || c->hue > 0.5f ||
        c->band_brightness < 0 || c->band_contrast < 0)
        return gs_error_set(err, GS_ERR_ARGUMENT, "augmentation: jitter strengths must be >= 0 (hue at most 0.5)");
    if (c->blur_p > 0 && !(c->blur_sigma[0] > 0 && c->blur_sigma[0] <= c->blur_sigma[1] &&
                           c->blur_sigma[1] <= MAX_BLUR_SIGMA))
        return gs_error_set(err, GS_ERR_ARGUMENT, "augmentation: blur sigma [%g, %g] must be within (0, %g]",
                            c->blur_sigma[0], c->blur_sigma[1], MAX_BLUR_SIGMA);
    return GS_OK;
}

void gs_augment_workspace_free(gs_augment_workspace *ws) {
    free(ws->buf);
    ws->buf = NULL;
    ws->capacity = 0;
}

static float *workspace(gs_augment_workspace *ws, int64_t n) {
    if (n > ws->capacity) {
        float *b = realloc(ws->buf, (size_t)n * sizeof *b);
        if (!b) return NULL;
        ws->buf = b;
        ws->capacity = n;
    }
    return ws->buf;
}

/* ---- geometry -------------------------------------------------------- */

gs_crop_box gs_augment_random_crop_box(gs_rng *rng, int height, int width, const float scale[2],
                                       const float ratio[2]) {
    double area = (double)height * width;
    double log_lo = log(ratio[0]), log_hi = log(ratio[1]);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * uniform(rng, scale[0], scale[1]);
        double aspect = exp(log_lo + (log_hi - log_lo) * gs_rng_uniform(rng));
        int w = (int)rint(sqrt(target * aspect));
        int h = (int)rint(sqrt(target / aspect));
        if (w > 0 && h > 0 && w <= width && h <= height) {
            int y = (int)gs_rng_below(rng, (uint64_t)(height - h + 1));
            int x = (int)gs_rng_below(rng, (uint64_t)(width - w + 1));
            return (gs_crop_box){x, y, w, h};
        }
    }
    /* No try fitted: the largest centre crop whose ratio is within range. */
    double in_ratio = (double)width / height;
    int w = width, h = height;
    if (in_ratio < ratio[0]) {
        h = (int)rint(w / ratio[0]);
    } else if (in_ratio > ratio[1]) {
        w = (int)rint(h * ratio[1]);
    }
    if (h < 1) h = 1;
    if (w < 1) w = 1;
    return (gs_crop_box){(width - w) / 2, (height - h) / 2, w, h};
}

/* Output (i, j) -> (r, c) in the resized grid (rh x rw) before flips and
 * turns: the inverse of numpy.rot90 k times after the flips. */
static void unturn(int k, int i, int j, int rh, int rw, bool hflip, bool vflip, int *r, int *c) {
    int u, v;
    switch (k) {
    case 1: u = j, v = rw - 1 - i; break;
    case 2: u = rh - 1 - i, v = rw - 1 - j; break;
    case 3: u = rh - 1 - j, v = i; break;
    default: u = i, v = j; break;
    }
    *r = vflip ? rh - 1 - u : u;
    *c = hflip ? rw - 1 - v : v;
}

static void pre_turn_size(int rot90, int out_h, int out_w, int *rh, int *rw) {
    bool odd = rot90 & 1;
    *rh = odd ? out_w : out_h;
    *rw = odd ? out_h : out_w;
}

/* Bilinear taps along one axis of the box (PyTorch align_corners=False:
 * negative source positions clamp to 0, the far edge repeats). */
static void taps(int dst_n, int src_n, int32_t *i0, int32_t *i1, float *w) {
    for (int dst = 0; dst < dst_n; dst++) {
        double pos = (dst + 0.5) * ((double)src_n / dst_n) - 0.5;
        if (pos < 0) pos = 0;
        int lo = (int)pos;
        if (lo > src_n - 1) lo = src_n - 1;
        i0[dst] = lo;
        i1[dst] = lo < src_n - 1 ? lo + 1 : lo;
        w[dst] = (float)(pos - lo);
    }
}

/* Floats the resample needs in the workspace. */
static int64_t resample_floats(gs_crop_box box, int rh, int rw) {
    return (int64_t)box.height * rw + (int64_t)rh * rw + 3 * (int64_t)(rh + rw);
}

gs_status gs_augment_resample(const float *src, int planes, int height, int width, gs_crop_box box, bool hflip,
                              bool vflip, int rot90, float *dst, int out_h, int out_w, gs_augment_workspace *ws,
                              gs_error *err) {
    int64_t src_plane = (int64_t)height * width, dst_plane = (int64_t)out_h * out_w;
    /* The identity is a copy: exact even for non-finite values, which
     * bilinear weights of 0 would otherwise spread to neighbours. */
    if (!hflip && !vflip && rot90 == 0 && box.x == 0 && box.y == 0 && box.width == width && box.height == height &&
        out_h == height && out_w == width) {
        memcpy(dst, src, (size_t)(planes * src_plane) * sizeof *dst);
        return GS_OK;
    }
    int rh, rw;
    pre_turn_size(rot90, out_h, out_w, &rh, &rw);
    float *rows = workspace(ws, resample_floats(box, rh, rw));
    if (!rows) return gs_error_set(err, GS_ERR_MEMORY, "out of memory resampling to %dx%d", out_h, out_w);
    /* Separable: each box row resized horizontally (rows), then pairs of
     * those rows blended vertically (resized), then flips and turns as a
     * permutation into dst. */
    float *resized = rows + (int64_t)box.height * rw, *wy = resized + (int64_t)rh * rw, *wx = wy + rh;
    int32_t *y0 = (int32_t *)(wx + rw), *y1 = y0 + rh, *x0 = y1 + rh, *x1 = x0 + rw;
    taps(rh, box.height, y0, y1, wy);
    taps(rw, box.width, x0, x1, wx);
    bool plain = !hflip && !vflip && rot90 == 0;
    for (int p = 0; p < planes; p++) {
        const float *s = src + p * src_plane + (int64_t)box.y * width + box.x;
        for (int y = 0; y < box.height; y++) {
            const float *in = s + (int64_t)y * width;
            float *out = rows + (int64_t)y * rw;
            for (int c = 0; c < rw; c++) out[c] = in[x0[c]] + wx[c] * (in[x1[c]] - in[x0[c]]);
        }
        float *d = plain ? dst + p * dst_plane : resized;
        for (int r = 0; r < rh; r++) {
            const float *a = rows + (int64_t)y0[r] * rw, *b = rows + (int64_t)y1[r] * rw;
            float w = wy[r];
            float *out = d + (int64_t)r * rw;
            for (int c = 0; c < rw; c++) out[c] = a[c] + w * (b[c] - a[c]);
        }
        if (plain) continue;
        float *o = dst + p * dst_plane;
        for (int i = 0; i < out_h; i++)
            for (int j = 0; j < out_w; j++) {
                int r, c;
                unturn(rot90, i, j, rh, rw, hflip, vflip, &r, &c);
                o[(int64_t)i * out_w + j] = resized[(int64_t)r * rw + c];
            }
    }
    return GS_OK;
}

void gs_augment_resample_mask(const int32_t *src, int height, int width, gs_crop_box box, bool hflip, bool vflip,
                              int rot90, int32_t *dst, int out_h, int out_w) {
    (void)height;
    int rh, rw;
    pre_turn_size(rot90, out_h, out_w, &rh, &rw);
    for (int i = 0; i < out_h; i++) {
        for (int j = 0; j < out_w; j++) {
            int r, c;
            unturn(rot90, i, j, rh, rw, hflip, vflip, &r, &c);
            /* The source pixel whose area holds the output pixel's centre. */
            int y = (int)((r + 0.5) * box.height / rh), x = (int)((c + 0.5) * box.width / rw);
            if (y > box.height - 1) y = box.height - 1;
            if (x > box.width - 1) x = box.width - 1;
            dst[(int64_t)i * out_w + j] = src[(int64_t)(box.y + y) * width + box.x + x];
        }
    }
}

void gs_augment_to_source(const gs_augment_record *rec, int out_h, int out_w, float ox, float oy, float *sx,
                          float *sy) {
    int rh, rw;
    pre_turn_size(rec->rot90, out_h, out_w, &rh, &rw);
    /* The same inverse as unturn(), on continuous coordinates where a
     * grid of n pixels spans [0, n) and index i's centre is i + 0.5. */
    float u, v;
    switch (rec->rot90) {
    case 1: u = ox, v = rw - oy; break;
    case 2: u = rh - oy, v = rw - ox; break;
    case 3: u = rh - ox, v = oy; break;
    default: u = oy, v = ox; break;
    }
    float r = rec->vflip ? rh - u : u, c = rec->hflip ? rw - v : v;
    *sy = rec->box.y + r * rec->box.height / rh;
    *sx = rec->box.x + c * rec->box.width / rw;
}

/* ---- photometric ----------------------------------------------------- */

void gs_augment_band_jitter(float *plane, int64_t n, float shift, float contrast) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += plane[i];
    float mean = n > 0 ? (float)(sum / n) : 0;
    for (int64_t i = 0; i < n; i++) plane[i] = (plane[i] - mean) * contrast + mean + shift;
}

/* ITU-R 601 luma, the weights torchvision's rgb_to_grayscale uses. */
static float luma(float r, float g, float b) { return 0.299f * r + 0.587f * g + 0.114f * b; }

void gs_augment_rgb_brightness(float *rgb, int64_t n, float factor) {
    for (int64_t i = 0; i < 3 * n; i++) rgb[i] = clamp01(rgb[i] * factor);
}

void gs_augment_rgb_contrast(float *rgb, int64_t n, float factor) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += luma(rgb[i], rgb[n + i], rgb[2 * n + i]);
    float mean = n > 0 ? (float)(sum / n) : 0;
    for (int64_t i = 0; i < 3 * n; i++) rgb[i] = clamp01(factor * rgb[i] + (1 - factor) * mean);
}

void gs_augment_rgb_saturation(float *rgb, int64_t n, float factor) {
    for (int64_t i = 0; i < n; i++) {
        float gray = luma(rgb[i], rgb[n + i], rgb[2 * n + i]);
        for (int ch = 0; ch < 3; ch++) {
            float *x = &rgb[ch * n + i];
            *x = clamp01(factor * *x + (1 - factor) * gray);
        }
    }
}

void gs_augment_rgb_grayscale(float *rgb, int64_t n) {
    for (int64_t i = 0; i < n; i++) rgb[i] = rgb[n + i] = rgb[2 * n + i] = luma(rgb[i], rgb[n + i], rgb[2 * n + i]);
}

/* Hue rotation through HSV (hue in turns), branch-free so it vectorizes:
 * hue in sixths from the largest channel, then the closed form
 * f(n) = V - C * clamp(min(k, 4 - k), 0, 1), k = (n + H) mod 6, giving
 * R, G, B for n = 5, 3, 1 (C = V - min, the chroma). */
/* Selects instead of branches: mixed colours do not mispredict.  (GCC
 * still leaves the loop scalar under its default -ftrapping-math.) */
static inline float hue_ramp(float k) {
    float wrapped = k - 6;
    k = k >= 6 ? wrapped : k;
    float down = 4 - k, m = k < down ? k : down;
    bool below = m < 0, above = m > 1;
    m = below ? 0 : m;
    return above ? 1 : m;
}

void gs_augment_rgb_hue(float *rgb, int64_t n, float shift) {
    float *rp = rgb, *gp = rgb + n, *bp = rgb + 2 * n;
    for (int64_t i = 0; i < n; i++) {
        float r = rp[i], g = gp[i], b = bp[i];
        float max = r > g ? r : g, min = r < g ? r : g;
        max = b > max ? b : max;
        min = b < min ? b : min;
        /* Gray pixels have d = 0: any non-zero divisor works there. */
        float chroma = max - min, safe = chroma > 0 ? chroma : 1;
        float d_r = g - b, d_g = b - r, d_b = r - g;
        bool is_r = max == r, is_g = max == g;
        float d = is_r ? d_r : (is_g ? d_g : d_b);
        float h = d / safe + (is_r ? 0.0f : (is_g ? 2.0f : 4.0f)) + 6 * shift;
        h -= 6 * floorf(h * (1.0f / 6));
        rp[i] = max - chroma * hue_ramp(5 + h);
        gp[i] = max - chroma * hue_ramp(3 + h);
        bp[i] = max - chroma * hue_ramp(1 + h);
    }
}

/* Mirror padding without repeating the edge (PyTorch's "reflect"), for
 * offsets of any size. */
static int reflect(int i, int n) {
    if (n == 1) return 0;
    int period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

int64_t gs_augment_blur_scratch(int height, int width) { return (int64_t)height * width + width + 2 * MAX_BLUR_RADIUS; }

void gs_augment_blur(float *img, int planes, int height, int width, float sigma, float *scratch) {
    int radius = (int)ceilf(3 * sigma);
    if (radius < 1) radius = 1;
    if (radius > MAX_BLUR_RADIUS) radius = MAX_BLUR_RADIUS;
    float kernel[2 * MAX_BLUR_RADIUS + 1];
    double total = 0;
    for (int t = -radius; t <= radius; t++) total += kernel[t + radius] = expf(-(float)(t * t) / (2 * sigma * sigma));
    for (int t = 0; t <= 2 * radius; t++) kernel[t] = (float)(kernel[t] / total);
    float *mid = scratch, *pad = scratch + (int64_t)height * width;
    int padded = width + 2 * radius;
    for (int p = 0; p < planes; p++) {
        float *x = img + (int64_t)p * height * width;
        /* Horizontal: each row copied with its mirrored margins, then the
         * taps accumulated along the row (vectorizes). */
        for (int i = 0; i < height; i++) {
            const float *row = x + (int64_t)i * width;
            int margin = (padded - width) / 2;
            memcpy(pad + margin, row, (size_t)width * sizeof *row);
            for (int j = 0; j < margin; j++) {
                pad[j] = row[reflect(j - margin, width)];
                pad[margin + width + j] = row[reflect(width + j, width)];
            }
            float *out = mid + (int64_t)i * width;
            for (int j = 0; j < width; j++) out[j] = 0;
            for (int t = 0; t <= 2 * radius; t++) {
                float k = kernel[t];
                const float *shifted = pad + t;
                for (int j = 0; j < width; j++) out[j] += k * shifted[j];
            }
        }
        /* Vertical: whole rows at a time (vectorizes along the row). */
        for (int i = 0; i < height; i++) {
            float *out = x + (int64_t)i * width;
            for (int j = 0; j < width; j++) out[j] = 0;
            for (int t = -radius; t <= radius; t++) {
                const float *row = mid + (int64_t)reflect(i + t, height) * width;
                float k = kernel[t + radius];
                for (int j = 0; j < width; j++) out[j] += k * row[j];
            }
        }
    }
}

void gs_augment_solarize(float *x, int64_t n, float threshold) {
    for (int64_t i = 0; i < n; i++)
        if (x[i] >= threshold) x[i] = 2 * threshold - x[i];
}

/* ---- one view -------------------------------------------------------- */

/* torchvision's ColorJitter: the four adjustments in random order, each
 * with a factor drawn once per view. */
static void color_jitter(const gs_augment_config *c, gs_rng *rng, float *img, int dates, int64_t plane) {
    float b = uniform(rng, fmaxf(0, 1 - c->brightness), 1 + c->brightness);
    float k = uniform(rng, fmaxf(0, 1 - c->contrast), 1 + c->contrast);
    float s = uniform(rng, fmaxf(0, 1 - c->saturation), 1 + c->saturation);
    float h = uniform(rng, -c->hue, c->hue);
    int order[4] = {0, 1, 2, 3};
    for (int i = 3; i > 0; i--) {
        int j = (int)gs_rng_below(rng, (uint64_t)i + 1), t = order[i];
        order[i] = order[j], order[j] = t;
    }
    for (int d = 0; d < dates; d++) {
        float *rgb = img + (int64_t)d * 3 * plane;
        for (int o = 0; o < 4; o++) {
            if (order[o] == 0 && c->brightness > 0) gs_augment_rgb_brightness(rgb, plane, b);
            if (order[o] == 1 && c->contrast > 0) gs_augment_rgb_contrast(rgb, plane, k);
            if (order[o] == 2 && c->saturation > 0) gs_augment_rgb_saturation(rgb, plane, s);
            if (order[o] == 3 && c->hue > 0) gs_augment_rgb_hue(rgb, plane, h);
        }
    }
}

gs_status gs_augment_apply(const gs_augment_config *c, const gs_augment_input *in, gs_rng *rng,
                           gs_augment_workspace *ws, float *dst, int32_t *dst_mask, gs_augment_record *rec,
                           gs_error *err) {
    int out_h = c->out_height ? c->out_height : in->height, out_w = c->out_width ? c->out_width : in->width;
    int64_t plane = (int64_t)out_h * out_w, n = (int64_t)in->dates * in->bands * plane;
    memset(rec, 0, sizeof *rec);
    rec->box = c->crop ? gs_augment_random_crop_box(rng, in->height, in->width, c->crop_scale, c->crop_ratio)
                       : (gs_crop_box){0, 0, in->width, in->height};
    rec->hflip = chance(rng, c->hflip_p);
    rec->vflip = chance(rng, c->vflip_p);
    if (chance(rng, c->rot90_p)) rec->rot90 = out_h == out_w ? 1 + (int)gs_rng_below(rng, 3) : 2;
    gs_status st = gs_augment_resample(in->pixels, in->dates * in->bands, in->height, in->width, rec->box, rec->hflip,
                                       rec->vflip, rec->rot90, dst, out_h, out_w, ws, err);
    if (st != GS_OK) return st;
    if (in->mask && dst_mask)
        gs_augment_resample_mask(in->mask, in->height, in->width, rec->box, rec->hflip, rec->vflip, rec->rot90,
                                 dst_mask, out_h, out_w);

    rec->color_jitter = chance(rng, c->color_jitter_p);
    rec->grayscale = chance(rng, c->grayscale_p);
    if (rec->color_jitter || rec->grayscale) {
        float scale = 1 / c->rgb_max;
        for (int64_t i = 0; i < n; i++) dst[i] = clamp01(dst[i] * scale);
        if (rec->color_jitter) color_jitter(c, rng, dst, in->dates, plane);
        if (rec->grayscale)
            for (int d = 0; d < in->dates; d++) gs_augment_rgb_grayscale(dst + (int64_t)d * 3 * plane, plane);
        for (int64_t i = 0; i < n; i++) dst[i] *= c->rgb_max;
    }
    if (in->mean && in->std) {
        for (int d = 0; d < in->dates; d++)
            for (int b = 0; b < in->bands; b++) {
                float *x = dst + ((int64_t)d * in->bands + b) * plane;
                float mean = in->mean[b], inv = in->std[b] > 0 ? 1 / in->std[b] : 1;
                for (int64_t i = 0; i < plane; i++) x[i] = (x[i] - mean) * inv;
            }
    }
    rec->band_jitter = chance(rng, c->band_jitter_p);
    if (rec->band_jitter) {
        for (int b = 0; b < in->bands; b++) {
            float shift = uniform(rng, -c->band_brightness, c->band_brightness);
            float k = uniform(rng, fmaxf(0, 1 - c->band_contrast), 1 + c->band_contrast);
            for (int d = 0; d < in->dates; d++)
                gs_augment_band_jitter(dst + ((int64_t)d * in->bands + b) * plane, plane, shift, k);
        }
    }
    if (chance(rng, c->blur_p)) {
        rec->blur_sigma = uniform(rng, c->blur_sigma[0], c->blur_sigma[1]);
        float *scratch = workspace(ws, gs_augment_blur_scratch(out_h, out_w));
        if (!scratch) return gs_error_set(err, GS_ERR_MEMORY, "out of memory for the blur of a %dx%d view", out_h, out_w);
        gs_augment_blur(dst, in->dates * in->bands, out_h, out_w, rec->blur_sigma, scratch);
    }
    rec->solarized = chance(rng, c->solarize_p);
    if (rec->solarized && !c->solarize_raw) gs_augment_solarize(dst, n, c->solarize_threshold);
    if (rec->solarized && c->solarize_raw) {
        /* PIL: raw >= t * rgb_max becomes rgb_max - raw.  Normalization is
         * affine per band, so in band b's units the test is against
         * (t * rgb_max - mean_b) / std_b and the result is the reflection
         * about (rgb_max / 2 - mean_b) / std_b. */
        for (int b = 0; b < in->bands; b++) {
            bool normalized = in->mean && in->std;
            float mean = normalized ? in->mean[b] : 0, inv = normalized && in->std[b] > 0 ? 1 / in->std[b] : 1;
            float threshold = (c->solarize_threshold * c->rgb_max - mean) * inv;
            float centre = (0.5f * c->rgb_max - mean) * inv;
            for (int d = 0; d < in->dates; d++) {
                float *x = dst + ((int64_t)d * in->bands + b) * plane;
                for (int64_t i = 0; i < plane; i++)
                    if (x[i] >= threshold) x[i] = 2 * centre - x[i];
            }
        }
    }
    return GS_OK;
}
