#include "linear_probe.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Rows per product block.  Fixed, not derived from the thread count, so the
 * partial sums (and therefore the bits) do not depend on the thread count. */
#define PROBE_BLOCK_ROWS 1024

static const double DEFAULT_LAMBDAS[] = {1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6};

static int64_t block_count(int64_t n) { return (n + PROBE_BLOCK_ROWS - 1) / PROBE_BLOCK_ROWS; }
static int64_t block_rows(int64_t n, int64_t b) {
    const int64_t first = b * PROBE_BLOCK_ROWS;
    return first + PROBE_BLOCK_ROWS <= n ? PROBE_BLOCK_ROWS : n - first;
}

/* ---- arguments ---- */

static gs_status check_split(gs_context *ctx, const char *name, const gs_probe_split *split, int64_t dim,
                             int n_classes, bool multilabel) {
    if (!split || !split->features || split->n <= 0)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "linear probe: the %s split needs features and n > 0 samples", name);
    if (split->n > INT32_MAX || dim > INT32_MAX)
        return gs_fail(ctx, GS_ERR_SHAPE, "linear probe: %s split of %lld x %lld exceeds the BLAS int range", name,
                       (long long)split->n, (long long)dim);
    if (multilabel) {
        if (!split->targets)
            return gs_fail(ctx, GS_ERR_ARGUMENT, "linear probe: the multi-label %s split needs n x %d targets", name,
                           n_classes);
        return GS_OK;
    }
    if (!split->labels)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "linear probe: the %s split needs labels", name);
    for (int64_t i = 0; i < split->n; i++)
        if (split->labels[i] < 0 || split->labels[i] >= n_classes)
            return gs_fail(ctx, GS_ERR_ARGUMENT,
                           "linear probe: %s label %d at row %lld is outside 0..%d; drop unlabeled rows first", name,
                           (int)split->labels[i], (long long)i, n_classes - 1);
    return GS_OK;
}

/* ---- the model ---- */

gs_status gs_linear_model_init(gs_context *ctx, gs_linear_model *model, int64_t dim, int n_classes, bool multilabel,
                               const gs_probe_split *train) {
    memset(model, 0, sizeof *model);
    if (gs_failed(ctx)) return ctx->status;
    if (dim <= 0 || n_classes <= 0 || (!multilabel && n_classes < 2))
        return gs_fail(ctx, GS_ERR_SHAPE, "linear probe: needs dim > 0 and at least %d classes (got %lld, %d)",
                       multilabel ? 1 : 2, (long long)dim, n_classes);
    if (check_split(ctx, "train", train, dim, n_classes, multilabel) != GS_OK) return ctx->status;
    model->dim = dim;
    model->n_classes = n_classes;
    model->multilabel = multilabel;
    model->mean = calloc((size_t)dim, sizeof(double));
    model->inv_std = calloc((size_t)dim, sizeof(double));
    model->params = calloc((size_t)((dim + 1) * n_classes), sizeof(double));
    if (!model->mean || !model->inv_std || !model->params) {
        gs_linear_model_free(model);
        return gs_fail(ctx, GS_ERR_MEMORY, "linear probe: cannot allocate a %lld x %d model", (long long)dim,
                       n_classes);
    }
    /* Two passes in row order, in double: the mean, then the spread around it. */
    const float *x = train->features;
    for (int64_t i = 0; i < train->n; i++)
        for (int64_t j = 0; j < dim; j++) model->mean[j] += x[i * dim + j];
    for (int64_t j = 0; j < dim; j++) model->mean[j] /= (double)train->n;
    for (int64_t i = 0; i < train->n; i++)
        for (int64_t j = 0; j < dim; j++) {
            const double centered = x[i * dim + j] - model->mean[j];
            model->inv_std[j] += centered * centered;
        }
    for (int64_t j = 0; j < dim; j++) {
        const double std = sqrt(model->inv_std[j] / (double)train->n);
        if (!isfinite(std) || !isfinite(model->mean[j])) {
            gs_linear_model_free(model);
            return gs_fail(ctx, GS_ERR_NONFINITE, "linear probe: train feature %lld has NaN or Inf values; check the "
                                                  "feature extraction",
                           (long long)j);
        }
        /* A constant feature carries nothing; centering it to 0 is enough. */
        model->inv_std[j] = std > 0.0 ? 1.0 / std : 1.0;
    }
    return GS_OK;
}

void gs_linear_model_free(gs_linear_model *model) {
    free(model->mean);
    free(model->inv_std);
    free(model->params);
    memset(model, 0, sizeof *model);
}

/* Per-thread working memory for one block of rows: the standardized rows in
 * double and their logits.  Features stay float in the caller's array and
 * are standardized block by block, so no copy of the data set is made; the
 * products run in double (cblas_dgemm) so the loss is exact enough for the
 * line search to make progress down to small gradients. */
typedef struct workspace {
    int threads;
    double *x; /* threads x PROBE_BLOCK_ROWS x dim */
    double *z; /* threads x PROBE_BLOCK_ROWS x n_classes */
} workspace;

static void workspace_free(workspace *ws) {
    free(ws->x);
    free(ws->z);
    ws->x = ws->z = NULL;
}

static gs_status workspace_init(gs_context *ctx, workspace *ws, const gs_linear_model *model, int64_t n) {
    const int64_t blocks = block_count(n);
    ws->threads = ctx->n_threads < 1 ? 1 : ctx->n_threads > blocks ? (int)blocks : ctx->n_threads;
    ws->x = malloc((size_t)(ws->threads * PROBE_BLOCK_ROWS * model->dim) * sizeof(double));
    ws->z = malloc((size_t)(ws->threads * PROBE_BLOCK_ROWS * model->n_classes) * sizeof(double));
    if (ws->x && ws->z) return GS_OK;
    workspace_free(ws);
    return gs_fail(ctx, GS_ERR_MEMORY, "linear probe: cannot allocate %d work blocks of %d x %lld", ctx->n_threads,
                   PROBE_BLOCK_ROWS, (long long)model->dim);
}

/* Block b of the raw features, standardized into x; returns its row count. */
static int64_t standardize_block(const gs_linear_model *model, const float *features, int64_t n, int64_t b,
                                 double *x) {
    const int64_t dim = model->dim, rows = block_rows(n, b);
    const float *raw = features + b * PROBE_BLOCK_ROWS * dim;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < dim; j++) x[i * dim + j] = (raw[i * dim + j] - model->mean[j]) * model->inv_std[j];
    return rows;
}

/* z = x W + b for one standardized block. */
static void block_logits(const gs_linear_model *model, const double *params, const double *x, int64_t rows,
                         double *z) {
    const int64_t dim = model->dim;
    const int c = model->n_classes;
    const double *bias = params + dim * c;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)rows, c, (blasint)dim, 1.0, x, (blasint)dim,
                params, c, 0.0, z, c);
    for (int64_t r = 0; r < rows; r++)
        for (int k = 0; k < c; k++) z[r * c + k] += bias[k];
}

static void logits_of(const gs_linear_model *model, workspace *ws, const float *features, int64_t n, float *logits) {
    const int c = model->n_classes;
    const int64_t blocks = block_count(n);
    /* Inside the parallel region the OpenMP build of OpenBLAS runs each
     * call on the calling thread. */
#pragma omp parallel for num_threads(ws->threads) schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
        const int t = omp_get_thread_num();
        double *x = ws->x + (int64_t)t * PROBE_BLOCK_ROWS * model->dim, *z = ws->z + (int64_t)t * PROBE_BLOCK_ROWS * c;
        const int64_t rows = standardize_block(model, features, n, b, x);
        block_logits(model, model->params, x, rows, z);
        for (int64_t i = 0; i < rows * c; i++) logits[b * PROBE_BLOCK_ROWS * c + i] = (float)z[i];
    }
}

gs_status gs_linear_model_logits(gs_context *ctx, const gs_linear_model *model, const float *features, int64_t n,
                                 float *logits) {
    if (gs_failed(ctx)) return ctx->status;
    if (!model->params || !features || !logits || n <= 0 || n > INT32_MAX)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "linear probe: logits need an initialized model, features and n > 0");
    workspace ws;
    if (workspace_init(ctx, &ws, model, n) != GS_OK) return ctx->status;
    logits_of(model, &ws, features, n, logits);
    workspace_free(&ws);
    return GS_OK;
}

static double sigmoid(double z) {
    if (z >= 0) return 1.0 / (1.0 + exp(-z));
    const double e = exp(z);
    return e / (1.0 + e);
}

void gs_linear_model_probabilities(const gs_linear_model *model, float *logits, int64_t n) {
    const int c = model->n_classes;
    for (int64_t i = 0; i < n; i++) {
        float *z = logits + i * c;
        if (model->multilabel) {
            for (int k = 0; k < c; k++) z[k] = (float)sigmoid(z[k]);
            continue;
        }
        double top = z[0], sum = 0.0;
        for (int k = 1; k < c; k++) top = fmax(top, z[k]);
        for (int k = 0; k < c; k++) sum += exp(z[k] - top);
        for (int k = 0; k < c; k++) z[k] = (float)(exp(z[k] - top) / sum);
    }
}

/* ---- the objective ---- */

typedef struct objective {
    gs_context *ctx;
    const gs_linear_model *model; /* dims, flags and standardization; the parameters come from L-BFGS */
    const gs_probe_split *train;
    double lambda;
    int64_t blocks;
    workspace ws;
    double *partial;      /* blocks x (dim + 1) x c: per-block X^T residual, then the bias sums */
    double *block_loss;   /* blocks */
} objective;

/* Loss of one row (summed over classes for multi-label); overwrites the
 * row's logits with dloss/dlogits. */
static double row_loss(const objective *o, int64_t i, double *z) {
    const int c = o->model->n_classes;
    double loss = 0.0;
    if (o->model->multilabel) {
        const uint8_t *y = o->train->targets + i * c;
        for (int k = 0; k < c; k++) {
            const double target = y[k] ? 1.0 : 0.0;
            /* log(1 + e^z) - y z, without overflow for large |z|. */
            loss += fmax(z[k], 0.0) - target * z[k] + log1p(exp(-fabs(z[k])));
            z[k] = sigmoid(z[k]) - target;
        }
        return loss;
    }
    const int32_t y = o->train->labels[i];
    double top = -INFINITY, sum = 0.0;
    for (int k = 0; k < c; k++) top = fmax(top, z[k]);
    for (int k = 0; k < c; k++) sum += exp(z[k] - top);
    loss = top + log(sum) - z[y];
    for (int k = 0; k < c; k++) z[k] = exp(z[k] - top) / sum - (k == y ? 1.0 : 0.0);
    return loss;
}

static gs_status evaluate(void *user, const double *params, double *f, double *gradient) {
    objective *o = user;
    const gs_linear_model *m = o->model;
    const int64_t dim = m->dim, n = o->train->n;
    const int c = m->n_classes;
    const int64_t cells = dim * c, stride = cells + c;

#pragma omp parallel for num_threads(o->ws.threads) schedule(static)
    for (int64_t b = 0; b < o->blocks; b++) {
        const int t = omp_get_thread_num();
        double *x = o->ws.x + (int64_t)t * PROBE_BLOCK_ROWS * dim, *z = o->ws.z + (int64_t)t * PROBE_BLOCK_ROWS * c;
        double *partial = o->partial + b * stride;
        const int64_t rows = standardize_block(m, o->train->features, n, b, x);
        block_logits(m, params, x, rows, z);
        double loss = 0.0;
        for (int k = 0; k < c; k++) partial[cells + k] = 0.0;
        for (int64_t r = 0; r < rows; r++) {
            loss += row_loss(o, b * PROBE_BLOCK_ROWS + r, z + r * c);
            for (int k = 0; k < c; k++) partial[cells + k] += z[r * c + k];
        }
        o->block_loss[b] = loss;
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)dim, c, (blasint)rows, 1.0, x, (blasint)dim, z,
                    c, 0.0, partial, c);
    }

    /* Reduced in block order: the same sum whatever thread ran which block. */
    double loss = 0.0, penalty = 0.0;
    memset(gradient, 0, (size_t)stride * sizeof *gradient);
    for (int64_t b = 0; b < o->blocks; b++) {
        loss += o->block_loss[b];
        const double *p = o->partial + b * stride;
        for (int64_t i = 0; i < stride; i++) gradient[i] += p[i];
    }
    for (int64_t i = 0; i < stride; i++) gradient[i] /= (double)n;
    for (int64_t i = 0; i < cells; i++) {
        gradient[i] += o->lambda * params[i];
        penalty += params[i] * params[i];
    }
    *f = loss / (double)n + 0.5 * o->lambda * penalty;
    if (!isfinite(*f))
        return gs_fail(o->ctx, GS_ERR_NONFINITE, "linear probe: the loss became %f at lambda %g; check the features",
                       *f, o->lambda);
    return GS_OK;
}

static void objective_free(objective *o) {
    workspace_free(&o->ws);
    free(o->partial);
    free(o->block_loss);
}

static gs_status objective_init(gs_context *ctx, objective *o, const gs_linear_model *model,
                                const gs_probe_split *train) {
    const int64_t dim = model->dim, c = model->n_classes;
    *o = (objective){.ctx = ctx, .model = model, .train = train, .blocks = block_count(train->n)};
    if (workspace_init(ctx, &o->ws, model, train->n) != GS_OK) return ctx->status;
    o->partial = malloc((size_t)(o->blocks * (dim + 1) * c) * sizeof(double));
    o->block_loss = malloc((size_t)o->blocks * sizeof(double));
    if (!o->partial || !o->block_loss) {
        objective_free(o);
        return gs_fail(ctx, GS_ERR_MEMORY, "linear probe: cannot allocate the work buffers for %lld samples",
                       (long long)train->n);
    }
    return GS_OK;
}

gs_status gs_linear_model_fit(gs_context *ctx, gs_linear_model *model, const gs_probe_split *train, double lambda,
                              const gs_lbfgs_options *optimizer, gs_lbfgs_report *report) {
    if (gs_failed(ctx)) return ctx->status;
    if (!model->params)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "linear probe: fit needs a model from gs_linear_model_init");
    if (check_split(ctx, "train", train, model->dim, model->n_classes, model->multilabel) != GS_OK)
        return ctx->status;
    if (!(lambda >= 0.0) || !isfinite(lambda))
        return gs_fail(ctx, GS_ERR_ARGUMENT, "linear probe: regularization strength %g must be finite and >= 0",
                       lambda);
    objective o;
    if (objective_init(ctx, &o, model, train) != GS_OK) return ctx->status;
    o.lambda = lambda;
    gs_lbfgs_options settings = optimizer ? *optimizer : (gs_lbfgs_options){0};
    if (settings.gradient_tolerance <= 0)
        settings.gradient_tolerance = lambda > 0 ? GS_PROBE_RELATIVE_TOLERANCE * lambda : GS_PROBE_ZERO_LAMBDA_TOLERANCE;
    gs_lbfgs_report local;
    gs_status status = gs_lbfgs_minimize((model->dim + 1) * model->n_classes, model->params, evaluate, &o, &settings,
                                         report ? report : &local);
    objective_free(&o);
    if (status == GS_ERR_MEMORY) gs_fail(ctx, status, "linear probe: cannot allocate the L-BFGS history");
    return ctx->status;
}

/* ---- the protocol ---- */

/* Top-1 accuracy, or macro mAP, of logits against a split's labels; fills
 * predictions (single-label) and map (multi-label) when given. */
static double split_metric(gs_context *ctx, const gs_linear_model *model, const float *logits,
                           const gs_probe_split *split, int32_t *predictions, gs_map *map) {
    const int c = model->n_classes;
    if (model->multilabel) {
        gs_map local;
        gs_error err = {0};
        if (gs_multilabel_map(logits, split->targets, split->n, c, NULL, map ? map : &local, &err) != GS_OK) {
            gs_fail(ctx, err.status, "linear probe: %s", err.message);
            return NAN;
        }
        return (map ? map : &local)->macro;
    }
    int64_t correct = 0;
    for (int64_t i = 0; i < split->n; i++) {
        const float *z = logits + i * c;
        int32_t best = 0;
        for (int k = 1; k < c; k++)
            if (z[k] > z[best]) best = k;
        if (predictions) predictions[i] = best;
        correct += best == split->labels[i];
    }
    return (double)correct / (double)split->n;
}

static void sweep(gs_context *ctx, gs_linear_model *model, const gs_probe_split *train, const gs_probe_split *val,
                  const gs_linear_probe_options *options, gs_linear_probe_result *result, float *val_logits,
                  double *best_params) {
    const int64_t n_params = (model->dim + 1) * model->n_classes;
    result->chosen = 0;
    result->val = NAN;
    for (int s = 0; s < result->n_lambdas && !gs_failed(ctx); s++) {
        gs_lbfgs_report report;
        if (gs_linear_model_fit(ctx, model, train, result->lambdas[s], &options->optimizer, &report) != GS_OK ||
            gs_linear_model_logits(ctx, model, val->features, val->n, val_logits) != GS_OK)
            return;
        const double metric = split_metric(ctx, model, val_logits, val, NULL, NULL);
        result->val_metric[s] = metric;
        result->iterations[s] = report.iterations;
        result->converged[s] = report.converged;
        gs_log(ctx, GS_LOG_DEBUG, "linear probe: lambda %g: val %.4f after %d iterations (%s)", result->lambdas[s],
               metric, report.iterations,
               report.converged ? "converged" : report.stalled ? "line search stalled" : "budget reached");
        /* Strictly better only: a tie keeps the earlier (by default stronger) strength. */
        if (!isnan(metric) && (isnan(result->val) || metric > result->val)) {
            result->chosen = s;
            result->val = metric;
            memcpy(best_params, model->params, (size_t)n_params * sizeof(double));
        }
    }
    if (!isnan(result->val)) memcpy(model->params, best_params, (size_t)n_params * sizeof(double));
    result->lambda = result->lambdas[result->chosen];
}

static void evaluate_test(gs_context *ctx, gs_linear_model *model, const gs_probe_split *test,
                          gs_linear_probe_result *result, int32_t *test_predictions, float *test_probabilities) {
    float *logits = malloc((size_t)(test->n * model->n_classes) * sizeof(float));
    if (!logits) {
        gs_fail(ctx, GS_ERR_MEMORY, "linear probe: cannot allocate %lld test logits", (long long)test->n);
        return;
    }
    if (gs_linear_model_logits(ctx, model, test->features, test->n, logits) == GS_OK) {
        const double metric = split_metric(ctx, model, logits, test, test_predictions, &result->test_map);
        if (!model->multilabel) result->test_top1 = metric;
        if (test_probabilities) {
            gs_linear_model_probabilities(model, logits, test->n);
            memcpy(test_probabilities, logits, (size_t)(test->n * model->n_classes) * sizeof(float));
        }
    }
    free(logits);
}

gs_status gs_linear_probe(gs_context *ctx, int64_t dim, int n_classes, bool multilabel, const gs_probe_split *train,
                          const gs_probe_split *val, const gs_probe_split *test,
                          const gs_linear_probe_options *options, gs_linear_probe_result *result,
                          int32_t *test_predictions, float *test_probabilities) {
    if (gs_failed(ctx)) return ctx->status;
    const gs_linear_probe_options defaults = {0};
    if (!options) options = &defaults;
    memset(result, 0, sizeof *result);
    result->test_top1 = result->test_map.macro = result->test_map.micro = NAN;
    const double *lambdas = options->lambdas ? options->lambdas : DEFAULT_LAMBDAS;
    const int n_lambdas = options->lambdas ? options->n_lambdas : (int)(sizeof DEFAULT_LAMBDAS / sizeof *lambdas);
    if (n_lambdas <= 0 || n_lambdas > GS_PROBE_MAX_SWEEP)
        return gs_fail(ctx, GS_ERR_ARGUMENT, "linear probe: %d regularization strengths; give 1 to %d", n_lambdas,
                       GS_PROBE_MAX_SWEEP);
    result->n_lambdas = n_lambdas;
    memcpy(result->lambdas, lambdas, (size_t)n_lambdas * sizeof *lambdas);
    if (check_split(ctx, "validation", val, dim, n_classes, multilabel) != GS_OK ||
        (test && check_split(ctx, "test", test, dim, n_classes, multilabel) != GS_OK))
        return ctx->status;

    gs_linear_model model;
    if (gs_linear_model_init(ctx, &model, dim, n_classes, multilabel, train) != GS_OK) return ctx->status;
    float *val_logits = malloc((size_t)(val->n * n_classes) * sizeof(float));
    double *best_params = malloc((size_t)((dim + 1) * n_classes) * sizeof(double));
    if (!val_logits || !best_params)
        gs_fail(ctx, GS_ERR_MEMORY, "linear probe: cannot allocate the sweep buffers");
    else
        sweep(ctx, &model, train, val, options, result, val_logits, best_params);
    free(val_logits);
    free(best_params);
    if (!gs_failed(ctx) && test) evaluate_test(ctx, &model, test, result, test_predictions, test_probabilities);
    gs_linear_model_free(&model);
    return ctx->status;
}
