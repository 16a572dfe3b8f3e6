/* Each augmentation op against torchvision at the same parameters
 * (tests/fixtures/augment_torchvision.gsfx, tools/reference/augment_reference.py):
 * pixel outputs within 1/255 of torchvision's float ops and within 2/255 of
 * its 8-bit PIL pipeline, and the random crop's area and aspect
 * distribution against 200,000 torchvision draws. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "fixture.h"

enum { H = 24, W = 30, PLANE = H * W, N = 3 * PLANE };

static fixture *fx;
static void load(void) {
    fx = fixture_load(GEOSSL_FIXTURE_DIR "/augment_torchvision.gsfx");
    cr_assert_not_null(fx, "tests/fixtures/augment_torchvision.gsfx is missing");
}
static void unload(void) { fixture_free(fx); }

static const float *tensor(const char *name, int64_t numel) {
    const fixture_tensor *t = fixture_get(fx, name);
    cr_assert_not_null(t, "fixture has no '%s'", name);
    cr_assert_eq(t->numel, numel, "'%s' has %lld values, want %lld", name, (long long)t->numel, (long long)numel);
    return t->data;
}

/* Largest |got - want|, and where. */
static double max_abs(const float *got, const float *want, int64_t n, int64_t *worst) {
    double m = 0;
    *worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (d > m) m = d, *worst = i;
    }
    return m;
}

typedef void (*colour_op)(float *rgb, int64_t n, float factor);
static void grayscale_op(float *rgb, int64_t n, float factor) {
    (void)factor;
    gs_augment_rgb_grayscale(rgb, n);
}

static double mean_abs(const float *got, const float *want, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += fabs((double)got[i] - want[i]);
    return s / (double)n;
}

/* The op on the float image against torchvision's tensor op (float32
 * rounding only), and on the 8-bit image against PIL, which rounds to 8 bits
 * after the op (half a level, plus PIL's integer luma: 2/255 at most).  PIL
 * turns hue through an 8-bit HSV image, which alone moves pixels by up to 15
 * levels, so for hue (pil_max > 2/255) only the mean is held to 2/255. */
static void check_op(const char *name, colour_op op, float factor, double pil_max) {
    float buf[N];
    int64_t worst;
    memcpy(buf, tensor("image", N), sizeof buf);
    op(buf, PLANE, factor);
    double err = max_abs(buf, tensor(name, N), N, &worst);
    cr_expect_leq(err, 1.0 / 255, "%s: off torchvision by %.5f at value %lld (%.4f vs %.4f)", name, err,
                  (long long)worst, buf[worst], tensor(name, N)[worst]);
    char pil[64];
    snprintf(pil, sizeof pil, "pil_%s", name);
    memcpy(buf, tensor("image_u8", N), sizeof buf);
    op(buf, PLANE, factor);
    err = max_abs(buf, tensor(pil, N), N, &worst);
    cr_expect_leq(err, pil_max, "%s: off torchvision's PIL pipeline by %.5f at value %lld", pil, err,
                  (long long)worst);
    double mean = mean_abs(buf, tensor(pil, N), N);
    cr_expect_leq(mean, 2.0 / 255, "%s: off torchvision's PIL pipeline by %.5f on average", pil, mean);
}

TestSuite(datasets_augment_torchvision, .init = load, .fini = unload);

Test(datasets_augment_torchvision, colour_jitter_ops_match) {
    check_op("brightness_0p6", gs_augment_rgb_brightness, 0.6f, 2.0 / 255);
    check_op("brightness_1p3", gs_augment_rgb_brightness, 1.3f, 2.0 / 255);
    check_op("contrast_0p65", gs_augment_rgb_contrast, 0.65f, 2.0 / 255);
    check_op("contrast_1p35", gs_augment_rgb_contrast, 1.35f, 2.0 / 255);
    check_op("saturation_0p7", gs_augment_rgb_saturation, 0.7f, 2.0 / 255);
    check_op("saturation_1p4", gs_augment_rgb_saturation, 1.4f, 2.0 / 255);
    check_op("hue_m0p1", gs_augment_rgb_hue, -0.1f, 16.0 / 255);
    check_op("hue_0p04", gs_augment_rgb_hue, 0.04f, 16.0 / 255);
    check_op("hue_0p5", gs_augment_rgb_hue, 0.5f, 16.0 / 255);
    check_op("grayscale", grayscale_op, 0, 2.0 / 255);
}

/* torchvision's kernel is 2 * ceil(3 sigma) + 1 wide in the fixture: the
 * radius geossl uses, so the two are the same filter. */
Test(datasets_augment_torchvision, gaussian_blur_matches) {
    const float sigmas[2] = {0.6f, 1.7f};
    const char *names[2] = {"blur_0p6", "blur_1p7"};
    float *scratch = malloc((size_t)gs_augment_blur_scratch(H, W) * sizeof *scratch), buf[N];
    for (int s = 0; s < 2; s++) {
        int64_t worst;
        memcpy(buf, tensor("image", N), sizeof buf);
        gs_augment_blur(buf, 3, H, W, sigmas[s], scratch);
        double err = max_abs(buf, tensor(names[s], N), N, &worst);
        cr_expect_leq(err, 1e-5, "%s: off torchvision by %g at %lld", names[s], err, (long long)worst);
    }
    free(scratch);
}

Test(datasets_augment_torchvision, resized_crop_matches) {
    float out[3 * 32 * 32];
    gs_augment_workspace ws = {0};
    gs_error err = {0};
    cr_assert_eq(gs_augment_resample(tensor("image", N), 3, H, W, (gs_crop_box){3, 5, 19, 13}, false, false, 0, out,
                                     32, 32, &ws, &err),
                 GS_OK, "%s", err.message);
    gs_augment_workspace_free(&ws);
    int64_t worst;
    double e = max_abs(out, tensor("resized_crop", 3 * 32 * 32), 3 * 32 * 32, &worst);
    cr_expect_leq(e, 1e-5, "resized crop off torchvision by %g at %lld", e, (long long)worst);
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* numpy.quantile's default (linear between order statistics). */
static double quantile(const double *sorted, int n, double q) {
    double pos = q * (n - 1);
    int lo = (int)pos;
    if (lo >= n - 1) return sorted[n - 1];
    return sorted[lo] + (pos - lo) * (sorted[lo + 1] - sorted[lo]);
}

/* 200,000 boxes on each side: a quantile's standard error is below 0.003
 * in area fraction and 0.002 in log ratio, so the bounds leave room for
 * any RNG while a wrong distribution (uniform ratio instead of log-uniform,
 * sqrt taken of the wrong side, scale read as side fraction) fails. */
Test(datasets_augment_torchvision, crop_distribution_matches_random_resized_crop) {
    enum { DRAWS = 200000 };
    double *area = malloc(DRAWS * sizeof *area), *ratio = malloc(DRAWS * sizeof *ratio);
    gs_rng rng;
    gs_rng_seed(&rng, 12345);
    int full = 0;
    for (int i = 0; i < DRAWS; i++) {
        gs_crop_box b = gs_augment_random_crop_box(&rng, 64, 64, (float[]){0.08f, 1.0f}, (float[]){0.75f, 4.0f / 3});
        area[i] = b.width * b.height / 4096.0;
        ratio[i] = log((double)b.width / b.height);
        full += b.width == 64 && b.height == 64;
    }
    qsort(area, DRAWS, sizeof *area, compare_double);
    qsort(ratio, DRAWS, sizeof *ratio, compare_double);
    const float *want_area = tensor("crop_area_quantiles", 19), *want_ratio = tensor("crop_log_ratio_quantiles", 19);
    for (int k = 0; k < 19; k++) {
        double q = (k + 1) * 0.05;
        double a = quantile(area, DRAWS, q), r = quantile(ratio, DRAWS, q);
        cr_expect(fabs(a - want_area[k]) < 0.012, "area quantile %.2f: %.4f, torchvision %.4f", q, a, want_area[k]);
        cr_expect(fabs(r - want_ratio[k]) < 0.012, "log-ratio quantile %.2f: %.4f, torchvision %.4f", q, r,
                  want_ratio[k]);
    }
    double rate = (double)full / DRAWS, want = tensor("crop_full_rate", 1)[0];
    cr_expect(fabs(rate - want) < 0.004, "whole-image boxes: %.4f of draws, torchvision %.4f", rate, want);
    free(area);
    free(ratio);
}

/* BYOL's and DINO's solarization through the whole view pipeline: the image
 * as 8-bit raw values, normalized with per-band statistics, solarized in
 * normalized units (solarize_raw), then mapped back to [0, 1].  The float
 * image must match torchvision's F.solarize at 0.5, the 8-bit one PIL's
 * ImageOps.solarize at 128 exactly up to float rounding: a reflection about
 * the normalized zero (solarize_raw off) or a threshold taken in the wrong
 * units fails both. */
static void solarize_view(const float *image01, float *out01) {
    static const float mean[3] = {120.0f, 90.5f, 140.25f}, std[3] = {50.0f, 61.0f, 33.5f};
    float raw[N];
    for (int i = 0; i < N; i++) raw[i] = image01[i] * 255.0f;
    gs_augment_config c = gs_augment_identity();
    c.solarize_p = 1;
    c.solarize_raw = true;
    c.solarize_threshold = 0.5f;
    gs_error err = {0};
    cr_assert_eq(gs_augment_check(&c, 3, H, W, &err), GS_OK, "%s", err.message);
    gs_augment_input in = {.pixels = raw, .dates = 1, .bands = 3, .height = H, .width = W, .mean = mean, .std = std};
    gs_augment_workspace ws = {0};
    gs_augment_record rec;
    gs_rng rng;
    gs_rng_seed(&rng, 1);
    cr_assert_eq(gs_augment_apply(&c, &in, &rng, &ws, out01, NULL, &rec, &err), GS_OK, "%s", err.message);
    gs_augment_workspace_free(&ws);
    cr_assert(rec.solarized);
    for (int b = 0; b < 3; b++)
        for (int i = 0; i < PLANE; i++) out01[b * PLANE + i] = (out01[b * PLANE + i] * std[b] + mean[b]) / 255.0f;
}

Test(datasets_augment_torchvision, solarize_matches_torchvision_and_pil) {
    float got[N];
    int64_t worst;
    solarize_view(tensor("image", N), got);
    double e = max_abs(got, tensor("solarize", N), N, &worst);
    cr_expect_leq(e, 1e-5, "solarize off torchvision by %g at %lld (%.5f vs %.5f)", e, (long long)worst, got[worst],
                  tensor("solarize", N)[worst]);
    solarize_view(tensor("image_u8", N), got);
    e = max_abs(got, tensor("pil_solarize", N), N, &worst);
    cr_expect_leq(e, 1e-5, "solarize off PIL by %g at %lld (%.5f vs %.5f)", e, (long long)worst, got[worst],
                  tensor("pil_solarize", N)[worst]);
}
