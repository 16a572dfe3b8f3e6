/* The synthetic EuroSAT is learnable but not trivially separable: a
 * multinomial logistic regression on per-band mean and std alone scores
 * under 60% on held-out images, while one on a few texture features
 * (FFT ring energies, orientation coherence, edge sparsity) scores clearly
 * higher.  Both read the generated files back with image_io, as a loader
 * would. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_io.h"
#include "synthetic.h"
#include "test_paths.h"

/* EuroSAT's folder names (Helber et al., 2019), written out here so the
 * test does not take them from the generator it checks. */
static const char *const CLASSES[10] = {"AnnualCrop", "Forest",        "HerbaceousVegetation", "Highway", "Industrial",
                                        "Pasture",    "PermanentCrop", "Residential",          "River",   "SeaLake"};
#define N_CLASSES 10
#define MAX_FEATURES 32

typedef struct table {
    int n, dims;
    double *x; /* n x dims */
    int *label;
    bool *held_out;
} table;

/* ---- multinomial logistic regression, plain gradient descent in double ---- */

static double fit_and_score(const table *t) {
    int d = t->dims, k = N_CLASSES;
    double mean[MAX_FEATURES] = {0}, sd[MAX_FEATURES] = {0};
    int n_train = 0;
    for (int i = 0; i < t->n; i++)
        if (!t->held_out[i]) {
            n_train++;
            for (int j = 0; j < d; j++) mean[j] += t->x[i * d + j];
        }
    for (int j = 0; j < d; j++) mean[j] /= n_train;
    for (int i = 0; i < t->n; i++)
        if (!t->held_out[i])
            for (int j = 0; j < d; j++) sd[j] += pow(t->x[i * d + j] - mean[j], 2);
    for (int j = 0; j < d; j++) sd[j] = sqrt(sd[j] / n_train) + 1e-12;
    double *z = malloc(sizeof(double) * t->n * d);
    for (int i = 0; i < t->n; i++)
        for (int j = 0; j < d; j++) z[i * d + j] = (t->x[i * d + j] - mean[j]) / sd[j];
    double w[N_CLASSES][MAX_FEATURES + 1] = {{0}}, g[N_CLASSES][MAX_FEATURES + 1];
    for (int step = 0; step < 3000; step++) {
        memset(g, 0, sizeof g);
        for (int i = 0; i < t->n; i++) {
            if (t->held_out[i]) continue;
            double logit[N_CLASSES], top = -1e300, total = 0;
            for (int c = 0; c < k; c++) {
                logit[c] = w[c][d];
                for (int j = 0; j < d; j++) logit[c] += w[c][j] * z[i * d + j];
                if (logit[c] > top) top = logit[c];
            }
            for (int c = 0; c < k; c++) total += logit[c] = exp(logit[c] - top);
            for (int c = 0; c < k; c++) {
                double r = logit[c] / total - (c == t->label[i]);
                for (int j = 0; j < d; j++) g[c][j] += r * z[i * d + j];
                g[c][d] += r;
            }
        }
        for (int c = 0; c < k; c++)
            for (int j = 0; j <= d; j++) w[c][j] -= 0.5 * (g[c][j] / n_train + (j < d ? 1e-4 * w[c][j] : 0));
    }
    int right = 0, tested = 0;
    for (int i = 0; i < t->n; i++) {
        if (!t->held_out[i]) continue;
        int best = 0;
        double best_logit = -1e300;
        for (int c = 0; c < k; c++) {
            double l = w[c][d];
            for (int j = 0; j < d; j++) l += w[c][j] * z[i * d + j];
            if (l > best_logit) best_logit = l, best = c;
        }
        right += best == t->label[i];
        tested++;
    }
    free(z);
    return (double)right / tested;
}

/* ---- features ---------------------------------------------------------------- */

static void band_stats(const gs_raster *r, double *out) {
    int64_t n = r->height * r->width;
    for (int b = 0; b < r->bands; b++) {
        double s = 0, s2 = 0;
        for (int64_t i = 0; i < n; i++) {
            double v = r->data[b * n + i];
            s += v;
            s2 += v * v;
        }
        double m = s / n;
        out[2 * b] = m;
        out[2 * b + 1] = sqrt(fmax(s2 / n - m * m, 0));
    }
}

/* In-place radix-2 FFT of n complex values (n a power of two). */
static void fft(double *re, double *im, int n) {
    for (int i = 1, j = 0; i < n; i++) {
        int bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i];
            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
    }
    for (int len = 2; len <= n; len <<= 1) {
        double a = -2 * 3.14159265358979323846 / len;
        for (int i = 0; i < n; i += len)
            for (int k = 0; k < len / 2; k++) {
                double c = cos(a * k), s = sin(a * k);
                double xr = re[i + k + len / 2] * c - im[i + k + len / 2] * s;
                double xi = re[i + k + len / 2] * s + im[i + k + len / 2] * c;
                re[i + k + len / 2] = re[i + k] - xr;
                im[i + k + len / 2] = im[i + k] - xi;
                re[i + k] += xr;
                im[i + k] += xi;
            }
    }
}

#define SIDE 64
enum { TEXTURE_FEATURES = 12 };

/* Texture of the band with the largest variance, standardized first so no
 * brightness or contrast reaches the features. */
static void texture_features(const gs_raster *r, double *out) {
    int n = SIDE * SIDE, best = 0;
    double best_var = -1;
    for (int b = 0; b < r->bands; b++) {
        double s = 0, s2 = 0;
        for (int i = 0; i < n; i++) s += r->data[b * n + i], s2 += (double)r->data[b * n + i] * r->data[b * n + i];
        double var = s2 / n - (s / n) * (s / n);
        if (var > best_var) best_var = var, best = b;
    }
    double re[SIDE * SIDE], im[SIDE * SIDE];
    double mean = 0, sd = 0;
    const float *p = r->data + (size_t)best * n;
    for (int i = 0; i < n; i++) mean += p[i];
    mean /= n;
    for (int i = 0; i < n; i++) sd += (p[i] - mean) * (p[i] - mean);
    sd = sqrt(sd / n) + 1e-9;
    double m3 = 0, m4 = 0;
    for (int i = 0; i < n; i++) {
        double v = (p[i] - mean) / sd;
        re[i] = v;
        im[i] = 0;
        m3 += v * v * v;
        m4 += v * v * v * v;
    }
    /* Gradients: edge sparsity, and orientation coherence globally and in 8x8 windows. */
    double g2 = 0, g4 = 0, jxx = 0, jyy = 0, jxy = 0, local = 0;
    for (int wy = 0; wy < SIDE; wy += 8)
        for (int wx = 0; wx < SIDE; wx += 8) {
            double a = 0, b = 0, c = 0;
            for (int y = wy; y < wy + 8; y++)
                for (int x = wx; x < wx + 8; x++) {
                    int xr = x + 1 < SIDE ? x + 1 : x, yd = y + 1 < SIDE ? y + 1 : y;
                    double gx = re[y * SIDE + xr] - re[y * SIDE + x], gy = re[yd * SIDE + x] - re[y * SIDE + x];
                    double m = gx * gx + gy * gy;
                    g2 += m;
                    g4 += m * m;
                    a += gx * gx, b += gy * gy, c += gx * gy;
                }
            jxx += a, jyy += b, jxy += c;
            local += sqrt((a - b) * (a - b) + 4 * c * c) / (a + b + 1e-9);
        }
    for (int y = 0; y < SIDE; y++) fft(re + y * SIDE, im + y * SIDE, SIDE);
    double cr[SIDE], ci[SIDE];
    for (int x = 0; x < SIDE; x++) {
        for (int y = 0; y < SIDE; y++) cr[y] = re[y * SIDE + x], ci[y] = im[y * SIDE + x];
        fft(cr, ci, SIDE);
        for (int y = 0; y < SIDE; y++) re[y * SIDE + x] = cr[y], im[y * SIDE + x] = ci[y];
    }
    double ring[6] = {0}, total = 0, peak = 0;
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++) {
            if (!x && !y) continue;
            int fx = x < SIDE / 2 ? x : x - SIDE, fy = y < SIDE / 2 ? y : y - SIDE;
            double power = re[y * SIDE + x] * re[y * SIDE + x] + im[y * SIDE + x] * im[y * SIDE + x];
            double radius = sqrt(fx * fx + fy * fy);
            int k = radius < 2 ? 0 : radius < 4 ? 1 : radius < 8 ? 2 : radius < 16 ? 3 : radius < 32 ? 4 : 5;
            ring[k] += power;
            total += power;
            if (power > peak) peak = power;
        }
    int f = 0;
    for (int k = 0; k < 6; k++) out[f++] = log(ring[k] / total + 1e-6);
    out[f++] = log(peak / total + 1e-6);
    out[f++] = sqrt((jxx - jyy) * (jxx - jyy) + 4 * jxy * jxy) / (jxx + jyy + 1e-9);
    out[f++] = local / 64;
    out[f++] = log(m4 / n);
    out[f++] = fabs(m3 / n);
    out[f++] = log(g4 / n / ((g2 / n) * (g2 / n)) + 1e-9);
}

/* ---- the experiment --------------------------------------------------------- */

typedef struct result {
    double stats_accuracy, texture_accuracy;
} result;

static result run_experiment(const char *format, int count, uint64_t seed) {
    char dir[256], path[1024];
    test_temp_dir(dir, sizeof dir);
    cr_assert(dir[0], "no temporary folder");
    gs_synth_options opt = {.seed = seed, .count = count};
    gs_error err = {0};
    cr_assert_eq(gs_synth_write(format, dir, &opt, &err), GS_OK, "%s", err.message);
    bool ms = !strcmp(format, "eurosat-ms");
    int n = N_CLASSES * count, bands = ms ? 13 : 3;
    table stats = {n, 2 * bands, calloc((size_t)n * 2 * bands, sizeof(double)), calloc(n, sizeof(int)), calloc(n, 1)};
    table tex = {n, TEXTURE_FEATURES, calloc((size_t)n * TEXTURE_FEATURES, sizeof(double)), stats.label,
                 stats.held_out};
    for (int k = 0, i = 0; k < N_CLASSES; k++)
        for (int m = 1; m <= count; m++, i++) {
            snprintf(path, sizeof path, "%s/%s/%s_%d.%s", dir, CLASSES[k], CLASSES[k], m, ms ? "tif" : "jpg");
            gs_raster r;
            gs_status st = ms ? gs_tiff_read(path, &r, &err) : gs_jpeg_read(path, &r, &err);
            cr_assert_eq(st, GS_OK, "%s", err.message);
            cr_assert(r.bands == bands && r.height == SIDE && r.width == SIDE, "%s: unexpected shape", path);
            band_stats(&r, stats.x + (size_t)i * stats.dims);
            texture_features(&r, tex.x + (size_t)i * tex.dims);
            stats.label[i] = k;
            stats.held_out[i] = m % 5 == 0; /* 20% of every class */
            gs_raster_free(&r);
        }
    result res = {fit_and_score(&stats), fit_and_score(&tex)};
    free(stats.x);
    free(tex.x);
    free(stats.label);
    free(stats.held_out);
    test_remove_tree(dir);
    return res;
}

Test(datasets_synthetic_learnability, eurosat_rgb_statistics_do_not_separate_but_texture_does) {
    result r = run_experiment("eurosat-rgb", 60, 7);
    fprintf(stderr,
            "synthetic eurosat-rgb (600 images, 120 held out): per-band mean+std logistic regression %.1f%%, "
            "texture-feature logistic regression %.1f%% (chance 10%%)\n",
            100 * r.stats_accuracy, 100 * r.texture_accuracy);
    cr_expect_lt(r.stats_accuracy, 0.60, "band statistics alone separate the classes: %.3f", r.stats_accuracy);
    cr_expect_gt(r.texture_accuracy, 0.80, "texture does not separate the classes: %.3f", r.texture_accuracy);
}

Test(datasets_synthetic_learnability, eurosat_ms_statistics_do_not_separate_but_texture_does) {
    result r = run_experiment("eurosat-ms", 40, 11);
    fprintf(stderr,
            "synthetic eurosat-ms (400 images, 80 held out): per-band mean+std logistic regression %.1f%%, "
            "texture-feature logistic regression %.1f%% (chance 10%%)\n",
            100 * r.stats_accuracy, 100 * r.texture_accuracy);
    cr_expect_lt(r.stats_accuracy, 0.60, "band statistics alone separate the classes: %.3f", r.stats_accuracy);
    cr_expect_gt(r.texture_accuracy, 0.80, "texture does not separate the classes: %.3f", r.texture_accuracy);
}
