/* Metrics: a hand-written confusion matrix with the arithmetic in comments,
 * hand-made average-precision cases with tied scores, and scikit-learn's
 * values from tests/fixtures/sklearn_metrics.gsfx
 * (tools/reference/sklearn_metrics.py). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "metrics.h"
#include "test_paths.h"

/*            predicted
 *            0   1   2     truth totals
 * truth 0 [  5,  2,  1 ]   8
 * truth 1 [  1,  6,  3 ]   10
 * truth 2 [  0,  2,  4 ]   6
 * predicted  6  10   8     total 24          */
static const int64_t HAND[3][3] = {{5, 2, 1}, {1, 6, 3}, {0, 2, 4}};

/* Expands a count matrix into (truth, prediction) pairs and adds them. */
static void add_matrix(gs_confusion *cm, int n, const int64_t *counts) {
    int32_t truth[256], pred[256];
    int64_t m = 0;
    for (int t = 0; t < n; t++)
        for (int p = 0; p < n; p++)
            for (int64_t c = 0; c < counts[t * n + p]; c++) {
                truth[m] = t;
                pred[m] = p;
                m++;
            }
    gs_error err = {0};
    cr_assert_eq(gs_confusion_add(cm, truth, pred, m, &err), GS_OK, "%s", err.message);
}

static void hand_matrix(gs_confusion *cm, int n_classes) {
    gs_error err = {0};
    cr_assert_eq(gs_confusion_init(cm, n_classes, -1, &err), GS_OK, "%s", err.message);
    int64_t counts[16] = {0};
    for (int t = 0; t < 3; t++)
        for (int p = 0; p < 3; p++) counts[t * n_classes + p] = HAND[t][p];
    add_matrix(cm, n_classes, counts);
}

#define EXACT 1e-12

Test(metrics, hand_confusion_matrix) {
    gs_confusion cm;
    hand_matrix(&cm, 3);
    cr_assert_eq(gs_confusion_total(&cm), 24);
    for (int t = 0; t < 3; t++)
        for (int p = 0; p < 3; p++) cr_assert_eq(cm.counts[t * 3 + p], HAND[t][p]);

    /* Overall accuracy: trace / total = (5 + 6 + 4) / 24 = 0.625. */
    cr_assert_float_eq(gs_confusion_accuracy(&cm), 15.0 / 24.0, EXACT);

    /* Recall: 5/8, 6/10, 4/6; mean (0.625 + 0.6 + 0.6667) / 3 = 0.630556. */
    double v[3];
    gs_confusion_class_accuracy(&cm, v);
    cr_assert_float_eq(v[0], 5.0 / 8.0, EXACT);
    cr_assert_float_eq(v[1], 6.0 / 10.0, EXACT);
    cr_assert_float_eq(v[2], 4.0 / 6.0, EXACT);
    cr_assert_float_eq(gs_confusion_mean_class_accuracy(&cm), (5.0 / 8 + 6.0 / 10 + 4.0 / 6) / 3, EXACT);

    /* F1 = 2TP / (truth + predicted): 10/14, 12/20, 8/14.
     * Macro: (5/7 + 3/5 + 4/7) / 3 = (45 + 21 + 36) / 35 / 3 ... = 22/35 = 0.628571. */
    gs_confusion_f1(&cm, v);
    cr_assert_float_eq(v[0], 10.0 / 14.0, EXACT);
    cr_assert_float_eq(v[1], 12.0 / 20.0, EXACT);
    cr_assert_float_eq(v[2], 8.0 / 14.0, EXACT);
    cr_assert_float_eq(gs_confusion_macro_f1(&cm), 22.0 / 35.0, EXACT);

    /* IoU = TP / (truth + predicted - TP): 5/(8+6-5) = 5/9, 6/(10+10-6) = 3/7,
     * 4/(6+8-4) = 2/5.  mIoU = (175 + 135 + 126) / 315 / 3 = 436/945 = 0.461376. */
    gs_confusion_iou(&cm, v);
    cr_assert_float_eq(v[0], 5.0 / 9.0, EXACT);
    cr_assert_float_eq(v[1], 3.0 / 7.0, EXACT);
    cr_assert_float_eq(v[2], 2.0 / 5.0, EXACT);
    cr_assert_float_eq(gs_confusion_miou(&cm), 436.0 / 945.0, EXACT);

    /* Kappa: p_o = 15/24 = 360/576; p_e = (8*6 + 10*10 + 6*8) / 24^2 = 196/576;
     * (360 - 196) / (576 - 196) = 164/380 = 0.431579. */
    cr_assert_float_eq(gs_confusion_kappa(&cm), 164.0 / 380.0, EXACT);
    gs_confusion_free(&cm);
}

Test(metrics, absent_class_is_left_out_of_the_means) {
    /* The same counts with a fourth class never true, never predicted. */
    gs_confusion cm;
    hand_matrix(&cm, 4);
    double v[4];
    gs_confusion_iou(&cm, v);
    cr_assert(isnan(v[3]), "IoU of an absent class is %f, expected NaN", v[3]);
    gs_confusion_f1(&cm, v);
    cr_assert(isnan(v[3]));
    gs_confusion_class_accuracy(&cm, v);
    cr_assert(isnan(v[3]));
    cr_assert_float_eq(gs_confusion_miou(&cm), 436.0 / 945.0, EXACT);
    cr_assert_float_eq(gs_confusion_macro_f1(&cm), 22.0 / 35.0, EXACT);
    cr_assert_float_eq(gs_confusion_kappa(&cm), 164.0 / 380.0, EXACT);

    /* Predicted but never true: IoU 0 and counted in the mean. */
    int32_t truth[1] = {0}, pred[1] = {3};
    gs_error err = {0};
    cr_assert_eq(gs_confusion_add(&cm, truth, pred, 1, &err), GS_OK);
    gs_confusion_iou(&cm, v);
    cr_assert_float_eq(v[3], 0.0, EXACT);
    /* Class 0: TP 5, truth 9, predicted 6: 5/10.  (0.5 + 3/7 + 2/5 + 0) / 4. */
    cr_assert_float_eq(gs_confusion_miou(&cm), (0.5 + 3.0 / 7 + 0.4) / 4, EXACT);
    gs_confusion_free(&cm);
}

Test(metrics, ignore_index_skips_pixels) {
    gs_confusion cm;
    gs_error err = {0};
    cr_assert_eq(gs_confusion_init(&cm, 3, 255, &err), GS_OK);
    /* Pixels labelled 255 are skipped whatever was predicted there. */
    const int32_t truth[6] = {0, 255, 1, 255, 2, 2};
    const int32_t pred[6] = {0, 2, 1, 0, 2, 1};
    cr_assert_eq(gs_confusion_add(&cm, truth, pred, 6, &err), GS_OK, "%s", err.message);
    cr_assert_eq(cm.ignored, 2);
    cr_assert_eq(gs_confusion_total(&cm), 4);
    cr_assert_float_eq(gs_confusion_accuracy(&cm), 3.0 / 4.0, EXACT);
    /* IoU: class 0 1/1, class 1 1/2 (one FP from the last pixel), class 2 1/2. */
    cr_assert_float_eq(gs_confusion_miou(&cm), (1.0 + 0.5 + 0.5) / 3, EXACT);
    gs_confusion_free(&cm);
}

Test(metrics, bad_labels_are_reported_and_change_nothing) {
    gs_confusion cm;
    gs_error err = {0};
    cr_assert_eq(gs_confusion_init(&cm, 3, 1, &err), GS_ERR_ARGUMENT, "ignore index inside the classes accepted");
    cr_assert(strstr(err.message, "ignore index") != NULL, "%s", err.message);
    memset(&err, 0, sizeof err);
    cr_assert_eq(gs_confusion_init(&cm, 0, -1, &err), GS_ERR_ARGUMENT);

    memset(&err, 0, sizeof err);
    cr_assert_eq(gs_confusion_init(&cm, 3, -1, &err), GS_OK);
    const int32_t truth[3] = {0, 1, 3}, pred[3] = {0, 1, 1};
    cr_assert_eq(gs_confusion_add(&cm, truth, pred, 3, &err), GS_ERR_ARGUMENT);
    cr_assert(strstr(err.message, "true label 3") != NULL, "%s", err.message);
    cr_assert_eq(gs_confusion_total(&cm), 0, "a rejected batch was partly counted");
    const int32_t truth2[2] = {0, 1}, pred2[2] = {0, -1};
    memset(&err, 0, sizeof err);
    cr_assert_eq(gs_confusion_add(&cm, truth2, pred2, 2, &err), GS_ERR_ARGUMENT);
    cr_assert(strstr(err.message, "predicted class -1") != NULL, "%s", err.message);
    cr_assert(isnan(gs_confusion_accuracy(&cm)));
    cr_assert(isnan(gs_confusion_kappa(&cm)));
    gs_confusion_free(&cm);
}

Test(metrics, merge_adds_counts) {
    gs_confusion a, b, c;
    hand_matrix(&a, 3);
    hand_matrix(&b, 3);
    gs_error err = {0};
    cr_assert_eq(gs_confusion_merge(&a, &b, &err), GS_OK);
    cr_assert_eq(gs_confusion_total(&a), 48);
    cr_assert_float_eq(gs_confusion_kappa(&a), 164.0 / 380.0, EXACT);
    cr_assert_eq(gs_confusion_init(&c, 4, -1, &err), GS_OK);
    cr_assert_eq(gs_confusion_merge(&a, &c, &err), GS_ERR_SHAPE);
    gs_confusion_free(&a);
    gs_confusion_free(&b);
    gs_confusion_free(&c);
}

static double ap_of(const float *scores, const uint8_t *targets, int64_t n) {
    double ap = -1;
    gs_error err = {0};
    cr_assert_eq(gs_average_precision(scores, targets, n, 1, &ap, &err), GS_OK, "%s", err.message);
    return ap;
}

Test(metrics, average_precision_by_hand) {
    /* Distinct scores: ranks 1..4 are +, -, +, -.
     * AP = (1/2) * 1/1 + (1/2) * 2/3 = 5/6. */
    const float s1[4] = {0.9f, 0.7f, 0.6f, 0.1f};
    const uint8_t t1[4] = {1, 0, 1, 0};
    cr_assert_float_eq(ap_of(s1, t1, 4), 5.0 / 6.0, EXACT);

    /* Ties: after 0.9 (a negative) the three 0.5s enter together:
     * tp 2, seen 4, P = 1/2, recall 0 -> 1.  AP = 1 * 1/2 = 0.5.  Ranking
     * the tie by index would give (1/2)(1/3) + (1/2)(2/4) = 5/12, by reverse
     * index (1/2)(1/2) + (1/2)(2/3) = 7/12. */
    const float s2[4] = {0.9f, 0.5f, 0.5f, 0.5f};
    const uint8_t t2[4] = {0, 0, 1, 1};
    cr_assert_float_eq(ap_of(s2, t2, 4), 0.5, EXACT);

    /* No positive: undefined. */
    const uint8_t t3[4] = {0, 0, 0, 0};
    cr_assert(isnan(ap_of(s1, t3, 4)));

    /* Strided: the second column of a 4 x 2 matrix is s1 / t1. */
    const float s4[8] = {0, 0.9f, 0, 0.7f, 0, 0.6f, 0, 0.1f};
    const uint8_t t4[8] = {0, 1, 1, 0, 0, 1, 1, 0};
    double ap = 0;
    gs_error err = {0};
    cr_assert_eq(gs_average_precision(s4 + 1, t4 + 1, 4, 2, &ap, &err), GS_OK);
    cr_assert_float_eq(ap, 5.0 / 6.0, EXACT);

    /* Non-finite scores are refused with a message. */
    const float s5[2] = {0.5f, NAN};
    cr_assert_eq(gs_average_precision(s5, t1, 2, 1, &ap, &err), GS_ERR_ARGUMENT);
    cr_assert(strstr(err.message, "finite") != NULL, "%s", err.message);
}

Test(metrics, multilabel_map_by_hand) {
    /* Class 0 is s1/t1 above (5/6), class 1 has no positive, class 2 ranks
     * its single positive first (1).  Macro = (5/6 + 1) / 2 = 11/12.
     * Micro ranks all 12 pairs: 0.9 (+), 0.9 (-), 0.8 (+), 0.7 (-), 0.6 (+),
     * then the rest negative:  0.9 tie: tp 1 seen 2 -> R 1/3, P 1/2;
     * 0.8: tp 2 seen 3 -> P 2/3; 0.7: no new positive; 0.6: tp 3 seen 5 -> P 3/5.
     * Micro = (1/3)(1/2 + 2/3 + 3/5) = 53/90. */
    const float scores[12] = {0.9f, 0.9f, 0.8f, 0.7f, 0.3f, 0.2f, 0.6f, 0.1f, 0.1f, 0.1f, 0.2f, 0.1f};
    const uint8_t targets[12] = {1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0};
    double per_class[3];
    gs_map map;
    gs_error err = {0};
    cr_assert_eq(gs_multilabel_map(scores, targets, 4, 3, per_class, &map, &err), GS_OK, "%s", err.message);
    cr_assert_float_eq(per_class[0], 5.0 / 6.0, EXACT);
    cr_assert(isnan(per_class[1]));
    cr_assert_float_eq(per_class[2], 1.0, EXACT);
    cr_assert_eq(map.classes_with_positives, 2);
    cr_assert_float_eq(map.macro, 11.0 / 12.0, EXACT);
    cr_assert_float_eq(map.micro, 53.0 / 90.0, EXACT);
}

/* ---- scikit-learn fixtures ---- */

/* float32 fixture values: 1e-6 is above their rounding and far below any
 * counting or tie-handling mistake. */
#define SKLEARN_TOL 1e-6

static fixture *load_fixture(void) {
    char path[1024];
    fixture *fx = fixture_load(test_fixture_path("sklearn_metrics.gsfx", path, sizeof path));
    cr_assert_not_null(fx, "missing %s (tools/reference/sklearn_metrics.py writes it)", path);
    return fx;
}

static const fixture_tensor *get(const fixture *fx, const char *prefix, int index, const char *name) {
    char key[128];
    snprintf(key, sizeof key, "%s%d.%s", prefix, index, name);
    const fixture_tensor *t = fixture_get(fx, key);
    cr_assert_not_null(t, "fixture lacks %s", key);
    return t;
}

static void expect_close(double got, double want, const char *what, int index, int k) {
    if (isnan(want)) {
        cr_expect(isnan(got), "case %d %s[%d]: got %.9f, sklearn has none (NaN)", index, what, k, got);
        return;
    }
    cr_expect(fabs(got - want) <= SKLEARN_TOL, "case %d %s[%d]: got %.9f, sklearn %.9f", index, what, k, got, want);
}

static int32_t *to_int(const fixture_tensor *t) {
    int32_t *out = malloc((size_t)t->numel * sizeof *out);
    for (int64_t i = 0; i < t->numel; i++) out[i] = (int32_t)t->data[i];
    return out;
}

Test(metrics, confusion_metrics_match_sklearn) {
    fixture *fx = load_fixture();
    const int cases = (int)fixture_get(fx, "cm.cases")->data[0];
    cr_assert_geq(cases, 4);
    for (int i = 0; i < cases; i++) {
        const fixture_tensor *expected = get(fx, "cm", i, "confusion");
        const int c = (int)expected->shape[0];
        int32_t *truth = to_int(get(fx, "cm", i, "truth")), *pred = to_int(get(fx, "cm", i, "pred"));
        gs_confusion cm;
        gs_error err = {0};
        cr_assert_eq(gs_confusion_init(&cm, c, -1, &err), GS_OK);
        cr_assert_eq(gs_confusion_add(&cm, truth, pred, get(fx, "cm", i, "truth")->numel, &err), GS_OK, "%s",
                     err.message);
        for (int64_t k = 0; k < (int64_t)c * c; k++)
            cr_expect_eq(cm.counts[k], (int64_t)expected->data[k], "case %d cell %lld", i, (long long)k);
        cr_expect_eq(cm.ignored, (int64_t)get(fx, "cm", i, "ignored")->data[0]);

        double v[64];
        cr_assert_leq(c, 64);
        expect_close(gs_confusion_accuracy(&cm), get(fx, "cm", i, "accuracy")->data[0], "accuracy", i, 0);
        expect_close(gs_confusion_mean_class_accuracy(&cm), get(fx, "cm", i, "balanced_accuracy")->data[0],
                     "balanced accuracy", i, 0);
        expect_close(gs_confusion_macro_f1(&cm), get(fx, "cm", i, "macro_f1")->data[0], "macro F1", i, 0);
        expect_close(gs_confusion_miou(&cm), get(fx, "cm", i, "miou")->data[0], "mIoU", i, 0);
        expect_close(gs_confusion_kappa(&cm), get(fx, "cm", i, "kappa")->data[0], "kappa", i, 0);
        gs_confusion_class_accuracy(&cm, v);
        for (int k = 0; k < c; k++) expect_close(v[k], get(fx, "cm", i, "recall")->data[k], "recall", i, k);
        gs_confusion_f1(&cm, v);
        for (int k = 0; k < c; k++) expect_close(v[k], get(fx, "cm", i, "f1")->data[k], "F1", i, k);
        gs_confusion_iou(&cm, v);
        for (int k = 0; k < c; k++) expect_close(v[k], get(fx, "cm", i, "iou")->data[k], "IoU", i, k);
        gs_confusion_free(&cm);
        free(truth);
        free(pred);
    }
    fixture_free(fx);
}

Test(metrics, average_precision_matches_sklearn) {
    fixture *fx = load_fixture();
    const int cases = (int)fixture_get(fx, "ap.cases")->data[0];
    cr_assert_geq(cases, 4);
    for (int i = 0; i < cases; i++) {
        const fixture_tensor *scores = get(fx, "ap", i, "scores"), *targets_f = get(fx, "ap", i, "targets");
        const int64_t n = scores->shape[0];
        const int c = (int)scores->shape[1];
        uint8_t *targets = malloc((size_t)targets_f->numel);
        for (int64_t k = 0; k < targets_f->numel; k++) targets[k] = targets_f->data[k] != 0.0f;
        double *per_class = malloc((size_t)c * sizeof *per_class);
        gs_map map;
        gs_error err = {0};
        cr_assert_eq(gs_multilabel_map(scores->data, targets, n, c, per_class, &map, &err), GS_OK, "%s",
                     err.message);
        for (int k = 0; k < c; k++) expect_close(per_class[k], get(fx, "ap", i, "ap")->data[k], "AP", i, k);
        expect_close(map.macro, get(fx, "ap", i, "macro")->data[0], "macro mAP", i, 0);
        expect_close(map.micro, get(fx, "ap", i, "micro")->data[0], "micro mAP", i, 0);
        free(targets);
        free(per_class);
    }
    fixture_free(fx);
}
