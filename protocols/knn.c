#include "knn.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define GS_KNN_DEFAULT_BLOCK 128

/* A zero feature stays zero (similarity 0 to everything) rather than
 * dividing by zero; the same floor as torch.nn.functional.normalize. */
#define GS_KNN_NORM_FLOOR 1e-12

/* Writes the L2-normalized rows of `in` to `out`; false on a non-finite value. */
static bool normalize_rows(const float *in, float *out, int64_t rows, int64_t dim, int n_threads) {
    bool finite = true;
#pragma omp parallel for num_threads(n_threads) schedule(static) reduction(&& : finite) if (rows * dim > 65536)
    for (int64_t r = 0; r < rows; r++) {
        const float *x = in + r * dim;
        double sum = 0.0;
        for (int64_t j = 0; j < dim; j++) sum += (double)x[j] * x[j];
        finite = finite && isfinite(sum);
        const double norm = sqrt(sum);
        const float scale = (float)(1.0 / (norm > GS_KNN_NORM_FLOOR ? norm : GS_KNN_NORM_FLOOR));
        for (int64_t j = 0; j < dim; j++) out[r * dim + j] = x[j] * scale;
    }
    return finite;
}

/* Per-thread working memory. */
typedef struct knn_scratch {
    float *similarity;    /* block_rows x n_train */
    float *top_similarity; /* k, decreasing */
    int64_t *top_index;   /* k */
    double *votes;        /* n_classes */
} knn_scratch;

/* The k largest similarities of one row, decreasing; among equal values the
 * lower train index ranks first (the scan is in index order and a new value
 * goes after every value >= it).  Returns how many were kept. */
static int top_k(const float *row, int64_t n_train, int k, float *top_similarity, int64_t *top_index) {
    int count = 0;
    enum { CHUNK = 32 };
    for (int64_t j = 0; j < n_train; j++) {
        /* Once k are kept, most similarities fall below the k-th: a chunk
         * whose maximum does not beat it is skipped whole (a vectorized max,
         * not a branch per value); the others are scanned in index order, so
         * the result is the same. */
        if (count == k && j % CHUNK == 0 && j + CHUNK <= n_train) {
            float chunk_max = row[j];
            for (int i = 1; i < CHUNK; i++) chunk_max = row[j + i] > chunk_max ? row[j + i] : chunk_max;
            if (!(chunk_max > top_similarity[k - 1])) {
                j += CHUNK - 1;
                continue;
            }
        }
        const float s = row[j];
        if (count == k && !(s > top_similarity[k - 1])) continue;
        int at = count < k ? count : k - 1;
        while (at > 0 && top_similarity[at - 1] < s) {
            top_similarity[at] = top_similarity[at - 1];
            top_index[at] = top_index[at - 1];
            at--;
        }
        top_similarity[at] = s;
        top_index[at] = j;
        if (count < k) count++;
    }
    return count;
}

/* The vote of one test row.  Weights are exp((s - s_max) / T): dividing
 * every weight of the row by exp(s_max / T) leaves the argmax unchanged and
 * keeps small temperatures from overflowing. */
static int32_t vote(const float *top_similarity, const int64_t *top_index, int count, const int32_t *train_labels,
                    int n_classes, double temperature, double *votes) {
    for (int c = 0; c < n_classes; c++) votes[c] = 0.0;
    const double best = top_similarity[0];
    for (int i = 0; i < count; i++)
        votes[train_labels[top_index[i]]] += exp(((double)top_similarity[i] - best) / temperature);
    int32_t winner = 0;
    for (int c = 1; c < n_classes; c++)
        if (votes[c] > votes[winner]) winner = c;
    return winner;
}

static gs_status check_labels(gs_context *ctx, const int32_t *labels, int64_t n, int n_classes, const char *which) {
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= n_classes)
            return gs_fail(ctx, GS_ERR_ARGUMENT,
                           "kNN: %s label %d at row %lld is outside 0..%d; drop unlabeled rows before kNN", which,
                           (int)labels[i], (long long)i, n_classes - 1);
    return GS_OK;
}

static gs_status check_arguments(gs_context *ctx, const float *train, const int32_t *train_labels, int64_t n_train,
                                 const float *test, int64_t n_test, int64_t dim, int n_classes,
                                 const int32_t *predictions, const int32_t *test_labels) {
    if (!train || !train_labels || (n_test > 0 && (!test || !predictions)))
        return gs_fail(ctx, GS_ERR_ARGUMENT, "kNN: train features, train labels, test features and a predictions "
                                             "buffer are required");
    if (n_train <= 0 || n_test < 0 || dim <= 0 || n_classes <= 0)
        return gs_fail(ctx, GS_ERR_SHAPE,
                       "kNN: needs n_train > 0, n_test >= 0, dim > 0, n_classes > 0 (got %lld, %lld, %lld, %d)",
                       (long long)n_train, (long long)n_test, (long long)dim, n_classes);
    if (n_train > INT32_MAX || dim > INT32_MAX)
        return gs_fail(ctx, GS_ERR_SHAPE, "kNN: %lld x %lld train features exceed the BLAS int range",
                       (long long)n_train, (long long)dim);
    if (check_labels(ctx, train_labels, n_train, n_classes, "train") != GS_OK) return ctx->status;
    if (test_labels && check_labels(ctx, test_labels, n_test, n_classes, "test") != GS_OK) return ctx->status;
    return GS_OK;
}

static void free_scratch(knn_scratch *scratch, int n) {
    if (!scratch) return;
    for (int t = 0; t < n; t++) {
        free(scratch[t].similarity);
        free(scratch[t].top_similarity);
        free(scratch[t].top_index);
        free(scratch[t].votes);
    }
    free(scratch);
}

static knn_scratch *alloc_scratch(int n, int64_t block_rows, int64_t n_train, int k, int n_classes) {
    knn_scratch *scratch = calloc((size_t)n, sizeof *scratch);
    if (!scratch) return NULL;
    for (int t = 0; t < n; t++) {
        scratch[t].similarity = malloc((size_t)(block_rows * n_train) * sizeof(float));
        scratch[t].top_similarity = malloc((size_t)k * sizeof(float));
        scratch[t].top_index = malloc((size_t)k * sizeof(int64_t));
        scratch[t].votes = malloc((size_t)n_classes * sizeof(double));
        if (!scratch[t].similarity || !scratch[t].top_similarity || !scratch[t].top_index || !scratch[t].votes) {
            free_scratch(scratch, n);
            return NULL;
        }
    }
    return scratch;
}

gs_status gs_knn_classify(gs_context *ctx, const float *train, const int32_t *train_labels, int64_t n_train,
                          const float *test, int64_t n_test, int64_t dim, int n_classes,
                          const gs_knn_options *options, int32_t *predictions, const int32_t *test_labels,
                          double *top1) {
    if (gs_failed(ctx)) return ctx->status;
    if (check_arguments(ctx, train, train_labels, n_train, test, n_test, dim, n_classes, predictions,
                        test_labels) != GS_OK)
        return ctx->status;
    const gs_knn_options defaults = {0};
    if (!options) options = &defaults;
    const int64_t k64 = options->k > 0 ? options->k : GS_KNN_DEFAULT_K;
    const int k = (int)(k64 < n_train ? k64 : n_train);
    const double temperature = options->temperature > 0 ? options->temperature : GS_KNN_DEFAULT_TEMPERATURE;
    int64_t block_rows = options->block_rows > 0 ? options->block_rows : GS_KNN_DEFAULT_BLOCK;
    if (block_rows > n_test) block_rows = n_test > 0 ? n_test : 1;
    const int64_t n_blocks = (n_test + block_rows - 1) / block_rows;
    int n_threads = ctx->n_threads > 0 ? ctx->n_threads : 1;
    if (n_threads > n_blocks) n_threads = n_blocks > 0 ? (int)n_blocks : 1;

    float *train_unit = malloc((size_t)(n_train * dim) * sizeof(float));
    float *test_unit = malloc((size_t)((n_test > 0 ? n_test : 1) * dim) * sizeof(float));
    knn_scratch *scratch = alloc_scratch(n_threads, block_rows, n_train, k, n_classes);
    if (!train_unit || !test_unit || !scratch) {
        gs_fail(ctx, GS_ERR_MEMORY,
                "kNN: cannot allocate normalized features and %d x %lld x %lld similarity blocks; lower "
                "block_rows or the thread count",
                n_threads, (long long)block_rows, (long long)n_train);
        goto done;
    }
    if (!normalize_rows(train, train_unit, n_train, dim, ctx->n_threads) ||
        !normalize_rows(test, test_unit, n_test, dim, ctx->n_threads)) {
        gs_fail(ctx, GS_ERR_NONFINITE, "kNN: features contain NaN or Inf; check the feature extraction");
        goto done;
    }

    /* Inside the parallel region the OpenMP build of OpenBLAS runs each
     * sgemm on the calling thread, so blocks do not oversubscribe cores. */
#pragma omp parallel for num_threads(n_threads) schedule(static)
    for (int64_t b = 0; b < n_blocks; b++) {
        knn_scratch *s = &scratch[omp_get_thread_num()];
        const int64_t first = b * block_rows;
        const int64_t rows = first + block_rows <= n_test ? block_rows : n_test - first;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)rows, (blasint)n_train, (blasint)dim, 1.0f,
                    test_unit + first * dim, (blasint)dim, train_unit, (blasint)dim, 0.0f, s->similarity,
                    (blasint)n_train);
        for (int64_t r = 0; r < rows; r++) {
            const int count = top_k(s->similarity + r * n_train, n_train, k, s->top_similarity, s->top_index);
            predictions[first + r] =
                vote(s->top_similarity, s->top_index, count, train_labels, n_classes, temperature, s->votes);
        }
    }

    if (test_labels && top1) {
        int64_t correct = 0;
        for (int64_t i = 0; i < n_test; i++) correct += predictions[i] == test_labels[i];
        *top1 = n_test > 0 ? (double)correct / (double)n_test : NAN;
    }

done:
    free(train_unit);
    free(test_unit);
    free_scratch(scratch, n_threads);
    return ctx->status;
}
