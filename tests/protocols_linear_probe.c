/* Linear probe: separable features, a problem where regularization matters
 * and the sweep has to find it, agreement with scikit-learn's
 * LogisticRegression (tests/fixtures/sklearn_logistic.gsfx, written by
 * tools/reference/sklearn_metrics.py), multi-label BCE, bit-identical
 * results across thread counts, and bad input. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "core/rng.h"
#include "fixture.h"
#include "linear_probe.h"
#include "test_paths.h"

static void context(gs_context *ctx, int threads) {
    gs_context_options options = {.n_threads = threads, .seed = 1};
    cr_assert_eq(gs_context_init(ctx, &options), GS_OK);
}

/* A split with its own storage. */
typedef struct owned_split {
    gs_probe_split split;
    float *x;
    int32_t *labels;
    uint8_t *targets;
} owned_split;

static void owned_free(owned_split *s) {
    free(s->x);
    free(s->labels);
    free(s->targets);
}

/* Gaussian clusters around per-class centers (label i % classes), every
 * feature then scaled and shifted differently so standardization matters. */
static owned_split clusters(gs_rng *rng, const float *centers, int classes, int64_t n, int64_t dim, float noise) {
    owned_split s = {.x = malloc(sizeof(float) * (size_t)(n * dim)), .labels = malloc(sizeof(int32_t) * (size_t)n)};
    for (int64_t i = 0; i < n; i++) {
        s.labels[i] = (int32_t)(i % classes);
        for (int64_t j = 0; j < dim; j++) {
            const float v = centers[s.labels[i] * dim + j] + noise * gs_rng_normal(rng);
            s.x[i * dim + j] = v * (float)(1 + j % 7) * 3.0f + (float)(j % 5) * 10.0f;
        }
    }
    s.split = (gs_probe_split){.features = s.x, .labels = s.labels, .n = n};
    return s;
}

Test(linear_probe, separable_clusters) {
    enum { CLASSES = 4, DIM = 16 };
    gs_rng rng;
    gs_rng_seed(&rng, 5);
    float centers[CLASSES * DIM];
    for (int i = 0; i < CLASSES * DIM; i++) centers[i] = 2.0f * gs_rng_normal(&rng);
    owned_split train = clusters(&rng, centers, CLASSES, 400, DIM, 0.3f);
    owned_split val = clusters(&rng, centers, CLASSES, 200, DIM, 0.3f);
    owned_split test = clusters(&rng, centers, CLASSES, 200, DIM, 0.3f);
    gs_context ctx;
    context(&ctx, 2);
    gs_linear_probe_result result;
    int32_t predictions[200];
    float probabilities[200 * CLASSES];
    cr_assert_eq(gs_linear_probe(&ctx, DIM, CLASSES, false, &train.split, &val.split, &test.split, NULL, &result,
                                 predictions, probabilities),
                 GS_OK, "%s", ctx.error);
    cr_assert_eq(result.n_lambdas, 6, "default sweep 1e-1 ... 1e-6");
    cr_assert_float_eq(result.val, 1.0, 1e-12, "val top-1 %.4f", result.val);
    cr_assert_float_eq(result.test_top1, 1.0, 1e-12, "test top-1 %.4f", result.test_top1);
    /* Every strength is perfect here: a tie keeps the first, strongest one. */
    cr_assert_eq(result.chosen, 0);
    cr_assert_float_eq(result.lambda, 1e-1, 1e-15);
    for (int i = 0; i < 200; i++) {
        cr_assert_eq(predictions[i], test.labels[i]);
        double sum = 0;
        for (int k = 0; k < CLASSES; k++) sum += probabilities[i * CLASSES + k];
        cr_assert_float_eq(sum, 1.0, 1e-5, "softmax row %d sums to %f", i, sum);
        cr_assert_gt(probabilities[i * CLASSES + predictions[i]], 0.5f);
    }
    cr_assert(isnan(result.test_map.macro), "mAP is for multi-label probes only");
    gs_context_free(&ctx);
    owned_free(&train);
    owned_free(&val);
    owned_free(&test);
}

/* Two classes whose noise shares one strong common factor f (every feature
 * loads 2 f), with class means +-mu/2, mu = 1 + 0.5 v (v alternating +-1).
 * Noise covariance S = I + 4 1 1^T.  The mean difference (what heavy
 * shrinkage fits) points mostly along the factor: margin |mu|^2 / 2 = 18.75
 * against noise sqrt(mu^T S mu) = 60.3, about 62% accuracy.  The best linear
 * rule S^-1 mu ignores the factor: Mahalanobis distance
 * sqrt(30/121 + 7.5) = 2.78, about 92%.  With 60 training samples for 30
 * features, weak regularization fits the noise instead: the optimum is in
 * the middle of the sweep. */
static owned_split common_factor(gs_rng *rng, int64_t n, int64_t dim) {
    owned_split s = {.x = malloc(sizeof(float) * (size_t)(n * dim)), .labels = malloc(sizeof(int32_t) * (size_t)n)};
    for (int64_t i = 0; i < n; i++) {
        s.labels[i] = (int32_t)(i % 2);
        const float sign = s.labels[i] ? 0.5f : -0.5f, factor = 2.0f * gs_rng_normal(rng);
        for (int64_t j = 0; j < dim; j++) {
            const float mu = 1.0f + (j % 2 ? -0.5f : 0.5f);
            s.x[i * dim + j] = sign * mu + factor + gs_rng_normal(rng);
        }
    }
    s.split = (gs_probe_split){.features = s.x, .labels = s.labels, .n = n};
    return s;
}

Test(linear_probe, sweep_picks_the_regularization_that_generalizes) {
    enum { DIM = 30 };
    gs_rng rng;
    gs_rng_seed(&rng, 9);
    owned_split train = common_factor(&rng, 60, DIM);
    owned_split val = common_factor(&rng, 2000, DIM);
    owned_split test = common_factor(&rng, 2000, DIM);
    gs_context ctx;
    context(&ctx, 2);
    /* The default sweep stops at 1e-1, still weak enough to find S^-1 mu
     * here; two stronger values show the other side of the optimum. */
    const double lambdas[] = {10, 1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6};
    gs_linear_probe_options options = {.lambdas = lambdas, .n_lambdas = 8};
    gs_linear_probe_result result;
    cr_assert_eq(gs_linear_probe(&ctx, DIM, 2, false, &train.split, &val.split, &test.split, &options, &result, NULL,
                                 NULL),
                 GS_OK, "%s", ctx.error);
    for (int s = 0; s < result.n_lambdas; s++)
        printf("lambda %g: val %.4f (%d iterations%s)\n", result.lambdas[s], result.val_metric[s],
               result.iterations[s], result.converged[s] ? "" : ", not converged");
    printf("chosen lambda %g, test %.4f\n", result.lambda, result.test_top1);
    const double strongest = result.val_metric[0], weakest = result.val_metric[result.n_lambdas - 1];
    for (int s = 0; s < result.n_lambdas; s++)
        cr_assert_leq(result.val_metric[s], result.val, "lambda %g beat the chosen one on val", result.lambdas[s]);
    cr_assert_float_eq(result.lambda, lambdas[result.chosen], 0.0);
    cr_assert(result.chosen > 0 && result.chosen < result.n_lambdas - 1, "the sweep chose the end point %g",
              result.lambda);
    cr_assert_gt(result.val, weakest + 0.03, "val %.4f at lambda %g vs %.4f at the weakest", result.val,
                 result.lambda, weakest);
    cr_assert_gt(result.val, strongest + 0.03, "val %.4f at lambda %g vs %.4f at the strongest", result.val,
                 result.lambda, strongest);
    cr_assert_gt(result.test_top1, weakest + 0.02, "test %.4f", result.test_top1);
    gs_context_free(&ctx);
    owned_free(&train);
    owned_free(&val);
    owned_free(&test);
}

/* ---- scikit-learn ---- */

static const fixture_tensor *need(const fixture *fx, const char *name) {
    const fixture_tensor *t = fixture_get(fx, name);
    cr_assert_not_null(t, "sklearn_logistic.gsfx lacks %s", name);
    return t;
}

static fixture *load_fixture(void) {
    char path[1024];
    fixture *fx = fixture_load(test_fixture_path("sklearn_logistic.gsfx", path, sizeof path));
    cr_assert_not_null(fx, "missing %s (tools/reference/sklearn_metrics.py writes it)", path);
    return fx;
}

/* Fits at the fixture's lambda and compares parameters and test
 * probabilities with sklearn's.  The objective is strictly convex, so both
 * optimizers reach one optimum; the tolerance covers L-BFGS stopping points
 * and float products. */
static void check_against_sklearn(const fixture *fx, bool multilabel) {
    const char *p = multilabel ? "ml" : "mc";
    char name[64];
    const fixture_tensor *x_train = need(fx, "mc.x_train"), *x_test = need(fx, "mc.x_test");
    const int64_t dim = x_train->shape[1], n_train = x_train->shape[0], n_test = x_test->shape[0];
    snprintf(name, sizeof name, "%s.coef", p);
    const fixture_tensor *coef = need(fx, name);
    const int classes = (int)coef->shape[1];
    const double lambda = need(fx, "mc.lambda")->data[0];

    int32_t *labels = malloc(sizeof(int32_t) * (size_t)n_train);
    uint8_t *targets = malloc((size_t)(n_train * classes));
    for (int64_t i = 0; i < n_train; i++) labels[i] = (int32_t)need(fx, "mc.y_train")->data[i];
    if (multilabel)
        for (int64_t i = 0; i < n_train * classes; i++) targets[i] = need(fx, "ml.t_train")->data[i] != 0.0f;
    gs_probe_split train = {.features = x_train->data, .labels = labels, .targets = targets, .n = n_train};

    gs_context ctx;
    context(&ctx, 2);
    gs_linear_model model;
    cr_assert_eq(gs_linear_model_init(&ctx, &model, dim, classes, multilabel, &train), GS_OK, "%s", ctx.error);
    gs_lbfgs_report report;
    gs_lbfgs_options optimizer = {.max_iterations = 2000, .gradient_tolerance = 1e-9};
    cr_assert_eq(gs_linear_model_fit(&ctx, &model, &train, lambda, &optimizer, &report), GS_OK, "%s", ctx.error);
    printf("%s: %d iterations, %d evaluations, max |gradient| %.2e (%s)\n", p, report.iterations, report.evaluations,
           report.gradient_max, report.converged ? "converged" : report.stalled ? "stalled" : "budget");
    cr_assert_lt(report.gradient_max, 1e-5);

    /* Softmax biases are defined up to a shared constant: compare centered. */
    snprintf(name, sizeof name, "%s.intercept", p);
    const fixture_tensor *intercept = need(fx, name);
    double mean_ours = 0, mean_theirs = 0;
    for (int k = 0; k < classes; k++) {
        mean_ours += model.params[dim * classes + k] / classes;
        mean_theirs += intercept->data[k] / classes;
    }
    if (multilabel) mean_ours = mean_theirs = 0;
    for (int k = 0; k < classes; k++) {
        const double ours = model.params[dim * classes + k] - mean_ours, theirs = intercept->data[k] - mean_theirs;
        cr_expect(fabs(ours - theirs) < 1e-4, "%s intercept %d: %.6f vs sklearn %.6f", p, k, ours, theirs);
    }
    for (int64_t i = 0; i < dim * classes; i++)
        cr_expect(fabs(model.params[i] - coef->data[i]) < 1e-4, "%s weight %lld: %.6f vs sklearn %.6f", p,
                  (long long)i, model.params[i], (double)coef->data[i]);

    float *proba = malloc(sizeof(float) * (size_t)(n_test * classes));
    cr_assert_eq(gs_linear_model_logits(&ctx, &model, x_test->data, n_test, proba), GS_OK, "%s", ctx.error);
    gs_linear_model_probabilities(&model, proba, n_test);
    snprintf(name, sizeof name, "%s.proba", p);
    const fixture_tensor *expected = need(fx, name);
    double worst = 0;
    for (int64_t i = 0; i < n_test * classes; i++) worst = fmax(worst, fabs(proba[i] - expected->data[i]));
    printf("%s: largest test probability difference from sklearn %.2e\n", p, worst);
    cr_assert_lt(worst, 1e-4, "%s: probabilities differ from sklearn by %.2e", p, worst);

    if (!multilabel) {
        int64_t correct = 0;
        for (int64_t i = 0; i < n_test; i++) {
            int best = 0;
            for (int k = 1; k < classes; k++)
                if (proba[i * classes + k] > proba[i * classes + best]) best = k;
            correct += best == (int)need(fx, "mc.y_test")->data[i];
        }
        cr_assert_float_eq((double)correct / (double)n_test, need(fx, "mc.accuracy")->data[0], 1e-6);
    }
    free(proba);
    free(labels);
    free(targets);
    gs_linear_model_free(&model);
    gs_context_free(&ctx);
}

Test(linear_probe, multinomial_matches_sklearn) {
    fixture *fx = load_fixture();
    check_against_sklearn(fx, false);
    fixture_free(fx);
}

Test(linear_probe, multilabel_bce_matches_sklearn_one_vs_rest) {
    fixture *fx = load_fixture();
    check_against_sklearn(fx, true);
    fixture_free(fx);
}

/* Multi-label: each label is on when its own linear score of the centered
 * features passes 0.5, so every label is learnable on its own. */
static owned_split multilabel_split(gs_rng *rng, const float *directions, int64_t n, int64_t dim, int labels) {
    owned_split s = {.x = malloc(sizeof(float) * (size_t)(n * dim)), .targets = malloc((size_t)(n * labels))};
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < dim; j++) s.x[i * dim + j] = gs_rng_normal(rng) * 2.0f + 1.0f;
        for (int k = 0; k < labels; k++) {
            double z = 0;
            for (int64_t j = 0; j < dim; j++) z += directions[j * labels + k] * (s.x[i * dim + j] - 1.0f);
            s.targets[i * labels + k] = z > 0.5;
        }
    }
    s.split = (gs_probe_split){.features = s.x, .targets = s.targets, .n = n};
    return s;
}

Test(linear_probe, multilabel_bce_learns_independent_labels) {
    enum { DIM = 12, LABELS = 5 };
    gs_rng rng;
    gs_rng_seed(&rng, 21);
    float directions[DIM * LABELS];
    for (int i = 0; i < DIM * LABELS; i++) directions[i] = gs_rng_normal(&rng);
    owned_split train = multilabel_split(&rng, directions, 600, DIM, LABELS);
    owned_split val = multilabel_split(&rng, directions, 300, DIM, LABELS);
    owned_split test = multilabel_split(&rng, directions, 300, DIM, LABELS);
    gs_context ctx;
    context(&ctx, 2);
    gs_linear_probe_result result;
    float *probabilities = malloc(sizeof(float) * 300 * LABELS);
    cr_assert_eq(gs_linear_probe(&ctx, DIM, LABELS, true, &train.split, &val.split, &test.split, NULL, &result, NULL,
                                 probabilities),
                 GS_OK, "%s", ctx.error);
    printf("multi-label: chosen lambda %g, val macro mAP %.4f, test macro %.4f micro %.4f\n", result.lambda,
           result.val, result.test_map.macro, result.test_map.micro);
    cr_assert_gt(result.val, 0.98);
    cr_assert_gt(result.test_map.macro, 0.98);
    cr_assert_gt(result.test_map.micro, 0.98);
    cr_assert_eq(result.test_map.classes_with_positives, LABELS);
    cr_assert(isnan(result.test_top1));
    /* Sigmoid outputs: thresholding at 0.5 recovers nearly every target. */
    int64_t right = 0;
    for (int64_t i = 0; i < 300 * LABELS; i++) right += (probabilities[i] > 0.5f) == (test.targets[i] != 0);
    cr_assert_gt((double)right / (300.0 * LABELS), 0.95);
    free(probabilities);
    gs_context_free(&ctx);
    owned_free(&train);
    owned_free(&val);
    owned_free(&test);
}

Test(linear_probe, same_bits_for_any_thread_count) {
    /* More rows than one product block, so the blocked reduction is used. */
    enum { CLASSES = 3, DIM = 20, N = 2500 };
    gs_rng rng;
    gs_rng_seed(&rng, 77);
    float centers[CLASSES * DIM];
    for (int i = 0; i < CLASSES * DIM; i++) centers[i] = 0.5f * gs_rng_normal(&rng);
    owned_split train = clusters(&rng, centers, CLASSES, N, DIM, 1.0f);
    double *params[3];
    const int threads[3] = {1, 2, 2};
    for (int run = 0; run < 3; run++) {
        gs_context ctx;
        context(&ctx, threads[run]);
        gs_linear_model model;
        cr_assert_eq(gs_linear_model_init(&ctx, &model, DIM, CLASSES, false, &train.split), GS_OK);
        gs_lbfgs_options optimizer = {.max_iterations = 50};
        cr_assert_eq(gs_linear_model_fit(&ctx, &model, &train.split, 1e-4, &optimizer, NULL), GS_OK, "%s",
                     ctx.error);
        params[run] = model.params;
        model.params = NULL;
        gs_linear_model_free(&model);
        gs_context_free(&ctx);
    }
    const size_t bytes = sizeof(double) * (DIM + 1) * CLASSES;
    cr_assert(memcmp(params[0], params[1], bytes) == 0, "1 and 2 threads gave different weights");
    cr_assert(memcmp(params[1], params[2], bytes) == 0, "two runs with 2 threads gave different weights");
    for (int run = 0; run < 3; run++) free(params[run]);
    owned_free(&train);
}

Test(linear_probe, bad_input_is_reported) {
    float x[4 * 2] = {0, 1, 1, 0, 2, 2, 3, 1};
    int32_t labels[4] = {0, 1, 0, 5};
    gs_probe_split split = {.features = x, .labels = labels, .n = 4};
    gs_context ctx;
    context(&ctx, 1);
    gs_linear_probe_result result;
    cr_assert_eq(gs_linear_probe(&ctx, 2, 2, false, &split, &split, NULL, NULL, &result, NULL, NULL),
                 GS_ERR_ARGUMENT);
    cr_assert(strstr(ctx.error, "label 5") != NULL, "%s", ctx.error);
    gs_clear_error(&ctx);

    labels[3] = 1;
    x[3] = NAN;
    cr_assert_eq(gs_linear_probe(&ctx, 2, 2, false, &split, &split, NULL, NULL, &result, NULL, NULL),
                 GS_ERR_NONFINITE);
    gs_clear_error(&ctx);
    x[3] = 0;

    double many[GS_PROBE_MAX_SWEEP + 1] = {0};
    gs_linear_probe_options options = {.lambdas = many, .n_lambdas = GS_PROBE_MAX_SWEEP + 1};
    cr_assert_eq(gs_linear_probe(&ctx, 2, 2, false, &split, &split, NULL, &options, &result, NULL, NULL),
                 GS_ERR_ARGUMENT);
    gs_clear_error(&ctx);
    double negative = -1.0;
    options = (gs_linear_probe_options){.lambdas = &negative, .n_lambdas = 1};
    cr_assert_eq(gs_linear_probe(&ctx, 2, 2, false, &split, &split, NULL, &options, &result, NULL, NULL),
                 GS_ERR_ARGUMENT);
    gs_clear_error(&ctx);
    gs_probe_split no_targets = {.features = x, .n = 4};
    cr_assert_eq(gs_linear_probe(&ctx, 2, 2, true, &no_targets, &no_targets, NULL, NULL, &result, NULL, NULL),
                 GS_ERR_ARGUMENT);
    gs_context_free(&ctx);
}
