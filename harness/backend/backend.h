/* The op dispatch table.  A backend is one table of kernel families; ops in
 * harness/ops/ validate shapes, allocate outputs, record the tape and call
 * ctx->backend-><family>-><kernel>.  A second backend (oneDNN, CUDA/cuDNN)
 * provides its own table in its own folder; callers never change. */
#ifndef GS_BACKEND_H
#define GS_BACKEND_H

#include "../core/context.h"
#include "../ops/activation.h"
#include "../ops/attention.h"
#include "../ops/batchnorm.h"
#include "../ops/box_pool.h"
#include "../ops/channel_stats.h"
#include "../ops/conv2d.h"
#include "../ops/elementwise.h"
#include "../ops/layernorm.h"
#include "../ops/loss.h"
#include "../ops/matmul.h"
#include "../ops/normalize.h"
#include "../ops/pool.h"
#include "../ops/reduce.h"
#include "../ops/shape.h"
#include "../ops/softmax.h"
#include "../ops/tokens.h"
#include "../ops/upsample.h"

struct gs_backend {
    const char *name;
    /* Called by gs_context_init and gs_context_free (either may be NULL);
     * per-context backend data lives in ctx->backend_state. */
    gs_status (*init)(gs_context *ctx);
    void (*free)(gs_context *ctx);
    const gs_activation_kernels *activation;
    const gs_attention_kernels *attention;
    const gs_batchnorm_kernels *batchnorm;
    const gs_box_pool_kernels *box_pool;
    const gs_channel_stats_kernels *channel_stats;
    const gs_conv2d_kernels *conv2d;
    const gs_elementwise_kernels *elementwise;
    const gs_layernorm_kernels *layernorm;
    const gs_loss_kernels *loss;
    const gs_matmul_kernels *matmul;
    const gs_normalize_kernels *normalize;
    const gs_pool_kernels *pool;
    const gs_reduce_kernels *reduce;
    const gs_shape_kernels *shape;
    const gs_softmax_kernels *softmax;
    const gs_tokens_kernels *tokens;
    const gs_upsample_kernels *upsample;
};

const gs_backend *gs_backend_cpu(void);
/* The fastest backend built: "onednn" when oneDNN was found, else "cpu". */
const gs_backend *gs_backend_default(void);
/* "cpu", "onednn" or "default"; NULL for a name not built. */
const gs_backend *gs_backend_by_name(const char *name);
/* The names gs_backend_by_name accepts, for messages. */
const char *gs_backend_names(void);
/* Number of cores available to this process. */
int gs_backend_default_threads(void);

#endif
