/* Weighted k-nearest-neighbour classification of frozen features, the
 * protocol of DINO (Caron et al., "Emerging Properties in Self-Supervised
 * Vision Transformers", ICCV 2021, section 4.1 / appendix): features are
 * L2-normalized, the k train features most cosine-similar to a test feature
 * vote for their labels with weight exp(similarity / T), and the class with
 * the largest summed weight wins.  Defaults k = 20, T = 0.07 as in DINO.
 *
 * Similarities are computed with one cblas_sgemm per block of test rows, so
 * memory stays at block_rows x n_train floats per thread however large the
 * test set.  Blocks run in parallel over ctx->n_threads (each block's sgemm
 * single-threaded inside the OpenMP region); every test row is computed the
 * same way whatever the thread count, so predictions are bit-identical
 * across runs and thread counts.
 *
 * Ties, made deterministic:
 * - neighbours: equal similarities rank the lower train index first;
 * - votes: equal summed weights pick the lower class index.
 * k larger than the train set uses every train sample. */
#ifndef GS_PROTOCOLS_KNN_H
#define GS_PROTOCOLS_KNN_H

#include <stdint.h>

#include "core/context.h"

#define GS_KNN_DEFAULT_K 20
#define GS_KNN_DEFAULT_TEMPERATURE 0.07f

typedef struct gs_knn_options {
    int k;               /* <= 0: GS_KNN_DEFAULT_K */
    float temperature;   /* <= 0: GS_KNN_DEFAULT_TEMPERATURE */
    int64_t block_rows;  /* test rows per similarity block; <= 0: 256 */
} gs_knn_options;

/* train: n_train x dim features with labels in [0, n_classes); test:
 * n_test x dim.  Inputs are not modified (normalized copies are made).
 * predictions (n_test) receives the predicted classes.  When test_labels is
 * given, *top1 (if not NULL) receives the fraction predicted correctly.
 * options may be NULL for the defaults.  Errors go to the context. */
gs_status gs_knn_classify(gs_context *ctx, const float *train, const int32_t *train_labels, int64_t n_train,
                          const float *test, int64_t n_test, int64_t dim, int n_classes,
                          const gs_knn_options *options, int32_t *predictions, const int32_t *test_labels,
                          double *top1);

#endif
