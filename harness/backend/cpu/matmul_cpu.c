/* CPU kernels for matmul and linear: OpenBLAS sgemm, bias add and its
 * column-sum backward. */
#include <cblas.h>

#include "cpu_kernels.h"

/* Below this many multiply-adds per batch entry one sgemm call is too small
 * to spread over threads, so the batch is spread instead. */
#define GS_GEMM_SMALL (1 << 20)

static void gemm(gs_context *ctx, bool trans_a, bool trans_b, int64_t batch, int64_t m, int64_t n, int64_t k,
                 float alpha, const float *a, int64_t lda, int64_t stride_a, const float *b, int64_t ldb,
                 int64_t stride_b, float beta, float *c, int64_t ldc, int64_t stride_c) {
    const enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
    const enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
    /* Entries writing one shared C must run in order; so must big entries,
     * which OpenBLAS threads internally. */
    if (batch == 1 || stride_c == 0 || m * n * k >= GS_GEMM_SMALL || ctx->n_threads == 1) {
        for (int64_t i = 0; i < batch; i++)
            cblas_sgemm(CblasRowMajor, ta, tb, (blasint)m, (blasint)n, (blasint)k, alpha, a + i * stride_a,
                        (blasint)lda, b + i * stride_b, (blasint)ldb, beta, c + i * stride_c, (blasint)ldc);
        return;
    }
    /* Inside a parallel region the OpenMP build of OpenBLAS runs each call
     * single-threaded, so entries do not oversubscribe the cores. */
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static)
    for (int64_t i = 0; i < batch; i++)
        cblas_sgemm(CblasRowMajor, ta, tb, (blasint)m, (blasint)n, (blasint)k, alpha, a + i * stride_a,
                    (blasint)lda, b + i * stride_b, (blasint)ldb, beta, c + i * stride_c, (blasint)ldc);
}

static void bias_add(gs_context *ctx, int64_t rows, int64_t cols, const float *bias, float *y) {
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * cols > 32768)
    for (int64_t r = 0; r < rows; r++) {
        float *row = y + r * cols;
        for (int64_t j = 0; j < cols; j++) row[j] += bias[j];
    }
}

#define GS_BIAS_BLOCK 64

/* Threads own disjoint blocks of columns and each sums its rows in order:
 * the result does not depend on the thread count. */
static void bias_backward(gs_context *ctx, int64_t rows, int64_t cols, const float *dy, float *db) {
    int64_t blocks = (cols + GS_BIAS_BLOCK - 1) / GS_BIAS_BLOCK;
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static) if (rows * cols > 32768)
    for (int64_t blk = 0; blk < blocks; blk++) {
        int64_t j0 = blk * GS_BIAS_BLOCK;
        int64_t len = cols - j0 < GS_BIAS_BLOCK ? cols - j0 : GS_BIAS_BLOCK;
        double acc[GS_BIAS_BLOCK] = {0};
        for (int64_t r = 0; r < rows; r++) {
            const float *row = dy + r * cols + j0;
            for (int64_t j = 0; j < len; j++) acc[j] += row[j];
        }
        for (int64_t j = 0; j < len; j++) db[j0 + j] += (float)acc[j];
    }
}

const gs_matmul_kernels gs_cpu_matmul_kernels = {
    .gemm = gemm,
    .bias_add = bias_add,
    .bias_backward = bias_backward,
};
