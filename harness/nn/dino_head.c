#include "dino_head.h"

#include <stdio.h>

#include "../ops/ops.h"

gs_status gs_dino_head_init(gs_context *ctx, gs_param_list *list, const char *prefix, gs_dino_head *head, int64_t in,
                            int64_t hidden, int64_t bottleneck, int64_t out) {
    char name[128];
    gs_linear_layer *mlp[3] = {&head->fc1, &head->fc2, &head->fc3};
    int64_t dims[4] = {in, hidden, hidden, bottleneck};
    for (int i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "%s.mlp.%d", prefix, 2 * i);
        if (gs_linear_layer_init(ctx, list, name, mlp[i], dims[i], dims[i + 1], true) != GS_OK) return ctx->status;
        gs_fill_trunc_normal(ctx, mlp[i]->weight, 0.02f);
        gs_tensor_fill(mlp[i]->bias, 0.0f);
    }
    gs_linear_layer last;
    snprintf(name, sizeof name, "%s.last_layer", prefix);
    if (gs_linear_layer_init(ctx, list, name, &last, bottleneck, out, false) != GS_OK) return ctx->status;
    head->last_layer = last.weight;
    return GS_OK;
}

gs_tensor *gs_dino_head_forward(gs_context *ctx, const gs_dino_head *head, gs_tensor *x) {
    gs_tensor *h = gs_gelu(ctx, gs_linear_layer_forward(ctx, &head->fc1, x));
    h = gs_gelu(ctx, gs_linear_layer_forward(ctx, &head->fc2, h));
    h = gs_l2_normalize(ctx, gs_linear_layer_forward(ctx, &head->fc3, h), 1e-12f);
    /* The weight-normalized layer: each output row of V at unit norm. */
    gs_tensor *w = gs_l2_normalize(ctx, head->last_layer, 1e-12f);
    return gs_matmul(ctx, h, w, false, true);
}
