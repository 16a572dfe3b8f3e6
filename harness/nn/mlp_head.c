#include "mlp_head.h"

#include <stdio.h>

#include "../ops/ops.h"

gs_status gs_mlp_head_init(gs_context *ctx, gs_param_list *list, const char *prefix, gs_mlp_head *head,
                           int64_t in, int64_t hidden, int64_t out, bool batchnorm) {
    char name[128];
    head->has_bn = batchnorm;
    snprintf(name, sizeof name, "%s.0", prefix);
    gs_linear_layer_init(ctx, list, name, &head->fc1, in, hidden, true);
    if (batchnorm) {
        snprintf(name, sizeof name, "%s.1", prefix);
        gs_batchnorm_layer_init(ctx, list, name, &head->bn, hidden);
    }
    snprintf(name, sizeof name, "%s.%d", prefix, batchnorm ? 3 : 2);
    gs_linear_layer_init(ctx, list, name, &head->fc2, hidden, out, true);
    return ctx->status;
}

gs_tensor *gs_mlp_head_forward(gs_context *ctx, const gs_mlp_head *head, gs_tensor *x, bool training) {
    gs_tensor *h = gs_linear_layer_forward(ctx, &head->fc1, x);
    if (head->has_bn) h = gs_batchnorm_layer_forward(ctx, &head->bn, h, training);
    h = gs_relu(ctx, h);
    return gs_linear_layer_forward(ctx, &head->fc2, h);
}
