/* DINO's projection head (Caron et al., "Emerging Properties in
 * Self-Supervised Vision Transformers", ICCV 2021): a 3-layer GELU MLP down
 * to a bottleneck, L2 normalization, and a weight-normalized linear layer
 * without bias whose scale g is fixed at 1 (the official norm_last_layer), so
 * the effective weight is each output row of V divided by its norm.
 * Names: "<prefix>.mlp.0", ".mlp.2", ".mlp.4" (nn.Sequential indices) and
 * "<prefix>.last_layer.weight" holding V (torch's weight_v; weight_g is 1). */
#ifndef GS_NN_DINO_HEAD_H
#define GS_NN_DINO_HEAD_H

#include "layers.h"

typedef struct gs_dino_head {
    gs_linear_layer fc1, fc2, fc3;
    gs_tensor *last_layer; /* V: (out, bottleneck) */
} gs_dino_head;

/* Linear weights of the MLP: truncated normal, std 0.02, zero biases (as
 * DINO); V: torch's default nn.Linear initialization. */
gs_status gs_dino_head_init(gs_context *ctx, gs_param_list *list, const char *prefix, gs_dino_head *head, int64_t in,
                            int64_t hidden, int64_t bottleneck, int64_t out);
/* x (N, in) -> (N, out) logits (before DINO's temperatures). */
gs_tensor *gs_dino_head_forward(gs_context *ctx, const gs_dino_head *head, gs_tensor *x);

#endif
