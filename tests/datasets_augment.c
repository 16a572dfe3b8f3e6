/* Augmentations against hand-computed small cases: flips and quarter turns
 * exact (images and masks), bilinear values PyTorch gives, crop boxes and
 * their mapping back to source pixels, the blur of an impulse, colour ops,
 * solarize on normalized data, determinism given the RNG. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "augment.h"

static void expect_plane(const float *got, const float *want, int n, const char *what) {
    for (int i = 0; i < n; i++) cr_expect_float_eq(got[i], want[i], 1e-6, "%s: [%d] = %g, want %g", what, i, got[i], want[i]);
}

static const gs_crop_box FULL3 = {0, 0, 3, 3};

/* The resample with a throwaway workspace. */
#define RESAMPLE(...)                                                                 \
    do {                                                                              \
        gs_augment_workspace ws_ = {0};                                               \
        gs_error err_ = {0};                                                          \
        cr_assert_eq(gs_augment_resample(__VA_ARGS__, &ws_, &err_), GS_OK, "%s", err_.message); \
        gs_augment_workspace_free(&ws_);                                              \
    } while (0)

Test(datasets_augment, flips_and_quarter_turns_are_exact) {
    float src[9], out[9];
    for (int i = 0; i < 9; i++) src[i] = (float)i;
    struct {
        bool h, v;
        int k;
        float want[9];
    } cases[] = {
        {false, false, 0, {0, 1, 2, 3, 4, 5, 6, 7, 8}}, {true, false, 0, {2, 1, 0, 5, 4, 3, 8, 7, 6}},
        {false, true, 0, {6, 7, 8, 3, 4, 5, 0, 1, 2}},  {false, false, 1, {2, 5, 8, 1, 4, 7, 0, 3, 6}},
        {false, false, 2, {8, 7, 6, 5, 4, 3, 2, 1, 0}}, {false, false, 3, {6, 3, 0, 7, 4, 1, 8, 5, 2}},
        /* hflip then a counter-clockwise turn is the transpose */
        {true, false, 1, {0, 3, 6, 1, 4, 7, 2, 5, 8}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        RESAMPLE(src, 1, 3, 3, FULL3, cases[c].h, cases[c].v, cases[c].k, out, 3, 3);
        char what[64];
        snprintf(what, sizeof what, "case %zu (h=%d v=%d k=%d)", c, cases[c].h, cases[c].v, cases[c].k);
        expect_plane(out, cases[c].want, 9, what);
        int32_t msrc[9], mout[9];
        for (int i = 0; i < 9; i++) msrc[i] = i + 10;
        gs_augment_resample_mask(msrc, 3, 3, FULL3, cases[c].h, cases[c].v, cases[c].k, mout, 3, 3);
        for (int i = 0; i < 9; i++) cr_expect_eq(mout[i], (int32_t)cases[c].want[i] + 10, "mask %s [%d]", what, i);
    }
}

Test(datasets_augment, flips_on_a_non_square_image_and_two_planes) {
    float src[12] = {0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15}, out[12];
    RESAMPLE(src, 2, 2, 3, (gs_crop_box){0, 0, 3, 2}, true, true, 0, out, 2, 3);
    float want[12] = {5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10};
    expect_plane(out, want, 12, "h+v flip of 2x3");
}

Test(datasets_augment, bilinear_matches_pytorch_align_corners_false) {
    /* F.interpolate(x, 4, mode='bilinear', align_corners=False) of
     * [[0,1],[2,3]] weighs rows and columns by 0, 1/4, 3/4, 1. */
    float src[4] = {0, 1, 2, 3}, out[16];
    RESAMPLE(src, 1, 2, 2, (gs_crop_box){0, 0, 2, 2}, false, false, 0, out, 4, 4);
    const float w[4] = {0, 0.25f, 0.75f, 1};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) cr_expect_float_eq(out[i * 4 + j], 2 * w[i] + w[j], 1e-6, "up (%d,%d)", i, j);
    /* 4x4 -> 2x2 samples between pixel pairs: the mean of each 2x2 block. */
    float big[16], small[4];
    for (int i = 0; i < 16; i++) big[i] = (float)i;
    RESAMPLE(big, 1, 4, 4, (gs_crop_box){0, 0, 4, 4}, false, false, 0, small, 2, 2);
    expect_plane(small, (float[]){2.5f, 4.5f, 10.5f, 12.5f}, 4, "down 4->2");
    /* A box at the output size is a plain copy of the box. */
    RESAMPLE(big, 1, 4, 4, (gs_crop_box){1, 1, 2, 2}, false, false, 0, small, 2, 2);
    expect_plane(small, (float[]){5, 6, 9, 10}, 4, "box copy");
}

Test(datasets_augment, crop_box_follows_torchvision) {
    gs_rng rng;
    gs_rng_seed(&rng, 1);
    gs_crop_box b = gs_augment_random_crop_box(&rng, 8, 8, (float[]){1, 1}, (float[]){1, 1});
    cr_expect(b.x == 0 && b.y == 0 && b.width == 8 && b.height == 8, "full box: %d %d %d %d", b.x, b.y, b.width, b.height);
    /* Ratio 4 never fits an 8x8 image at full area: after 10 tries, the
     * centre crop of ratio 4: width 8, height round(8 / 4) = 2. */
    b = gs_augment_random_crop_box(&rng, 8, 8, (float[]){1, 1}, (float[]){4, 4});
    cr_expect(b.x == 0 && b.y == 3 && b.width == 8 && b.height == 2, "fallback: %d %d %d %d", b.x, b.y, b.width, b.height);
    int seen_x[5] = {0};
    for (int t = 0; t < 2000; t++) {
        b = gs_augment_random_crop_box(&rng, 8, 8, (float[]){0.25f, 0.25f}, (float[]){1, 1});
        cr_assert(b.width == 4 && b.height == 4 && b.x >= 0 && b.x <= 4 && b.y >= 0 && b.y <= 4, "%d %d %d %d", b.x,
                  b.y, b.width, b.height);
        seen_x[b.x]++;
    }
    for (int x = 0; x <= 4; x++) cr_expect_gt(seen_x[x], 250, "offset %d drawn %d times in 2000", x, seen_x[x]);
    for (int t = 0; t < 2000; t++) {
        b = gs_augment_random_crop_box(&rng, 64, 48, (float[]){0.08f, 1}, (float[]){0.75f, 4.0f / 3});
        cr_assert(b.x >= 0 && b.y >= 0 && b.x + b.width <= 48 && b.y + b.height <= 64 && b.width > 0 && b.height > 0);
        double frac = (double)b.width * b.height / (64 * 48), ratio = (double)b.width / b.height;
        cr_assert(frac > 0.07 && frac < 1.01 && ratio > 0.7 && ratio < 1.4, "area %g ratio %g", frac, ratio);
    }
}

/* On a linear ramp value = x + 100 y (pixel index), bilinear sampling is
 * exact away from the edges, so every output value says where it came from:
 * gs_augment_to_source must agree for every flip and turn. */
Test(datasets_augment, crop_box_maps_back_to_source_for_every_flip_and_turn) {
    enum { H = 12, W = 12 };
    float src[H * W], out[16];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) src[y * W + x] = (float)(x + 100 * y);
    gs_crop_box box = {2, 4, 8, 6};
    for (int k = 0; k < 4; k++)
        for (int f = 0; f < 4; f++) {
            gs_augment_record rec = {.box = box, .hflip = f & 1, .vflip = f >> 1, .rot90 = k};
            RESAMPLE(src, 1, H, W, box, rec.hflip, rec.vflip, k, out, 4, 4);
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) {
                    float sx, sy;
                    gs_augment_to_source(&rec, 4, 4, j + 0.5f, i + 0.5f, &sx, &sy);
                    float want = (sx - 0.5f) + 100 * (sy - 0.5f);
                    cr_expect_float_eq(out[i * 4 + j], want, 1e-3, "k=%d flips=%d (%d,%d): %g vs %g", k, f, i, j,
                                       out[i * 4 + j], want);
                }
        }
    /* Corners of the output land on the box's corners. */
    gs_augment_record rec = {.box = box};
    float sx, sy;
    gs_augment_to_source(&rec, 4, 4, 0, 0, &sx, &sy);
    cr_expect(sx == 2 && sy == 4);
    gs_augment_to_source(&rec, 4, 4, 4, 4, &sx, &sy);
    cr_expect(sx == 10 && sy == 10);
}

Test(datasets_augment, blur_of_an_impulse_is_the_gaussian) {
    enum { N = 9 };
    float img[N * N] = {0}, scratch[N * N + N + 2 * 96];
    img[4 * N + 4] = 1;
    gs_augment_blur(img, 1, N, N, 1.0f, scratch);
    double g[7], total = 0;
    for (int t = -3; t <= 3; t++) total += g[t + 3] = exp(-t * t / 2.0);
    double sum = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            int di = i - 4, dj = j - 4;
            double want = (abs(di) <= 3 && abs(dj) <= 3) ? g[di + 3] / total * g[dj + 3] / total : 0;
            cr_expect_float_eq(img[i * N + j], want, 1e-6, "(%d,%d) %g vs %g", i, j, img[i * N + j], want);
            sum += img[i * N + j];
        }
    cr_expect_float_eq(sum, 1.0, 1e-5);
    /* Reflect padding (no edge repeat): an impulse next to the edge is seen
     * twice by the edge pixel, at distance 1 on both sides. */
    float row[5] = {0, 1, 0, 0, 0}, s5[5 + 5 + 2 * 96];
    gs_augment_blur(row, 1, 1, 5, 1.0f, s5);
    cr_expect_float_eq(row[0], 2 * g[2] / total, 1e-6, "edge %g", row[0]);
    cr_expect_float_eq(row[1], g[3] / total + g[1] / total, 1e-6, "index 1 also sees its reflection at -2: %g", row[1]);
}

Test(datasets_augment, solarize_on_normalized_values) {
    float x[5] = {-1.5f, -0.2f, 0, 0.3f, 2};
    gs_augment_solarize(x, 5, 0);
    expect_plane(x, (float[]){-1.5f, -0.2f, 0, -0.3f, -2}, 5, "t=0");
    float y[5] = {-1.5f, -0.2f, 0, 0.3f, 2};
    gs_augment_solarize(y, 5, 0.5f);
    expect_plane(y, (float[]){-1.5f, -0.2f, 0, 0.3f, -1}, 5, "t=0.5");
    /* Through a view: uint16 digital numbers, band mean 1000, std 500.
     * 3000 -> 4 -> -4; 900 -> -0.2 stays. */
    float raw[4] = {3000, 900, 1000, 1500}, out[4];
    gs_augment_config c = gs_augment_identity();
    c.solarize_p = 1;
    gs_augment_input in = {.pixels = raw, .dates = 1, .bands = 1, .height = 2, .width = 2,
                           .mean = (float[]){1000}, .std = (float[]){500}};
    gs_rng rng;
    gs_rng_seed(&rng, 3);
    gs_augment_workspace ws = {0};
    gs_augment_record rec;
    gs_error err = {0};
    cr_assert_eq(gs_augment_apply(&c, &in, &rng, &ws, out, NULL, &rec, &err), GS_OK);
    cr_expect(rec.solarized);
    expect_plane(out, (float[]){-4, -0.2f, 0, -1}, 4, "normalized uint16 solarize");
    gs_augment_workspace_free(&ws);
}

Test(datasets_augment, colour_operations) {
    float rgb[6] = {1, 0.2f, 0, 0.5f, 0, 0.8f}; /* two pixels: (1,0,0) (0.2,0.5,0.8) */
    float g[6];
    memcpy(g, rgb, sizeof g);
    gs_augment_rgb_grayscale(g, 2);
    float l1 = 0.299f * 0.2f + 0.587f * 0.5f + 0.114f * 0.8f;
    expect_plane(g, (float[]){0.299f, l1, 0.299f, l1, 0.299f, l1}, 6, "grayscale");
    float b[6];
    memcpy(b, rgb, sizeof b);
    gs_augment_rgb_brightness(b, 2, 1.5f);
    expect_plane(b, (float[]){1, 0.3f, 0, 0.75f, 0, 1}, 6, "brightness clamps at 1");
    float s[6];
    memcpy(s, rgb, sizeof s);
    gs_augment_rgb_saturation(s, 2, 0);
    expect_plane(s, g, 6, "saturation 0 is grayscale");
    float k[6];
    memcpy(k, rgb, sizeof k);
    gs_augment_rgb_contrast(k, 2, 0);
    float m = (0.299f + l1) / 2;
    expect_plane(k, (float[]){m, m, m, m, m, m}, 6, "contrast 0 is the mean luma");
    float h[6] = {1, 0.5f, 0, 0.5f, 0, 0.5f}; /* red, mid gray */
    gs_augment_rgb_hue(h, 2, 1.0f / 3);
    expect_plane(h, (float[]){0, 0.5f, 1, 0.5f, 0, 0.5f}, 6, "red + 1/3 turn is green; gray stays");
    float c2[3] = {1, 0, 0};
    gs_augment_rgb_hue(c2, 1, -0.5f);
    expect_plane(c2, (float[]){0, 1, 1}, 3, "red - 1/2 turn is cyan");
    float y[3] = {1, 1, 0};
    gs_augment_rgb_hue(y, 1, 1.0f / 6);
    expect_plane(y, (float[]){0, 1, 0}, 3, "yellow + 1/6 turn is green");
    /* A whole turn, or none, gives the colour back. */
    gs_rng rng;
    gs_rng_seed(&rng, 5);
    float many[3 * 64], back[3 * 64];
    for (int i = 0; i < 3 * 64; i++) many[i] = back[i] = gs_rng_uniform(&rng);
    gs_augment_rgb_hue(back, 64, 0);
    expect_plane(back, many, 3 * 64, "hue shift 0");
    gs_augment_rgb_hue(back, 64, 0.5f);
    gs_augment_rgb_hue(back, 64, 0.5f);
    for (int i = 0; i < 3 * 64; i++) cr_expect_float_eq(back[i], many[i], 1e-5, "two half turns [%d]", i);
    float p[3] = {1, 2, 3};
    gs_augment_band_jitter(p, 3, 0.5f, 2);
    expect_plane(p, (float[]){0.5f, 2.5f, 4.5f}, 3, "band jitter around the mean");
}

/* Masks follow the image's geometry with nearest sampling: each output mask
 * value is the source pixel under the output pixel's centre. */
Test(datasets_augment, views_are_deterministic_and_masks_follow) {
    enum { H = 20, W = 24, B = 3 };
    float src[B * H * W];
    int32_t mask[H * W];
    for (int i = 0; i < B * H * W; i++) src[i] = (float)((i * 37) % 255);
    for (int i = 0; i < H * W; i++) mask[i] = i;
    gs_augment_config c;
    gs_error err = {0};
    cr_assert_eq(gs_augment_preset("simclr", B, 8, &c, &err), GS_OK);
    c.vflip_p = 0.5f;
    c.rot90_p = 0.75f;
    c.solarize_p = 0.3f;
    cr_assert_eq(gs_augment_check(&c, B, H, W, &err), GS_OK, "%s", err.message);
    gs_augment_input in = {.pixels = src, .mask = mask, .dates = 1, .bands = B, .height = H, .width = W,
                           .mean = (float[]){100, 110, 120}, .std = (float[]){50, 60, 70}};
    gs_augment_workspace ws = {0};
    int turns_seen = 0, flips_seen = 0;
    for (uint64_t seed = 0; seed < 40; seed++) {
        float a[B * 64], b[B * 64];
        int32_t ma[64], mb[64];
        gs_augment_record ra, rb;
        gs_rng r1, r2;
        gs_rng_seed(&r1, seed);
        gs_rng_seed(&r2, seed);
        cr_assert_eq(gs_augment_apply(&c, &in, &r1, &ws, a, ma, &ra, &err), GS_OK);
        cr_assert_eq(gs_augment_apply(&c, &in, &r2, &ws, b, mb, &rb, &err), GS_OK);
        cr_assert_eq(memcmp(a, b, sizeof a), 0, "seed %llu: same RNG, different pixels", (unsigned long long)seed);
        cr_assert_eq(memcmp(ma, mb, sizeof ma), 0);
        cr_assert(ra.box.x >= 0 && ra.box.y >= 0 && ra.box.x + ra.box.width <= W && ra.box.y + ra.box.height <= H);
        turns_seen += ra.rot90 != 0;
        flips_seen += ra.hflip || ra.vflip;
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < 8; j++) {
                float sx, sy;
                gs_augment_to_source(&ra, 8, 8, j + 0.5f, i + 0.5f, &sx, &sy);
                int32_t want = (int32_t)sy * W + (int32_t)sx;
                cr_assert_eq(ma[i * 8 + j], want, "seed %llu (%d,%d): mask %d, source pixel %d", (unsigned long long)seed,
                             i, j, ma[i * 8 + j], want);
            }
    }
    cr_expect_gt(turns_seen, 0);
    cr_expect_gt(flips_seen, 0);
    gs_augment_workspace_free(&ws);
}

Test(datasets_augment, dates_share_one_geometry) {
    enum { H = 10, W = 10 };
    float src[2 * 2 * H * W], out[2 * 2 * 36];
    for (int i = 0; i < 2 * H * W; i++) src[i] = src[2 * H * W + i] = (float)(i % 97);
    gs_augment_config c;
    gs_error err = {0};
    cr_assert_eq(gs_augment_preset("simclr", 2, 6, &c, &err), GS_OK);
    gs_augment_input in = {.pixels = src, .dates = 2, .bands = 2, .height = H, .width = W};
    gs_augment_workspace ws = {0};
    gs_rng rng;
    gs_rng_seed(&rng, 9);
    gs_augment_record rec;
    for (int t = 0; t < 10; t++) {
        cr_assert_eq(gs_augment_apply(&c, &in, &rng, &ws, out, NULL, &rec, &err), GS_OK);
        cr_expect_eq(memcmp(out, out + 2 * 36, sizeof(float) * 2 * 36), 0, "the two dates differ");
    }
    gs_augment_workspace_free(&ws);
}

Test(datasets_augment, config_errors) {
    gs_augment_config c = gs_augment_identity();
    gs_error err = {0};
    c.color_jitter_p = 0.8f;
    cr_expect_eq(gs_augment_check(&c, 13, 64, 64, &err), GS_ERR_ARGUMENT);
    cr_expect(strstr(err.message, "13") != NULL, "%s", err.message);
    c = gs_augment_identity();
    c.crop = true;
    c.crop_scale[0] = 0;
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_augment_check(&c, 3, 64, 64, &err), GS_ERR_ARGUMENT);
    c = gs_augment_identity();
    c.out_height = 32;
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_augment_check(&c, 3, 64, 64, &err), GS_ERR_ARGUMENT, "a height without a width");
    memset(&err, 0, sizeof err);
    cr_expect_eq(gs_augment_preset("moco-v9", 3, 64, &c, &err), GS_ERR_ARGUMENT);
}

/* SimCLR's blur is the paper's 0.1-2.0 px at 224 px, scaled to the view:
 * the same fraction of the image at any size. */
Test(datasets_augment, simclr_blur_sigma_scales_with_the_view) {
    gs_augment_config c;
    gs_error err = {0};
    cr_assert_eq(gs_augment_preset("simclr", 3, 224, &c, &err), GS_OK, "%s", err.message);
    cr_expect_float_eq(c.blur_sigma[0], 0.1f, 1e-6);
    cr_expect_float_eq(c.blur_sigma[1], 2.0f, 1e-6);
    cr_assert_eq(gs_augment_preset("simclr", 3, 64, &c, &err), GS_OK, "%s", err.message);
    cr_expect_float_eq(c.blur_sigma[0], 0.1f * 64 / 224, 1e-6);
    cr_expect_float_eq(c.blur_sigma[1], 2.0f * 64 / 224, 1e-6, "64 px views: sigma up to %g px", c.blur_sigma[1]);
}

/* Each method's views are its paper's: MoCo v2 crops from 20% of the area,
 * BYOL's and DINO's two views are asymmetric (blur always / rarely,
 * solarize never / at 0.2, saturation 0.2), DINO's local crops small. */
Test(datasets_augment, presets_follow_the_papers) {
    gs_augment_config c[8];
    gs_error err = {0};
    const char *names[] = {"simclr", "mocov2", "byol-1", "byol-2", "dino-global-1", "dino-global-2", "dino-local"};
    for (int i = 0; i < 7; i++) {
        cr_assert_eq(gs_augment_preset(names[i], 3, 64, &c[i], &err), GS_OK, "%s: %s", names[i], err.message);
        cr_assert_str_eq(gs_augment_preset_name(i + 1), names[i], "listing order");
        cr_expect(c[i].crop && c[i].hflip_p == 0.5f && c[i].color_jitter_p == 0.8f && c[i].grayscale_p == 0.2f,
                  "%s", names[i]);
        cr_expect_eq(gs_augment_check(&c[i], 3, 64, 64, &err), GS_OK, "%s: %s", names[i], err.message);
    }
    cr_expect_null(gs_augment_preset_name(8));
    cr_expect(c[0].crop_scale[0] == 0.08f && c[0].saturation == 0.4f && c[0].blur_p == 0.5f && c[0].solarize_p == 0);
    cr_expect(c[1].crop_scale[0] == 0.2f && c[1].saturation == 0.4f && c[1].blur_p == 0.5f);
    cr_expect(c[2].blur_p == 1.0f && c[2].solarize_p == 0 && c[2].saturation == 0.2f);
    cr_expect(c[3].blur_p == 0.1f && c[3].solarize_p == 0.2f && c[3].solarize_raw && c[3].solarize_threshold == 0.5f);
    cr_expect(c[4].crop_scale[0] == 0.4f && c[4].blur_p == 1.0f && c[4].solarize_p == 0);
    cr_expect(c[5].crop_scale[0] == 0.4f && c[5].blur_p == 0.1f && c[5].solarize_p == 0.2f);
    cr_expect(c[6].crop_scale[0] == 0.05f && c[6].crop_scale[1] == 0.4f && c[6].blur_p == 0.5f);
    /* 13 bands: per-band jitter, solarize about each band's mean. */
    gs_augment_config ms;
    cr_assert_eq(gs_augment_preset("byol-2", 13, 64, &ms, &err), GS_OK);
    cr_expect(ms.color_jitter_p == 0 && ms.band_jitter_p == 0.8f && !ms.solarize_raw && ms.solarize_threshold == 0);
    cr_expect_eq(gs_augment_check(&ms, 13, 64, 64, &err), GS_OK, "%s", err.message);
    ms.solarize_raw = true;
    cr_expect_eq(gs_augment_check(&ms, 13, 64, 64, &err), GS_ERR_ARGUMENT, "solarize_raw on 13 bands");
    cr_expect(strstr(err.message, "solarize_raw"), "%s", err.message);
}

Test(datasets_augment, settings_override_by_key_and_refuse_bad_values) {
    gs_augment_config c, base;
    gs_error err = {0};
    cr_assert_eq(gs_augment_preset("simclr", 3, 64, &base, &err), GS_OK);
    c = base;
    cr_assert_eq(gs_augment_set(&c, "blur_sigma=0.1:2,crop_scale=0.2:1,hue=0.05,crop=0,vflip_p=0.5", &err), GS_OK,
                 "%s", err.message);
    cr_expect(c.blur_sigma[0] == 0.1f && c.blur_sigma[1] == 2.0f);
    cr_expect(c.crop_scale[0] == 0.2f && c.crop_scale[1] == 1.0f);
    cr_expect(c.hue == 0.05f && !c.crop && c.vflip_p == 0.5f);
    cr_expect(c.brightness == base.brightness, "keys not named keep their values");
    cr_expect_eq(gs_augment_set(&c, NULL, &err), GS_OK);
    const char *bad[] = {"blurr_sigma=1:2", "blur_p=1.5", "blur_sigma=2:1", "blur_sigma=0:1", "hue=nan",
                         "brightness=-1", "crop=yes", "blur_p", "blur_sigma=1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        gs_augment_config d = base;
        memset(&err, 0, sizeof err);
        cr_expect_eq(gs_augment_set(&d, bad[i], &err), GS_ERR_ARGUMENT, "'%s' accepted", bad[i]);
        char key[32];
        snprintf(key, sizeof key, "%.*s", (int)strcspn(bad[i], "="), bad[i]);
        cr_expect(strstr(err.message, key) != NULL, "'%s': message '%s' does not name the key", bad[i], err.message);
    }
    memset(&err, 0, sizeof err);
    gs_augment_set(&c, "blurr_sigma=1:2", &err);
    cr_expect(strstr(err.message, "blur_sigma") != NULL, "an unknown key lists the known ones: %s", err.message);
}

/* What --print-config prints can be typed back: printing, then reading the
 * printed values into the identity recipe, gives the recipe again. */
Test(datasets_augment, printed_recipe_reads_back) {
    gs_augment_config c, back = gs_augment_identity();
    gs_error err = {0};
    cr_assert_eq(gs_augment_preset("simclr", 3, 64, &c, &err), GS_OK);
    char text[4096] = {0};
    FILE *f = fmemopen(text, sizeof text - 1, "w");
    gs_augment_print(f, "", &c);
    fclose(f);
    back.out_height = back.out_width = 64;
    char settings[4096] = {0};
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "size", 4)) continue;
        char *hash = strstr(line, "  #");
        if (hash) *hash = '\0';
        char key[64], value[64];
        cr_assert_eq(sscanf(line, "%63s = %63s", key, value), 2, "line '%s'", line);
        strcat(settings, *settings ? "," : "");
        strcat(settings, key);
        strcat(settings, "=");
        strcat(settings, value);
    }
    cr_assert_eq(gs_augment_set(&back, settings, &err), GS_OK, "%s: %s", settings, err.message);
    cr_expect(!memcmp(&back, &c, sizeof c), "the recipe read back from '%s' differs", settings);
}
