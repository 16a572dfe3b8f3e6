/* The CPU backend: OpenMP across cores, OpenBLAS sgemm for matrix products. */
#include "cpu_kernels.h"

#include <cblas.h>
#include <unistd.h>

static gs_status cpu_init(gs_context *ctx) {
    /* OpenBLAS keeps its thread count in library state; setting it from the
     * context keeps "same seed, same threads -> same bits" true. */
    openblas_set_num_threads(ctx->n_threads);
    return GS_OK;
}

int gs_backend_default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static const gs_backend cpu_backend = {
    .name = "cpu",
    .init = cpu_init,
    .activation = &gs_cpu_activation_kernels,
    .attention = &gs_cpu_attention_kernels,
    .batchnorm = &gs_cpu_batchnorm_kernels,
    .box_pool = &gs_cpu_box_pool_kernels,
    .channel_stats = &gs_cpu_channel_stats_kernels,
    .conv2d = &gs_cpu_conv2d_kernels,
    .elementwise = &gs_cpu_elementwise_kernels,
    .layernorm = &gs_cpu_layernorm_kernels,
    .loss = &gs_cpu_loss_kernels,
    .matmul = &gs_cpu_matmul_kernels,
    .normalize = &gs_cpu_normalize_kernels,
    .pool = &gs_cpu_pool_kernels,
    .reduce = &gs_cpu_reduce_kernels,
    .shape = &gs_cpu_shape_kernels,
    .softmax = &gs_cpu_softmax_kernels,
    .tokens = &gs_cpu_tokens_kernels,
    .upsample = &gs_cpu_upsample_kernels,
};

const gs_backend *gs_backend_cpu(void) { return &cpu_backend; }
