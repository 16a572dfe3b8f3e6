/* Linear probe on frozen features: logistic regression on standardized
 * features, its L2 strength chosen on the validation split, test metrics
 * reported at the chosen strength only.
 *
 * Model: logits = standardize(x) W + b, with standardize(x) = (x - mean) / std
 * from the training features (population std; a constant feature is only
 * centered).  Objective, minimized by full-batch L-BFGS (lbfgs.h):
 *   single-label: mean softmax cross-entropy            + lambda/2 ||W||^2
 *   multi-label:  mean over samples of the summed
 *                 per-class binary cross-entropy         + lambda/2 ||W||^2
 * The bias is not penalized.  This is scikit-learn's LogisticRegression
 * (multinomial, lbfgs; one-vs-rest for multi-label) with C = 1 / (lambda n_train):
 * sklearn minimizes C sum_i loss_i + 1/2 ||W||^2, which is the same objective
 * times C n_train.
 *
 * Features stay float in the caller's arrays; each block of rows is
 * standardized into double and multiplied with cblas_dgemm, so the loss is
 * exact enough for the line search down to small gradients (float products
 * stalled it near 1e-5) without a double copy of the data set.
 *
 * Deterministic: products run on fixed blocks of rows, the per-block partial
 * gradients are summed in block order, and the optimizer has a fixed budget,
 * so the result does not depend on the thread count (ctx->n_threads runs the
 * blocks).
 *
 * Cost, measured: the default sweep on 21,600 x 512 train features with 10
 * classes (EuroSAT-sized) takes about 25 s on 2 cores, ~35 ms per loss and
 * gradient evaluation, 650 L-BFGS iterations over the six strengths. */
#ifndef GS_PROTOCOLS_LINEAR_PROBE_H
#define GS_PROTOCOLS_LINEAR_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/context.h"
#include "lbfgs.h"
#include "metrics.h"

/* One split's features and labels. */
typedef struct gs_probe_split {
    const float *features;  /* n x dim */
    const int32_t *labels;  /* single-label: n classes in [0, n_classes) */
    const uint8_t *targets; /* multi-label: n x n_classes, 0 or non-zero */
    int64_t n;
} gs_probe_split;

typedef struct gs_linear_model {
    int64_t dim;
    int n_classes;
    bool multilabel;
    double *mean, *inv_std; /* dim each, from the training features */
    double *params;         /* W (dim x n_classes, row-major), then b (n_classes) */
} gs_linear_model;

/* An all-zero model with the standardization of `train`. */
gs_status gs_linear_model_init(gs_context *ctx, gs_linear_model *model, int64_t dim, int n_classes, bool multilabel,
                               const gs_probe_split *train);
void gs_linear_model_free(gs_linear_model *model);

/* The default stopping rule: max |gradient| <= 1e-4 lambda.  Our objective
 * is lambda times sklearn's (see above), so this is sklearn's default
 * tol = 1e-4 on its own gradient; an absolute tolerance would stop weak
 * strengths far from their optimum (|W - W*| <= |gradient| / lambda).  Where
 * that is below what double precision resolves, L-BFGS stops as stalled. */
#define GS_PROBE_RELATIVE_TOLERANCE 1e-4
#define GS_PROBE_ZERO_LAMBDA_TOLERANCE 1e-10

/* Fits at one strength, starting from the model's current parameters.
 * optimizer may be NULL; a gradient_tolerance <= 0 means the default rule. */
gs_status gs_linear_model_fit(gs_context *ctx, gs_linear_model *model, const gs_probe_split *train, double lambda,
                              const gs_lbfgs_options *optimizer, gs_lbfgs_report *report);

/* logits (n x n_classes) of raw (unstandardized) features. */
gs_status gs_linear_model_logits(gs_context *ctx, const gs_linear_model *model, const float *features, int64_t n,
                                 float *logits);
/* Softmax (single-label) or sigmoid (multi-label) of the logits, in place. */
void gs_linear_model_probabilities(const gs_linear_model *model, float *logits, int64_t n);

#define GS_PROBE_MAX_SWEEP 16

typedef struct gs_linear_probe_options {
    /* Strengths tried in this order, each fit warm-started from the previous
     * solution.  NULL: 1e-1, 1e-2, ..., 1e-6 (strong to weak, so warm starts
     * follow the regularization path). */
    const double *lambdas;
    int n_lambdas;
    gs_lbfgs_options optimizer; /* zeros: 500 iterations, history 10, tolerance 1e-4 lambda */
} gs_linear_probe_options;

typedef struct gs_linear_probe_result {
    int n_lambdas;
    double lambdas[GS_PROBE_MAX_SWEEP];
    double val_metric[GS_PROBE_MAX_SWEEP]; /* val top-1 accuracy, or val macro mAP for multi-label */
    int iterations[GS_PROBE_MAX_SWEEP];
    bool converged[GS_PROBE_MAX_SWEEP];    /* false: the iteration budget ran out or the line search stalled */
    int chosen;                            /* index of the best val metric; ties keep the earlier strength */
    double lambda;                         /* lambdas[chosen] */
    double val;                            /* val_metric[chosen] */
    /* Test metrics at the chosen strength (NaN when no test split). */
    double test_top1;      /* single-label */
    gs_map test_map;       /* multi-label: macro and micro mAP */
} gs_linear_probe_result;

/* The whole protocol.  train and val are required; test may be NULL.
 * test_predictions (n_test; single-label) and test_probabilities
 * (n_test x n_classes) are optional outputs for further metrics (F1, kappa
 * through a gs_confusion).  The multi-label mAP ranks samples by logits, the
 * order the sigmoid gives without its float saturation ties. */
gs_status gs_linear_probe(gs_context *ctx, int64_t dim, int n_classes, bool multilabel, const gs_probe_split *train,
                          const gs_probe_split *val, const gs_probe_split *test,
                          const gs_linear_probe_options *options, gs_linear_probe_result *result,
                          int32_t *test_predictions, float *test_probabilities);

#endif
