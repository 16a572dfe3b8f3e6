#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

gs_status gs_confusion_init(gs_confusion *cm, int n_classes, int32_t ignore_index, gs_error *err) {
    memset(cm, 0, sizeof *cm);
    if (n_classes <= 0)
        return gs_error_set(err, GS_ERR_ARGUMENT, "confusion matrix: %d classes; pass the dataset's class count (> 0)",
                            n_classes);
    if (ignore_index >= 0 && ignore_index < n_classes)
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "confusion matrix: ignore index %d is class %d of %d; pick a value outside the classes "
                            "(e.g. -1 or 255)",
                            (int)ignore_index, (int)ignore_index, n_classes);
    cm->counts = calloc((size_t)n_classes * (size_t)n_classes, sizeof *cm->counts);
    if (!cm->counts)
        return gs_error_set(err, GS_ERR_MEMORY, "confusion matrix: cannot allocate %d x %d counts", n_classes,
                            n_classes);
    cm->n_classes = n_classes;
    cm->ignore_index = ignore_index;
    return GS_OK;
}

void gs_confusion_free(gs_confusion *cm) {
    free(cm->counts);
    memset(cm, 0, sizeof *cm);
}

void gs_confusion_reset(gs_confusion *cm) {
    if (cm->counts) memset(cm->counts, 0, (size_t)cm->n_classes * (size_t)cm->n_classes * sizeof *cm->counts);
    cm->ignored = 0;
}

gs_status gs_confusion_add(gs_confusion *cm, const int32_t *truth, const int32_t *predicted, int64_t n,
                           gs_error *err) {
    if (!cm->counts || n < 0 || (n > 0 && (!truth || !predicted)))
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "confusion matrix: add needs an initialized matrix and n >= 0 truth/prediction pairs");
    const int c = cm->n_classes;
    /* Checked before counting so a bad batch leaves the matrix as it was. */
    for (int64_t i = 0; i < n; i++) {
        if (truth[i] == cm->ignore_index) continue;
        if (truth[i] < 0 || truth[i] >= c)
            return gs_error_set(err, GS_ERR_ARGUMENT,
                                "confusion matrix: true label %d at position %lld is outside 0..%d and is not the "
                                "ignore index %d",
                                (int)truth[i], (long long)i, c - 1, (int)cm->ignore_index);
        if (predicted[i] < 0 || predicted[i] >= c)
            return gs_error_set(err, GS_ERR_ARGUMENT,
                                "confusion matrix: predicted class %d at position %lld is outside 0..%d",
                                (int)predicted[i], (long long)i, c - 1);
    }
    for (int64_t i = 0; i < n; i++) {
        if (truth[i] == cm->ignore_index) {
            cm->ignored++;
            continue;
        }
        cm->counts[(int64_t)truth[i] * c + predicted[i]]++;
    }
    return GS_OK;
}

gs_status gs_confusion_merge(gs_confusion *into, const gs_confusion *from, gs_error *err) {
    if (!into->counts || !from->counts || into->n_classes != from->n_classes)
        return gs_error_set(err, GS_ERR_SHAPE, "confusion matrix: cannot merge %d classes into %d", from->n_classes,
                            into->n_classes);
    const int64_t cells = (int64_t)into->n_classes * into->n_classes;
    for (int64_t i = 0; i < cells; i++) into->counts[i] += from->counts[i];
    into->ignored += from->ignored;
    return GS_OK;
}

int64_t gs_confusion_total(const gs_confusion *cm) {
    int64_t total = 0;
    const int64_t cells = (int64_t)cm->n_classes * cm->n_classes;
    for (int64_t i = 0; i < cells; i++) total += cm->counts[i];
    return total;
}

/* Per-class true positives, row sums (truth) and column sums (predictions). */
typedef struct class_counts {
    int64_t tp, truth, predicted;
} class_counts;

static class_counts counts_of(const gs_confusion *cm, int k) {
    class_counts out = {0, 0, 0};
    const int c = cm->n_classes;
    out.tp = cm->counts[(int64_t)k * c + k];
    for (int j = 0; j < c; j++) {
        out.truth += cm->counts[(int64_t)k * c + j];
        out.predicted += cm->counts[(int64_t)j * c + k];
    }
    return out;
}

/* Mean of the non-NaN values; NaN when there are none. */
static double mean_defined(const double *values, int n) {
    double sum = 0.0;
    int count = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(values[i])) {
            sum += values[i];
            count++;
        }
    return count ? sum / count : NAN;
}

double gs_confusion_accuracy(const gs_confusion *cm) {
    const int64_t total = gs_confusion_total(cm);
    if (total == 0) return NAN;
    int64_t trace = 0;
    for (int k = 0; k < cm->n_classes; k++) trace += cm->counts[(int64_t)k * cm->n_classes + k];
    return (double)trace / (double)total;
}

void gs_confusion_class_accuracy(const gs_confusion *cm, double *out) {
    for (int k = 0; k < cm->n_classes; k++) {
        class_counts c = counts_of(cm, k);
        out[k] = c.truth ? (double)c.tp / (double)c.truth : NAN;
    }
}

/* The per-class buffers below are small (one double per class), so the
 * means allocate; on allocation failure they return NaN rather than crash. */
static double mean_of(const gs_confusion *cm, void (*per_class)(const gs_confusion *, double *)) {
    double *values = malloc((size_t)cm->n_classes * sizeof *values);
    if (!values) return NAN;
    per_class(cm, values);
    double mean = mean_defined(values, cm->n_classes);
    free(values);
    return mean;
}

double gs_confusion_mean_class_accuracy(const gs_confusion *cm) { return mean_of(cm, gs_confusion_class_accuracy); }

void gs_confusion_f1(const gs_confusion *cm, double *out) {
    for (int k = 0; k < cm->n_classes; k++) {
        class_counts c = counts_of(cm, k);
        /* 2TP + FP + FN = truth + predicted. */
        const int64_t denominator = c.truth + c.predicted;
        out[k] = denominator ? 2.0 * (double)c.tp / (double)denominator : NAN;
    }
}

double gs_confusion_macro_f1(const gs_confusion *cm) { return mean_of(cm, gs_confusion_f1); }

void gs_confusion_iou(const gs_confusion *cm, double *out) {
    for (int k = 0; k < cm->n_classes; k++) {
        class_counts c = counts_of(cm, k);
        /* TP + FP + FN = truth + predicted - TP. */
        const int64_t union_count = c.truth + c.predicted - c.tp;
        out[k] = union_count ? (double)c.tp / (double)union_count : NAN;
    }
}

double gs_confusion_miou(const gs_confusion *cm) { return mean_of(cm, gs_confusion_iou); }

double gs_confusion_kappa(const gs_confusion *cm) {
    const int64_t total = gs_confusion_total(cm);
    if (total == 0) return NAN;
    const double t = (double)total;
    double observed = 0.0, expected = 0.0;
    for (int k = 0; k < cm->n_classes; k++) {
        class_counts c = counts_of(cm, k);
        observed += (double)c.tp / t;
        expected += ((double)c.truth / t) * ((double)c.predicted / t);
    }
    if (expected == 1.0) return NAN;
    return (observed - expected) / (1.0 - expected);
}

/* ---- tile-averaged IoU ---- */

gs_status gs_tile_miou_init(gs_tile_miou *t, int n_classes, int32_t ignore_index, gs_error *err) {
    memset(t, 0, sizeof *t);
    if (n_classes <= 0)
        return gs_error_set(err, GS_ERR_ARGUMENT, "tile mIoU: %d classes; pass the dataset's class count (> 0)",
                            n_classes);
    if (ignore_index >= 0 && ignore_index < n_classes)
        return gs_error_set(err, GS_ERR_ARGUMENT, "tile mIoU: ignore index %d is one of the %d classes",
                            (int)ignore_index, n_classes);
    t->counts = calloc((size_t)n_classes * 3, sizeof *t->counts);
    if (!t->counts) return gs_error_set(err, GS_ERR_MEMORY, "tile mIoU: cannot allocate %d class counts", n_classes);
    t->n_classes = n_classes;
    t->ignore_index = ignore_index;
    return GS_OK;
}

void gs_tile_miou_free(gs_tile_miou *t) {
    free(t->counts);
    memset(t, 0, sizeof *t);
}

gs_status gs_tile_miou_add(gs_tile_miou *t, const int32_t *truth, const int32_t *predicted, int64_t n,
                           gs_error *err) {
    if (!t->counts || n < 0 || (n > 0 && (!truth || !predicted)))
        return gs_error_set(err, GS_ERR_ARGUMENT, "tile mIoU: add needs an initialized metric and n >= 0 pixels");
    const int c = t->n_classes;
    int64_t *both = t->counts, *in_truth = t->counts + c, *in_pred = t->counts + 2 * c;
    memset(t->counts, 0, (size_t)c * 3 * sizeof *t->counts);
    int64_t scored = 0;
    for (int64_t i = 0; i < n; i++) {
        if (truth[i] == t->ignore_index) continue;
        if (truth[i] < 0 || truth[i] >= c || predicted[i] < 0 || predicted[i] >= c)
            return gs_error_set(err, GS_ERR_ARGUMENT, "tile mIoU: pixel %lld has truth %d and prediction %d; both "
                                "must be in 0..%d", (long long)i, (int)truth[i], (int)predicted[i], c - 1);
        in_truth[truth[i]]++;
        in_pred[predicted[i]]++;
        both[truth[i]] += truth[i] == predicted[i];
        scored++;
    }
    if (scored == 0) return GS_OK;
    double sum = 0.0;
    int present = 0;
    for (int k = 0; k < c; k++) {
        const int64_t union_count = in_truth[k] + in_pred[k] - both[k];
        if (union_count == 0) continue; /* absent from both: 0 in GLCNet's mean, left out of the other */
        sum += (double)both[k] / (double)union_count;
        present++;
    }
    t->sum_all += sum / c;
    t->sum_present += sum / present;
    t->tiles++;
    return GS_OK;
}

double gs_tile_miou_mean(const gs_tile_miou *t) { return t->tiles ? t->sum_all / (double)t->tiles : NAN; }

double gs_tile_miou_present_mean(const gs_tile_miou *t) {
    return t->tiles ? t->sum_present / (double)t->tiles : NAN;
}

/* ---- average precision ---- */

typedef struct scored {
    float score;
    uint8_t positive;
} scored;

/* Decreasing score.  Equal scores form one threshold group, so their order
 * inside the group never reaches the result. */
static int by_decreasing_score(const void *a, const void *b) {
    const float x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x < y) - (x > y);
}

/* AP of items already gathered into `items` (sorted here). */
static double average_precision_sorted(scored *items, int64_t n) {
    int64_t positives = 0;
    for (int64_t i = 0; i < n; i++) positives += items[i].positive;
    if (positives == 0) return NAN;
    qsort(items, (size_t)n, sizeof *items, by_decreasing_score);
    double ap = 0.0;
    int64_t tp = 0, seen = 0, tp_before = 0;
    for (int64_t i = 0; i < n;) {
        const float threshold = items[i].score;
        /* Every item tied at this score enters at once, as sklearn's
         * precision_recall_curve does with its distinct-value thresholds. */
        while (i < n && items[i].score == threshold) {
            tp += items[i].positive;
            seen++;
            i++;
        }
        const double precision = (double)tp / (double)seen;
        ap += ((double)(tp - tp_before) / (double)positives) * precision;
        tp_before = tp;
    }
    return ap;
}

static gs_status gather(const float *scores, const uint8_t *targets, int64_t n, int64_t stride, scored *items,
                        gs_error *err) {
    for (int64_t i = 0; i < n; i++) {
        const float s = scores[i * stride];
        if (!isfinite(s))
            return gs_error_set(err, GS_ERR_ARGUMENT,
                                "average precision: score %lld is %f; scores must be finite (check the model "
                                "output for NaN/Inf)",
                                (long long)i, (double)s);
        items[i].score = s;
        items[i].positive = targets[i * stride] != 0;
    }
    return GS_OK;
}

gs_status gs_average_precision(const float *scores, const uint8_t *targets, int64_t n, int64_t stride,
                               double *ap, gs_error *err) {
    if (!scores || !targets || !ap || n <= 0 || stride <= 0)
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "average precision: needs scores, targets, n > 0 (got %lld) and stride > 0 (got %lld)",
                            (long long)n, (long long)stride);
    scored *items = malloc((size_t)n * sizeof *items);
    if (!items)
        return gs_error_set(err, GS_ERR_MEMORY, "average precision: cannot allocate %lld items", (long long)n);
    gs_status status = gather(scores, targets, n, stride, items, err);
    if (status == GS_OK) *ap = average_precision_sorted(items, n);
    free(items);
    return status;
}

gs_status gs_multilabel_map(const float *scores, const uint8_t *targets, int64_t n, int n_classes,
                            double *per_class, gs_map *out, gs_error *err) {
    if (!scores || !targets || !out || n <= 0 || n_classes <= 0)
        return gs_error_set(err, GS_ERR_ARGUMENT,
                            "multi-label mAP: needs n x n_classes scores and targets (got n = %lld, %d classes)",
                            (long long)n, n_classes);
    const int64_t total = n * n_classes;
    scored *items = malloc((size_t)total * sizeof *items);
    if (!items)
        return gs_error_set(err, GS_ERR_MEMORY, "multi-label mAP: cannot allocate %lld items", (long long)total);
    gs_status status = GS_OK;
    double sum = 0.0;
    int defined = 0;
    for (int k = 0; k < n_classes && status == GS_OK; k++) {
        status = gather(scores + k, targets + k, n, n_classes, items, err);
        if (status != GS_OK) break;
        const double ap = average_precision_sorted(items, n);
        if (per_class) per_class[k] = ap;
        if (!isnan(ap)) {
            sum += ap;
            defined++;
        }
    }
    if (status == GS_OK) {
        /* Micro: the pooled ranking of every (sample, class) pair. */
        status = gather(scores, targets, total, 1, items, err);
        if (status == GS_OK) {
            out->micro = average_precision_sorted(items, total);
            out->macro = defined ? sum / defined : NAN;
            out->classes_with_positives = defined;
        }
    }
    free(items);
    return status;
}
