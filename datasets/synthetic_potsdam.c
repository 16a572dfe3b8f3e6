/* ISPRS Potsdam layout: 4_Ortho_RGBIR/top_potsdam_<a>_<b>_RGBIR.tif (4 x
 * uint8, R, G, B, IR with the IR band tagged alpha as the real files are),
 * and next to that folder the colour-coded labels top_potsdam_<a>_<b>_label.tif
 * and their eroded-boundary versions top_potsdam_<a>_<b>_label_noBoundary.tif,
 * for official training and test tile ids.
 *
 * A tile is a small town block drawn label-first: straight roads
 * (impervious), rectangular buildings beside them, parking lots, trees as
 * blobs on the grass, cars as small rectangles on roads and lots, a little
 * clutter; the image is then painted from the labels with per-object
 * colours, textures and building shadows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "synthetic_internal.h"

enum { IMPERVIOUS, BUILDING, LOW_VEGETATION, TREE, CAR, CLUTTER, N_POTSDAM_CLASSES };

/* The ISPRS palette (R, G, B), as ../shared/data/README.md gives it. */
static const unsigned char PALETTE[N_POTSDAM_CLASSES][3] = {
    [IMPERVIOUS] = {255, 255, 255}, [BUILDING] = {0, 0, 255}, [LOW_VEGETATION] = {0, 255, 255},
    [TREE] = {0, 255, 0},           [CAR] = {255, 255, 0},    [CLUTTER] = {255, 0, 0},
};

/* The official tile split of the ISPRS 2D semantic labeling benchmark
 * (Potsdam): 24 training tiles, 14 test tiles. */
static const char *const TRAIN_TILES[] = {"2_10", "2_11", "2_12", "3_10", "3_11", "3_12", "4_10", "4_11",
                                          "4_12", "5_10", "5_11", "5_12", "6_7",  "6_8",  "6_9",  "6_10",
                                          "6_11", "6_12", "7_7",  "7_8",  "7_9",  "7_10", "7_11", "7_12"};
static const char *const TEST_TILES[] = {"2_13", "2_14", "3_13", "3_14", "4_13", "4_14", "4_15",
                                         "5_13", "5_14", "5_15", "6_13", "6_14", "6_15", "7_13"};
#define N_TRAIN ((int)(sizeof TRAIN_TILES / sizeof *TRAIN_TILES))
#define N_TEST ((int)(sizeof TEST_TILES / sizeof *TEST_TILES))

#define PI_F 3.14159265358979f
#define BOUNDARY_RADIUS 3 /* the eroded labels leave 3 px around class borders unlabeled */

typedef struct tile {
    int side;
    unsigned char *labels; /* side x side class ids */
    float *image;          /* 4 x side x side, 0..255 */
    float *mask, *field;   /* work planes */
    float angle;           /* the street layout's orientation */
    gs_rng rng;
} tile;

static size_t at(const tile *t, int x, int y) { return (size_t)y * t->side + x; }

/* True when a rotated rectangle (with margin) touches any pixel of the classes in `blocked`. */
static bool rect_blocked(const tile *t, float cx, float cy, float hx, float hy, unsigned blocked) {
    float ca = cosf(t->angle), sa = sinf(t->angle), reach = sqrtf(hx * hx + hy * hy);
    int x0 = (int)fmaxf(0, cx - reach), x1 = (int)fminf(t->side - 1, cx + reach);
    int y0 = (int)fmaxf(0, cy - reach), y1 = (int)fminf(t->side - 1, cy + reach);
    if (cx - hx < 0 || cy - hy < 0 || cx + hx >= t->side || cy + hy >= t->side) return true;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            float u = (x - cx) * ca + (y - cy) * sa, v = -(x - cx) * sa + (y - cy) * ca;
            if (fabsf(u) <= hx && fabsf(v) <= hy && (blocked >> t->labels[at(t, x, y)] & 1u)) return true;
        }
    return false;
}

static void stamp_rect(tile *t, float cx, float cy, float hx, float hy, float angle, unsigned char cls) {
    memset(t->mask, 0, sizeof(float) * (size_t)t->side * t->side);
    synth_rect(t->mask, t->side, t->side, cx, cy, hx, hy, angle, 1.0f);
    for (size_t i = 0; i < (size_t)t->side * t->side; i++)
        if (t->mask[i] >= 0.5f) t->labels[i] = cls;
}

static void draw_labels(tile *t) {
    int s = t->side;
    float S = (float)s;
    memset(t->labels, LOW_VEGETATION, (size_t)s * s);
    /* Streets: two to three, along or across the layout angle. */
    t->angle = synth_uniform(&t->rng, -0.12f, 0.12f);
    int roads = synth_int(&t->rng, 2, 3);
    for (int k = 0; k < roads; k++) {
        float angle = t->angle + (k % 2 ? 0.5f * PI_F : 0.0f);
        memset(t->mask, 0, sizeof(float) * (size_t)s * s);
        synth_band(t->mask, s, s, synth_uniform(&t->rng, 0.15f, 0.85f) * S, synth_uniform(&t->rng, 0.15f, 0.85f) * S,
                   angle, synth_uniform(&t->rng, 0.05f, 0.08f) * S, 1.0f);
        for (size_t i = 0; i < (size_t)s * s; i++)
            if (t->mask[i] >= 0.5f) t->labels[i] = IMPERVIOUS;
    }
    /* Buildings clear of the streets, each maybe with a paved yard. */
    int target = synth_int(&t->rng, 4, 8), placed = 0;
    for (int attempt = 0; attempt < 60 && placed < target; attempt++) {
        float hx = synth_uniform(&t->rng, 0.04f, 0.12f) * S, hy = synth_uniform(&t->rng, 0.04f, 0.12f) * S;
        float cx = synth_uniform(&t->rng, 0.0f, S), cy = synth_uniform(&t->rng, 0.0f, S), margin = 0.02f * S;
        if (rect_blocked(t, cx, cy, hx + margin, hy + margin, 1u << IMPERVIOUS | 1u << BUILDING)) continue;
        stamp_rect(t, cx, cy, hx, hy, t->angle, BUILDING);
        placed++;
    }
    /* A parking lot with rows of cars. */
    float lot_hx = synth_uniform(&t->rng, 0.08f, 0.14f) * S, lot_hy = synth_uniform(&t->rng, 0.06f, 0.1f) * S;
    for (int attempt = 0; attempt < 30; attempt++) {
        float cx = synth_uniform(&t->rng, 0.0f, S), cy = synth_uniform(&t->rng, 0.0f, S);
        if (rect_blocked(t, cx, cy, lot_hx, lot_hy, 1u << BUILDING)) continue;
        stamp_rect(t, cx, cy, lot_hx, lot_hy, t->angle, IMPERVIOUS);
        float car_l = 0.018f * S, car_w = 0.008f * S, ca = cosf(t->angle), sa = sinf(t->angle);
        for (float v = -lot_hy + 2 * car_l; v <= lot_hy - car_l; v += 3.0f * car_l)
            for (float u = -lot_hx + 2 * car_w; u <= lot_hx - 2 * car_w; u += 2.6f * car_w)
                if (gs_rng_uniform(&t->rng) < 0.6f)
                    stamp_rect(t, cx + u * ca - v * sa, cy + u * sa + v * ca, car_w, car_l, t->angle, CAR);
        break;
    }
    /* Trees: blobs on the grass, a few more along the streets. */
    memset(t->field, 0, sizeof(float) * (size_t)s * s);
    synth_noise(t->field, s, s, 6.0f, 3, 0.5f, &t->rng);
    synth_threshold(t->field, s * s, synth_uniform(&t->rng, 0.25f, 0.4f), 0.02f);
    for (size_t i = 0; i < (size_t)s * s; i++)
        if (t->field[i] >= 0.5f && t->labels[i] == LOW_VEGETATION) t->labels[i] = TREE;
    /* Cars on the streets, along the street they stand on. */
    int cars = synth_int(&t->rng, 4, 12);
    for (int k = 0, tries = 0; k < cars && tries < 200; tries++) {
        float cx = synth_uniform(&t->rng, 0.0f, S), cy = synth_uniform(&t->rng, 0.0f, S);
        if (t->labels[at(t, (int)cx, (int)cy)] != IMPERVIOUS) continue;
        float angle = t->angle + (gs_rng_uniform(&t->rng) < 0.5f ? 0.0f : 0.5f * PI_F);
        stamp_rect(t, cx, cy, 0.018f * S, 0.008f * S, angle, CAR);
        k++;
    }
    /* Clutter: a few small heaps anywhere but on buildings. */
    int heaps = synth_int(&t->rng, 1, 3);
    for (int k = 0; k < heaps; k++) {
        memset(t->mask, 0, sizeof(float) * (size_t)s * s);
        synth_disc(t->mask, s, s, synth_uniform(&t->rng, 0.0f, S), synth_uniform(&t->rng, 0.0f, S),
                   synth_uniform(&t->rng, 0.015f, 0.04f) * S, 0.0f, 1.0f);
        for (size_t i = 0; i < (size_t)s * s; i++)
            if (t->mask[i] >= 0.5f && t->labels[i] != BUILDING) t->labels[i] = CLUTTER;
    }
}

/* Colours (R, G, B, IR) per class; buildings and cars pick per object. */
static void class_colour(int cls, gs_rng *rng, float *rgbi) {
    static const float base[N_POTSDAM_CLASSES][4] = {
        [IMPERVIOUS] = {150, 148, 142, 110}, [BUILDING] = {170, 95, 75, 150}, [LOW_VEGETATION] = {110, 135, 80, 190},
        [TREE] = {60, 85, 48, 170},          [CAR] = {40, 40, 45, 50},        [CLUTTER] = {130, 112, 90, 120},
    };
    static const float roofs[4][4] = {{170, 95, 75, 150}, {120, 120, 125, 100}, {80, 80, 88, 80}, {205, 200, 192, 170}};
    static const float cars[5][4] = {
        {40, 40, 45, 50}, {210, 210, 215, 200}, {150, 30, 30, 90}, {40, 60, 130, 60}, {130, 130, 135, 120}};
    const float *c = cls == BUILDING ? roofs[gs_rng_below(rng, 4)]
                     : cls == CAR    ? cars[gs_rng_below(rng, 5)]
                                     : base[cls];
    for (int b = 0; b < 4; b++) rgbi[b] = c[b] * synth_uniform(rng, 0.92f, 1.08f);
}

/* Labels a connected object by flood fill from (x, y) so each building or
 * car gets one colour; returns the pixels painted. */
static int paint_object(tile *t, int x, int y, const float *rgbi, unsigned char *done, int *stack) {
    int s = t->side, n = 0, top = 0;
    unsigned char cls = t->labels[at(t, x, y)];
    stack[top++] = y * s + x;
    done[y * s + x] = 1;
    size_t plane = (size_t)s * s;
    while (top > 0) {
        int i = stack[--top], px = i % s, py = i / s;
        for (int b = 0; b < 4; b++) t->image[b * plane + i] = rgbi[b];
        n++;
        const int nx[4] = {px - 1, px + 1, px, px}, ny[4] = {py, py, py - 1, py + 1};
        for (int k = 0; k < 4; k++) {
            if (nx[k] < 0 || ny[k] < 0 || nx[k] >= s || ny[k] >= s) continue;
            int j = ny[k] * s + nx[k];
            if (!done[j] && t->labels[j] == cls) {
                done[j] = 1;
                stack[top++] = j;
            }
        }
    }
    return n;
}

static gs_status paint_image(tile *t, gs_error *err) {
    int s = t->side;
    size_t plane = (size_t)s * s;
    unsigned char *done = calloc(plane, 1);
    int *stack = malloc(sizeof(int) * plane);
    if (!done || !stack) {
        free(done);
        free(stack);
        return gs_error_set(err, GS_ERR_MEMORY, "out of memory painting a Potsdam tile");
    }
    float grass[4], trees[4], paved[4], clutter[4];
    class_colour(LOW_VEGETATION, &t->rng, grass);
    class_colour(TREE, &t->rng, trees);
    class_colour(IMPERVIOUS, &t->rng, paved);
    class_colour(CLUTTER, &t->rng, clutter);
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            size_t i = at(t, x, y);
            int cls = t->labels[i];
            if (cls == BUILDING || cls == CAR) {
                if (!done[i]) {
                    float rgbi[4];
                    class_colour(cls, &t->rng, rgbi);
                    paint_object(t, x, y, rgbi, done, stack);
                }
                continue;
            }
            const float *c = cls == LOW_VEGETATION ? grass : cls == TREE ? trees : cls == IMPERVIOUS ? paved : clutter;
            for (int b = 0; b < 4; b++) t->image[b * plane + i] = c[b];
        }
    /* Texture: fine noise on everything, stronger on trees and grass. */
    synth_noise(t->field, s, s, 0.15f * s, 3, 0.55f, &t->rng);
    for (size_t i = 0; i < plane; i++) {
        int cls = t->labels[i];
        float amp = cls == TREE ? 0.6f : cls == LOW_VEGETATION ? 0.3f : 0.12f;
        float f = 1.0f + amp * (t->field[i] - 0.5f);
        for (int b = 0; b < 4; b++) t->image[b * plane + i] *= f;
    }
    /* Building shadows fall towards the lower right, on anything lower. */
    int dx = (int)(0.015f * s) + 1, dy = dx;
    for (int y = s - 1; y >= 0; y--)
        for (int x = s - 1; x >= 0; x--) {
            if (t->labels[at(t, x, y)] == BUILDING) continue;
            bool shaded = false;
            for (int k = 1; k <= dx && !shaded; k++)
                shaded = x - k >= 0 && y - k * dy / dx >= 0 && t->labels[at(t, x - k, y - k * dy / dx)] == BUILDING;
            if (shaded)
                for (int b = 0; b < 4; b++) t->image[b * plane + at(t, x, y)] *= 0.55f;
        }
    free(done);
    free(stack);
    for (size_t i = 0; i < 4 * plane; i++) t->image[i] += 3.0f * gs_rng_normal(&t->rng);
    return GS_OK;
}

static gs_status write_labels(const tile *t, const char *path, bool eroded, gs_error *err) {
    int s = t->side;
    gs_raster r;
    if (gs_raster_alloc(&r, 3, s, s, err) != GS_OK) return err->status;
    size_t plane = (size_t)s * s;
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            int cls = t->labels[at(t, x, y)];
            bool border = false;
            for (int ddy = -BOUNDARY_RADIUS; eroded && ddy <= BOUNDARY_RADIUS && !border; ddy++)
                for (int ddx = -BOUNDARY_RADIUS; ddx <= BOUNDARY_RADIUS && !border; ddx++) {
                    int xx = x + ddx, yy = y + ddy;
                    if (ddx * ddx + ddy * ddy > BOUNDARY_RADIUS * BOUNDARY_RADIUS || xx < 0 || yy < 0 || xx >= s ||
                        yy >= s)
                        continue;
                    border = t->labels[at(t, xx, yy)] != cls;
                }
            for (int b = 0; b < 3; b++) r.data[b * plane + at(t, x, y)] = border ? 0.0f : PALETTE[cls][b];
        }
    gs_tiff_write(path, &r, GS_PIXEL_U8, 0, err);
    gs_raster_free(&r);
    return err->status;
}

static gs_status write_tile(const char *dir, const char *id, int side, uint64_t seed, int index, tile *t,
                            gs_error *err) {
    t->rng = synth_item_rng(seed, "potsdam", (uint64_t)index, 0);
    draw_labels(t);
    if (paint_image(t, err) != GS_OK) return err->status;
    char path[4096];
    gs_raster r = {.width = side, .height = side, .bands = 4, .type = GS_PIXEL_U8, .data = t->image};
    if (synth_path(path, sizeof path, err, "%s/4_Ortho_RGBIR/top_potsdam_%s_RGBIR.tif", dir, id) != GS_OK ||
        gs_tiff_write(path, &r, GS_PIXEL_U8, 0, err) != GS_OK)
        return err->status;
    if (synth_path(path, sizeof path, err, "%s/top_potsdam_%s_label.tif", dir, id) != GS_OK ||
        write_labels(t, path, false, err) != GS_OK)
        return err->status;
    if (synth_path(path, sizeof path, err, "%s/top_potsdam_%s_label_noBoundary.tif", dir, id) != GS_OK)
        return err->status;
    return write_labels(t, path, true, err);
}

gs_status synth_write_potsdam(const char *dir, const gs_synth_options *opt, gs_error *err) {
    int side = opt->size ? opt->size : 512, n_train = opt->count ? opt->count : 4;
    if (n_train > N_TRAIN) n_train = N_TRAIN; /* refused earlier by gs_synth_write */
    int n_test = (n_train + 1) / 2 < N_TEST ? (n_train + 1) / 2 : N_TEST;
    size_t plane = (size_t)side * side;
    tile t = {.side = side,
              .labels = malloc(plane),
              .image = malloc(sizeof(float) * 4 * plane),
              .mask = malloc(sizeof(float) * plane),
              .field = malloc(sizeof(float) * plane)};
    char path[4096];
    if (!t.labels || !t.image || !t.mask || !t.field)
        gs_error_set(err, GS_ERR_MEMORY, "out of memory for a %d px Potsdam tile", side);
    else if (synth_path(path, sizeof path, err, "%s/4_Ortho_RGBIR", dir) == GS_OK && synth_mkdir(path, err) == GS_OK) {
        for (int i = 0; i < n_train && err->status == GS_OK; i++)
            write_tile(dir, TRAIN_TILES[i], side, opt->seed, i, &t, err);
        for (int i = 0; i < n_test && err->status == GS_OK; i++)
            write_tile(dir, TEST_TILES[i], side, opt->seed, N_TRAIN + i, &t, err);
    }
    free(t.labels);
    free(t.image);
    free(t.mask);
    free(t.field);
    return err->status;
}
