/* Shapes and textures for the synthetic generator.  Noise is hashed from
 * lattice coordinates instead of stored, so no primitive allocates (and none
 * can fail); edges are anti-aliased over one pixel so JPEG and downsampling
 * see shapes, not aliasing. */
#include <math.h>
#include <string.h>

#include "synthetic_internal.h"

#define TWO_PI 6.283185307179586f

static float clamp01(float v) { return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; }

/* A lattice value in [0, 1) from a 64-bit mix of the seed and coordinates. */
static float lattice(uint64_t seed, int64_t ix, int64_t iy) {
    uint64_t z = seed ^ ((uint64_t)ix * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)iy * 0xC2B2AE3D27D4EB4FULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f);
}

static float smooth(float t) { return t * t * (3.0f - 2.0f * t); }

/* Value noise at (x, y) in lattice units. */
static float value_noise(uint64_t seed, float x, float y) {
    float fx = floorf(x), fy = floorf(y);
    int64_t ix = (int64_t)fx, iy = (int64_t)fy;
    float tx = smooth(x - fx), ty = smooth(y - fy);
    float a = lattice(seed, ix, iy), b = lattice(seed, ix + 1, iy);
    float c = lattice(seed, ix, iy + 1), d = lattice(seed, ix + 1, iy + 1);
    float top = a + (b - a) * tx, bottom = c + (d - c) * tx;
    return top + (bottom - top) * ty;
}

void synth_noise(float *out, int h, int w, float cells, int octaves, float persistence, gs_rng *rng) {
    uint64_t seed = gs_rng_next_u64(rng);
    /* A random offset keeps lattice lines from sitting at the image origin. */
    float ox = synth_uniform(rng, 0.0f, 1000.0f), oy = synth_uniform(rng, 0.0f, 1000.0f);
    int side = h > w ? h : w;
    size_t n = (size_t)h * (size_t)w;
    memset(out, 0, sizeof(float) * n);
    float amplitude = 1.0f, frequency = cells / (float)side;
    enum { CACHE = 16384 };
    float cache[CACHE]; /* the octave's lattice values, when they fit */
    for (int o = 0; o < octaves; o++) {
        uint64_t octave_seed = seed + 0x632BE59BD9B4E019ULL * (uint64_t)(o + 1);
        int64_t ix0 = (int64_t)floorf(ox), iy0 = (int64_t)floorf(oy);
        int lw = (int)ceilf(ox - ix0 + w * frequency) + 2, lh = (int)ceilf(oy - iy0 + h * frequency) + 2;
        if ((int64_t)lw * lh <= CACHE) {
            /* Same values as value_noise, hashed once per lattice point. */
            for (int j = 0; j < lh; j++)
                for (int i = 0; i < lw; i++) cache[j * lw + i] = lattice(octave_seed, ix0 + i, iy0 + j);
            for (int y = 0; y < h; y++) {
                float fy = oy + y * frequency, gy = floorf(fy), ty = smooth(fy - gy);
                const float *row = cache + ((int64_t)gy - iy0) * lw;
                for (int x = 0; x < w; x++) {
                    float fx = ox + x * frequency, gx = floorf(fx), tx = smooth(fx - gx);
                    const float *p = row + ((int64_t)gx - ix0);
                    float top = p[0] + (p[1] - p[0]) * tx, bottom = p[lw] + (p[lw + 1] - p[lw]) * tx;
                    out[(size_t)y * w + x] += amplitude * (top + (bottom - top) * ty);
                }
            }
        } else {
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    out[(size_t)y * w + x] +=
                        amplitude * value_noise(octave_seed, ox + x * frequency, oy + y * frequency);
        }
        amplitude *= persistence;
        frequency *= 2.0f;
    }
    float lo = out[0], hi = out[0];
    for (size_t i = 1; i < n; i++) {
        if (out[i] < lo) lo = out[i];
        if (out[i] > hi) hi = out[i];
    }
    float scale = hi > lo ? 1.0f / (hi - lo) : 0.0f;
    for (size_t i = 0; i < n; i++) out[i] = (out[i] - lo) * scale;
}

void synth_threshold(float *field, int n, float coverage, float softness) {
    /* The (1 - coverage) quantile from a histogram of the 0..1 field. */
    enum { BINS = 1024 };
    int hist[BINS] = {0};
    for (int i = 0; i < n; i++) {
        int b = (int)(clamp01(field[i]) * (BINS - 1));
        hist[b]++;
    }
    int target = (int)((1.0f - coverage) * (float)n), seen = 0, bin = 0;
    while (bin < BINS - 1 && seen + hist[bin] < target) seen += hist[bin++];
    float level = (float)bin / (BINS - 1);
    float inv = softness > 0.0f ? 1.0f / softness : 1e6f;
    for (int i = 0; i < n; i++) field[i] = clamp01((field[i] - level) * inv + 0.5f);
}

void synth_stripes(float *out, int h, int w, float period, float angle, float phase, float duty) {
    float ca = cosf(angle), sa = sinf(angle);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float t = (x * ca + y * sa) / period + phase;
            float f = t - floorf(t);
            /* Signed distance in pixels to the nearest stripe edge. */
            float d = f < duty ? fminf(f, duty - f) * period : -fminf(f - duty, 1.0f - f) * period;
            out[(size_t)y * w + x] = clamp01(d + 0.5f);
        }
}

void synth_voronoi(int32_t *out, int h, int w, const float *seeds, int n, float warp, gs_rng *rng) {
    uint64_t sx = gs_rng_next_u64(rng), sy = gs_rng_next_u64(rng);
    int side = h > w ? h : w;
    float f = 3.0f / (float)side; /* about three warp undulations across the image */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float px = x, py = y;
            if (warp > 0.0f) {
                px += warp * (2.0f * value_noise(sx, x * f, y * f) - 1.0f);
                py += warp * (2.0f * value_noise(sy, x * f, y * f) - 1.0f);
            }
            int best = 0;
            float best_d = 1e30f;
            for (int k = 0; k < n; k++) {
                float dx = px - seeds[2 * k], dy = py - seeds[2 * k + 1];
                float d = dx * dx + dy * dy;
                if (d < best_d) {
                    best_d = d;
                    best = k;
                }
            }
            out[(size_t)y * w + x] = best;
        }
}

/* The pixel range [lo, hi] that a shape reaching `reach` around c covers. */
static void span(float c, float reach, int size, int *lo, int *hi) {
    *lo = (int)floorf(c - reach - 1.0f);
    *hi = (int)ceilf(c + reach + 1.0f);
    if (*lo < 0) *lo = 0;
    if (*hi > size - 1) *hi = size - 1;
}

void synth_rect(float *mask, int h, int w, float cx, float cy, float hx, float hy, float angle, float value) {
    float ca = cosf(angle), sa = sinf(angle);
    float reach = sqrtf(hx * hx + hy * hy);
    int x0, x1, y0, y1;
    span(cx, reach, w, &x0, &x1);
    span(cy, reach, h, &y0, &y1);
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            float dx = x - cx, dy = y - cy;
            float u = dx * ca + dy * sa, v = -dx * sa + dy * ca;
            float inside = clamp01(fminf(hx - fabsf(u), hy - fabsf(v)) + 0.5f) * value;
            float *m = &mask[(size_t)y * w + x];
            if (inside > *m) *m = inside;
        }
}

void synth_disc(float *mask, int h, int w, float cx, float cy, float r, float ring, float value) {
    int x0, x1, y0, y1;
    float reach = r + ring;
    span(cx, reach, w, &x0, &x1);
    span(cy, reach, h, &y0, &y1);
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            float d = sqrtf((x - cx) * (x - cx) + (y - cy) * (y - cy));
            float inside = ring > 0.0f ? clamp01(0.5f * ring - fabsf(d - r) + 0.5f) : clamp01(r - d + 0.5f);
            inside *= value;
            float *m = &mask[(size_t)y * w + x];
            if (inside > *m) *m = inside;
        }
}

void synth_band(float *mask, int h, int w, float x0, float y0, float angle, float width, float value) {
    float nx = -sinf(angle), ny = cosf(angle);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float d = fabsf((x - x0) * nx + (y - y0) * ny);
            float inside = clamp01(0.5f * width - d + 0.5f) * value;
            float *m = &mask[(size_t)y * w + x];
            if (inside > *m) *m = inside;
        }
}

void synth_meander(float *mask, int h, int w, float angle, float width, float amplitude, float wavelength,
                   gs_rng *rng) {
    uint64_t seed = gs_rng_next_u64(rng);
    float phase = synth_uniform(rng, 0.0f, TWO_PI);
    float offset = synth_uniform(rng, -0.15f, 0.15f) * (float)(h < w ? h : w);
    float ca = cosf(angle), sa = sinf(angle);
    float cx = 0.5f * w, cy = 0.5f * h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float dx = x - cx, dy = y - cy;
            float u = dx * ca + dy * sa, v = -dx * sa + dy * ca;
            float wobble = 0.5f * amplitude * (2.0f * value_noise(seed, u / wavelength * 2.0f, 0.5f) - 1.0f);
            float centre = offset + amplitude * sinf(TWO_PI * u / wavelength + phase) + wobble;
            float inside = clamp01(0.5f * width - fabsf(v - centre) + 0.5f);
            float *m = &mask[(size_t)y * w + x];
            if (inside > *m) *m = inside;
        }
}

void synth_blur(float *field, int h, int w, int r, float *scratch) {
    if (r <= 0) return;
    /* Separable box filter with clamped borders: rows into scratch, then
     * columns back.  The loops run along rows so the compiler vectorizes them. */
    float norm = 1.0f / (float)(2 * r + 1);
    for (int y = 0; y < h; y++) {
        const float *in = field + (size_t)y * w;
        float *out = scratch + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            if (x >= r && x < w - r) {
                float sum = 0.0f;
                for (int k = -r; k <= r; k++) sum += in[x + k];
                out[x] = sum * norm;
            } else {
                float sum = 0.0f;
                for (int k = -r; k <= r; k++) sum += in[x + k < 0 ? 0 : x + k >= w ? w - 1 : x + k];
                out[x] = sum * norm;
            }
        }
    }
    for (int y = 0; y < h; y++) {
        float *out = field + (size_t)y * w;
        memset(out, 0, sizeof(float) * (size_t)w);
        for (int k = -r; k <= r; k++) {
            int yy = y + k < 0 ? 0 : y + k >= h ? h - 1 : y + k;
            const float *in = scratch + (size_t)yy * w;
            for (int x = 0; x < w; x++) out[x] += in[x];
        }
        for (int x = 0; x < w; x++) out[x] *= norm;
    }
}
