/* Segmentation metrics and label fractions as GLCNet's protocol counts them:
 * miou_tile_mean (../shared/specs/glcnet.md section 7: per tile IoU_k with an
 * absent class counted 0, averaged over tiles, then over all classes) on
 * hand-computed tiles, with its present-classes variant beside it; and label
 * fractions counted in tiles, round(fraction x tiles) and at least one,
 * which gives GLCNet's 1 % subset of Potsdam: 138 of 13,824 tiles. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "metrics.h"

#define IGN (-1)

/* Three classes, three tiles of four pixels.
 *   tile A: truth 0 0 1 1, prediction 0 1 1 1
 *     IoU_0 = 1/2, IoU_1 = 2/3, class 2 absent
 *     all classes: (1/2 + 2/3 + 0) / 3 = 7/18; present: (1/2 + 2/3) / 2 = 7/12
 *   tile B: truth 2 2 2 ignored, prediction 2 2 0 1 (the ignored pixel's 1 counts nowhere)
 *     IoU_0 = 0 / 1 (predicted, not true), IoU_2 = 2/3, class 1 absent
 *     all classes: (0 + 0 + 2/3) / 3 = 2/9 = 4/18; present: (0 + 2/3) / 2 = 1/3 = 4/12
 *   tile C: every pixel ignored: left out.
 * miou_tile_mean = (7/18 + 4/18) / 2 = 11/36; the spec's order (per class
 * over tiles: 1/4, 1/3, 1/3, then over classes) gives the same 11/36.
 * present variant = (7/12 + 4/12) / 2 = 11/24.
 * The dataset-level mIoU of the same pixels is 5/9 (IoU 1/3, 2/3, 2/3). */
Test(protocols_segment_metrics, tile_miou_by_hand) {
    const int32_t truth_a[] = {0, 0, 1, 1}, pred_a[] = {0, 1, 1, 1};
    const int32_t truth_b[] = {2, 2, 2, IGN}, pred_b[] = {2, 2, 0, 1};
    const int32_t truth_c[] = {IGN, IGN, IGN, IGN}, pred_c[] = {0, 1, 2, 0};
    gs_error err = {0};
    gs_tile_miou t;
    gs_confusion cm;
    cr_assert_eq(gs_tile_miou_init(&t, 3, IGN, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_confusion_init(&cm, 3, IGN, &err), GS_OK, "%s", err.message);
    cr_expect(isnan(gs_tile_miou_mean(&t)), "no tile yet: NaN");
    cr_assert_eq(gs_tile_miou_add(&t, truth_a, pred_a, 4, &err), GS_OK, "%s", err.message);
    cr_expect_float_eq(gs_tile_miou_mean(&t), 7.0 / 18.0, 1e-12);
    cr_expect_float_eq(gs_tile_miou_present_mean(&t), 7.0 / 12.0, 1e-12);
    cr_assert_eq(gs_tile_miou_add(&t, truth_b, pred_b, 4, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_tile_miou_add(&t, truth_c, pred_c, 4, &err), GS_OK, "%s", err.message);
    cr_expect_eq(t.tiles, 2, "the all-ignored tile is left out");
    cr_expect_float_eq(gs_tile_miou_mean(&t), 11.0 / 36.0, 1e-12, "got %.15f", gs_tile_miou_mean(&t));
    cr_expect_float_eq(gs_tile_miou_present_mean(&t), 11.0 / 24.0, 1e-12, "got %.15f",
                       gs_tile_miou_present_mean(&t));
    gs_confusion_add(&cm, truth_a, pred_a, 4, &err);
    gs_confusion_add(&cm, truth_b, pred_b, 4, &err);
    cr_expect_float_eq(gs_confusion_miou(&cm), 5.0 / 9.0, 1e-12, "the dataset-level mIoU is another number");
    /* A bad label is refused and changes nothing. */
    const int32_t bad_truth[] = {0, 3}, bad_pred[] = {0, 0};
    cr_expect_eq(gs_tile_miou_add(&t, bad_truth, bad_pred, 2, &err), GS_ERR_ARGUMENT);
    cr_expect_eq(t.tiles, 2);
    cr_expect_float_eq(gs_tile_miou_mean(&t), 11.0 / 36.0, 1e-12);
    gs_tile_miou_free(&t);
    gs_confusion_free(&cm);
}

/* A perfect prediction of a tile holding one class of three: 1/3 in
 * GLCNet's figure (the two absent classes count 0), 1 in the other. */
Test(protocols_segment_metrics, absent_classes_count_zero_in_glcnets_figure) {
    const int32_t truth[] = {1, 1, 1, 1};
    gs_error err = {0};
    gs_tile_miou t;
    cr_assert_eq(gs_tile_miou_init(&t, 3, IGN, &err), GS_OK, "%s", err.message);
    cr_assert_eq(gs_tile_miou_add(&t, truth, truth, 4, &err), GS_OK, "%s", err.message);
    cr_expect_float_eq(gs_tile_miou_mean(&t), 1.0 / 3.0, 1e-12);
    cr_expect_float_eq(gs_tile_miou_present_mean(&t), 1.0, 1e-12);
    gs_tile_miou_free(&t);
}

/* A dataset of n_train + n_test Potsdam-like tiles, built by hand (no
 * files: gs_split_label_subset reads only the stems and splits). */
typedef struct tile_set {
    gs_dataset ds;
    char (*stems)[48];
} tile_set;

static void make_tiles(tile_set *t, int64_t n_train, int64_t n_test) {
    memset(t, 0, sizeof *t);
    int64_t n = n_train + n_test;
    t->stems = calloc((size_t)n, sizeof *t->stems);
    t->ds.samples = calloc((size_t)n, sizeof *t->ds.samples);
    cr_assert(t->stems && t->ds.samples);
    t->ds.n_samples = n;
    t->ds.task = GS_TASK_SEGMENTATION;
    t->ds.n_classes = 6;
    t->ds.root = "hand-made";
    for (int64_t i = 0; i < n; i++) {
        snprintf(t->stems[i], sizeof t->stems[i], "top_potsdam_%lld_%lld_RGBIR", (long long)(i / 576),
                 (long long)(i % 576));
        t->ds.samples[i].stem = t->stems[i];
        t->ds.samples[i].label = -1;
        t->ds.samples[i].split = i < n_train ? GS_SPLIT_TRAIN : GS_SPLIT_TEST;
    }
}

static void free_tiles(tile_set *t) {
    free(t->stems);
    free(t->ds.samples);
}

static int64_t subset_size(const gs_dataset *ds, double fraction, uint64_t seed, int64_t **idx) {
    int64_t n = 0;
    gs_error err = {0};
    cr_assert_eq(gs_evaluate_training_samples(ds, fraction, seed, idx, &n, &err), GS_OK, "%s", err.message);
    return n;
}

Test(protocols_segment_metrics, label_fractions_count_tiles_as_glcnet) {
    tile_set t;
    make_tiles(&t, 13824, 8064); /* GLCNet's train and val lists (spec section 2) */
    int64_t *one, *ten, *all;
    int64_t n1 = subset_size(&t.ds, 0.01, 0, &one), n10 = subset_size(&t.ds, 0.10, 0, &ten),
            n100 = subset_size(&t.ds, 1.0, 0, &all);
    cr_expect_eq(n1, 138, "1%% of 13,824 tiles is GLCNet's trainR1 list of 138, got %lld", (long long)n1);
    cr_expect_eq(n10, 1382, "10%% of 13,824 tiles: %lld", (long long)n10);
    cr_expect_eq(n100, 13824);
    /* Training tiles only, and the 1 % subset inside the 10 % one. */
    int64_t j = 0;
    for (int64_t i = 0; i < n1; i++) {
        cr_expect_eq(t.ds.samples[one[i]].split, GS_SPLIT_TRAIN);
        while (j < n10 && ten[j] < one[i]) j++;
        cr_expect(j < n10 && ten[j] == one[i], "tile %lld of the 1%% subset is not in the 10%% one", (long long)one[i]);
    }
    free(one);
    free(ten);
    free(all);
    free_tiles(&t);
}

Test(protocols_segment_metrics, a_fraction_of_few_tiles_keeps_at_least_one) {
    tile_set t;
    make_tiles(&t, 64, 16);
    int64_t *idx;
    cr_expect_eq(subset_size(&t.ds, 0.01, 3, &idx), 1, "0.64 tiles: one tile");
    free(idx);
    cr_expect_eq(subset_size(&t.ds, 0.05, 3, &idx), 3, "3.2 tiles: 3");
    free(idx);
    cr_expect_eq(subset_size(&t.ds, 0.10, 3, &idx), 6, "6.4 tiles: 6");
    free(idx);
    cr_expect_eq(subset_size(&t.ds, 0.5, 3, &idx), 32);
    free(idx);
    free_tiles(&t);
}
