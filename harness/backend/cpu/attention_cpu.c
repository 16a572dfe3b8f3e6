/* CPU attention kernels over a fused (N, T, 3D) qkv buffer.  Each (sample,
 * head) pair is one task: its q, k and v are column blocks of qkv read with
 * a row stride of 3D, so BLAS works on them in place.  Tasks run in an
 * OpenMP loop; the OpenMP build of OpenBLAS then runs each GEMM on its own
 * thread.  Every task writes disjoint columns, so results do not depend on
 * the schedule. */
#include <cblas.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu_kernels.h"
#include "vec_math.h"

static void softmax_rows(int64_t rows, int64_t cols, float *p) {
    for (int64_t r = 0; r < rows; r++) {
        float *row = p + r * cols, m = row[0];
        for (int64_t j = 1; j < cols; j++) m = row[j] > m ? row[j] : m;
        for (int64_t j = 0; j < cols; j++) row[j] = gs_vexpf(row[j] - m);
        double sum = 0.0;
        for (int64_t j = 0; j < cols; j++) sum += row[j];
        float inv = (float)(1.0 / sum);
        for (int64_t j = 0; j < cols; j++) row[j] *= inv;
    }
}

static void attention_forward(gs_context *ctx, int64_t n, int64_t t, int64_t d, int heads, const float *qkv,
                              float *probs, float *out) {
    const int64_t dh = d / heads, ld = 3 * d;
    const float scale = 1.0f / sqrtf((float)dh);
#pragma omp parallel for num_threads(ctx->n_threads) schedule(static)
    for (int64_t task = 0; task < n * heads; task++) {
        const int64_t s = task / heads, h = task % heads;
        const float *q = qkv + s * t * ld + h * dh, *k = q + d, *v = q + 2 * d;
        float *p = probs + task * t * t;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)t, (int)t, (int)dh, scale, q, (int)ld, k, (int)ld,
                    0.0f, p, (int)t);
        softmax_rows(t, t, p);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)t, (int)dh, (int)t, 1.0f, p, (int)t, v, (int)ld,
                    0.0f, out + s * t * d + h * dh, (int)d);
    }
}

/* With S = scale q k^T, P = softmax(S), O = P v:
 *   dv = P^T dO,  dP = dO v^T,  dS = P * (dP - rowsum(dP * P)),
 *   dq = scale dS k,  dk = scale dS^T q. */
static void attention_backward(gs_context *ctx, int64_t n, int64_t t, int64_t d, int heads, const float *qkv,
                               const float *probs, const float *dout, float *dqkv) {
    const int64_t dh = d / heads, ld = 3 * d;
    const float scale = 1.0f / sqrtf((float)dh);
    float *scratch = gs_scratch(ctx, (size_t)ctx->n_threads * (size_t)(t * t) * sizeof(float));
    if (!scratch) return;
#pragma omp parallel num_threads(ctx->n_threads)
    {
        float *dp = scratch;
#ifdef _OPENMP
        dp += (int64_t)omp_get_thread_num() * t * t;
#endif
#pragma omp for schedule(static)
        for (int64_t task = 0; task < n * heads; task++) {
            const int64_t s = task / heads, h = task % heads;
            const float *q = qkv + s * t * ld + h * dh, *k = q + d, *v = q + 2 * d;
            float *dq = dqkv + s * t * ld + h * dh, *dk = dq + d, *dv = dq + 2 * d;
            const float *p = probs + task * t * t, *go = dout + s * t * d + h * dh;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)t, (int)dh, (int)t, 1.0f, p, (int)t, go, (int)d,
                        1.0f, dv, (int)ld);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)t, (int)t, (int)dh, 1.0f, go, (int)d, v, (int)ld,
                        0.0f, dp, (int)t);
            for (int64_t r = 0; r < t; r++) {
                const float *pr = p + r * t;
                float *gr = dp + r * t;
                double dot = 0.0;
                for (int64_t j = 0; j < t; j++) dot += (double)gr[j] * pr[j];
                for (int64_t j = 0; j < t; j++) gr[j] = pr[j] * (gr[j] - (float)dot);
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)t, (int)dh, (int)t, scale, dp, (int)t, k,
                        (int)ld, 1.0f, dq, (int)ld);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)t, (int)dh, (int)t, scale, dp, (int)t, q,
                        (int)ld, 1.0f, dk, (int)ld);
        }
    }
}

const gs_attention_kernels gs_cpu_attention_kernels = {
    .forward = attention_forward,
    .backward = attention_backward,
};
