/* Evaluation metrics on predictions and scores.
 *
 * Single-label (classification, and segmentation per pixel): a confusion
 * matrix accumulates (truth, prediction) pairs; every metric is read from it.
 * Multi-label: average precision per class from scores, macro and micro mAP.
 *
 * Conventions, chosen to match scikit-learn's defaults (the fixture test
 * checks them against sklearn 1.2):
 * - a class with no true samples has no recall: its per-class accuracy is NaN
 *   and the mean per-class accuracy (sklearn's balanced_accuracy_score)
 *   averages over the classes present in the truth;
 * - a class absent from both truth and predictions has no F1 and no IoU
 *   (NaN); macro F1 and mIoU average over the other classes, as sklearn's
 *   f1_score(average="macro") and jaccard_score(average="macro") do when
 *   they are given no explicit label list;
 * - a metric with nothing to average (an empty matrix) is NaN. */
#ifndef GS_PROTOCOLS_METRICS_H
#define GS_PROTOCOLS_METRICS_H

#include <stdint.h>

#include "core/error.h"

/* counts[truth * n_classes + predicted]: rows are the truth. */
typedef struct gs_confusion {
    int n_classes;
    int32_t ignore_index; /* truth labels equal to it are skipped (segmentation) */
    int64_t *counts;
    int64_t ignored;      /* pairs skipped because of ignore_index */
} gs_confusion;

/* An empty matrix.  ignore_index may be any value outside [0, n_classes),
 * e.g. GS_IGNORE_LABEL (-1) or 255 for label rasters. */
gs_status gs_confusion_init(gs_confusion *cm, int n_classes, int32_t ignore_index, gs_error *err);
void gs_confusion_free(gs_confusion *cm);
void gs_confusion_reset(gs_confusion *cm);

/* Adds n pairs.  Pairs whose truth is ignore_index are counted in `ignored`
 * whatever the prediction.  Any other label outside [0, n_classes) fails
 * with GS_ERR_ARGUMENT and leaves the matrix unchanged. */
gs_status gs_confusion_add(gs_confusion *cm, const int32_t *truth, const int32_t *predicted, int64_t n,
                           gs_error *err);
/* Adds the counts of `from` (same n_classes) into `into`: per-worker or
 * per-tile matrices merged in a fixed order give the same totals. */
gs_status gs_confusion_merge(gs_confusion *into, const gs_confusion *from, gs_error *err);

int64_t gs_confusion_total(const gs_confusion *cm);
/* Overall accuracy: trace / total (top-1 accuracy for classification). */
double gs_confusion_accuracy(const gs_confusion *cm);
/* Per-class accuracy (recall) TP / (TP + FN) into out[n_classes]. */
void gs_confusion_class_accuracy(const gs_confusion *cm, double *out);
double gs_confusion_mean_class_accuracy(const gs_confusion *cm);
/* Per-class F1 = 2 TP / (2 TP + FP + FN) into out[n_classes]. */
void gs_confusion_f1(const gs_confusion *cm, double *out);
double gs_confusion_macro_f1(const gs_confusion *cm);
/* Per-class IoU = TP / (TP + FP + FN) into out[n_classes]. */
void gs_confusion_iou(const gs_confusion *cm, double *out);
double gs_confusion_miou(const gs_confusion *cm);
/* Cohen's kappa (p_o - p_e) / (1 - p_e), with p_e from the row and column
 * marginals; NaN when p_e is 1 (one class only, in truth and predictions). */
double gs_confusion_kappa(const gs_confusion *cm);

/* Tile-averaged IoU, as GLCNet's evaluation computes it
 * (../shared/specs/glcnet.md, section 7 "Evaluation" and section 9 item 7):
 * for each tile (one test sample) and every class k,
 *   IoU_k = |pred = k and truth = k| / |pred = k or truth = k|,
 * 0 when k is in neither; averaged over the tiles, then over all classes
 * (the two means commute, so it is also the mean over tiles of each tile's
 * mean over all classes).  The authors add 1e-8 to the denominator to avoid
 * 0/0; here an empty union is 0 directly, which differs from theirs by less
 * than 1e-8 relative.  Pixels whose truth is ignore_index count for neither
 * (GLCNet's labels have no ignored value); a tile with no scored pixel is
 * left out.
 *
 * Because absent classes count 0, a tile holding two classes cannot score
 * more than 2 / n_classes: the number is not comparable with the dataset-level
 * mIoU.  The variant that leaves the absent classes out (the mean over tiles
 * of each tile's mIoU over the classes present in its truth or prediction)
 * is kept beside it. */
typedef struct gs_tile_miou {
    int n_classes;
    int32_t ignore_index;
    int64_t tiles;      /* tiles with at least one scored pixel */
    double sum_all;     /* sum over tiles of the mean IoU over all classes (absent: 0) */
    double sum_present; /* sum over tiles of the mean IoU over the classes present */
    int64_t *counts;    /* per-tile scratch: intersection, truth and prediction counts per class */
} gs_tile_miou;

gs_status gs_tile_miou_init(gs_tile_miou *t, int n_classes, int32_t ignore_index, gs_error *err);
void gs_tile_miou_free(gs_tile_miou *t);
/* Adds one tile of n pixels.  Labels are checked as gs_confusion_add checks
 * them; on error nothing is added. */
gs_status gs_tile_miou_add(gs_tile_miou *t, const int32_t *truth, const int32_t *predicted, int64_t n,
                           gs_error *err);
/* GLCNet's figure: NaN when no tile was added. */
double gs_tile_miou_mean(const gs_tile_miou *t);
/* The mean over tiles of each tile's mIoU over its present classes. */
double gs_tile_miou_present_mean(const gs_tile_miou *t);

/* Average precision of one class, scikit-learn's average_precision_score:
 * samples sorted by decreasing score, one threshold per distinct score (tied
 * scores enter together), AP = sum_n (R_n - R_{n-1}) P_n.  scores[i * stride]
 * and targets[i * stride] (0 or non-zero) for i < n.  *ap is NaN when the
 * class has no positive.  Scores must be finite (GS_ERR_ARGUMENT otherwise). */
gs_status gs_average_precision(const float *scores, const uint8_t *targets, int64_t n, int64_t stride,
                               double *ap, gs_error *err);

typedef struct gs_map {
    double macro;          /* mean AP over classes with at least one positive */
    double micro;          /* AP of all n * n_classes (score, target) pairs flattened */
    int classes_with_positives;
} gs_map;

/* Multi-label mAP: scores and targets are n x n_classes, row-major.
 * per_class (optional, n_classes values) receives each class's AP (NaN for
 * classes without positives, which the macro mean leaves out). */
gs_status gs_multilabel_map(const float *scores, const uint8_t *targets, int64_t n, int n_classes,
                            double *per_class, gs_map *out, gs_error *err);

#endif
