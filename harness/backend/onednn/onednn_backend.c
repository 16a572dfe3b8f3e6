/* The "onednn" backend table: every op family of the CPU backend, except
 * convolutions, which oneDNN runs (it measured faster; see issue 3's notes). */
#include "../cpu/cpu_kernels.h"
#include "onednn_kernels.h"

static gs_status onednn_backend_init(gs_context *ctx) {
    gs_status status = gs_backend_cpu()->init(ctx);
    return status == GS_OK ? gs_onednn_init(ctx) : status;
}

static const gs_backend onednn_backend = {
    .name = "onednn",
    .init = onednn_backend_init,
    .free = gs_onednn_free,
    .activation = &gs_cpu_activation_kernels,
    .attention = &gs_cpu_attention_kernels,
    .batchnorm = &gs_cpu_batchnorm_kernels,
    .box_pool = &gs_cpu_box_pool_kernels,
    .channel_stats = &gs_cpu_channel_stats_kernels,
    .conv2d = &gs_onednn_conv2d_kernels,
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

const gs_backend *gs_backend_onednn(void) { return &onednn_backend; }
