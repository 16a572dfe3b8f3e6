/* The projection / prediction head of SimCLR, MoCo v2, BYOL: linear,
 * batchnorm, relu, linear (SimCLR, BYOL), or linear, relu, linear without the
 * batchnorm (MoCo v2).  Names match torch's nn.Sequential indices
 * ("<prefix>.0", "<prefix>.1", "<prefix>.3"; without batchnorm "<prefix>.0",
 * "<prefix>.2"). */
#ifndef GS_NN_MLP_HEAD_H
#define GS_NN_MLP_HEAD_H

#include "layers.h"

typedef struct gs_mlp_head {
    gs_linear_layer fc1;
    bool has_bn;
    gs_batchnorm_layer bn;
    gs_linear_layer fc2;
} gs_mlp_head;

gs_status gs_mlp_head_init(gs_context *ctx, gs_param_list *list, const char *prefix, gs_mlp_head *head,
                           int64_t in, int64_t hidden, int64_t out, bool batchnorm);
/* x (N, in) -> (N, out) */
gs_tensor *gs_mlp_head_forward(gs_context *ctx, const gs_mlp_head *head, gs_tensor *x, bool training);

#endif
