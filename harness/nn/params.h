/* Named parameter lists: what a model owns, what optimizers update, what
 * checkpoints store.  Names follow torchvision / timm ("layer1.0.conv1.weight",
 * "blocks.3.attn.qkv.bias") so weights can be exchanged with PyTorch. */
#ifndef GS_NN_PARAMS_H
#define GS_NN_PARAMS_H

#include "../core/context.h"
#include "../core/tensor.h"

typedef enum gs_param_kind {
    GS_PARAM_WEIGHT,   /* trained, weight decay applies */
    GS_PARAM_NO_DECAY, /* trained, no weight decay (biases, norm scales and shifts, tokens) */
    GS_PARAM_BUFFER,   /* stored state, not trained (batchnorm running statistics, optimizer moments) */
} gs_param_kind;

typedef struct gs_param {
    gs_tensor *tensor; /* tensor->name is the parameter's name */
    gs_param_kind kind;
} gs_param;

typedef struct gs_param_list {
    gs_param *items;
    int count;
    int capacity;
} gs_param_list;

/* Adds a parameter: its values in the parameter arena (uninitialized), its
 * gradient zeroed in the gradient arena (not for buffers).  The name is
 * copied.  NULL and a context error on failure (e.g. a duplicate name). */
gs_tensor *gs_param_add(gs_context *ctx, gs_param_list *list, const char *name, gs_param_kind kind, int ndim,
                        const int64_t *shape);
/* The same, into a given arena (optimizer state uses ctx->optim_state). */
gs_tensor *gs_param_add_in(gs_context *ctx, gs_arena *arena, gs_param_list *list, const char *name,
                           gs_param_kind kind, int ndim, const int64_t *shape);
void gs_param_list_free(gs_param_list *list);
/* Appends an existing parameter (shared, not copied): a list that spans
 * several modules, e.g. encoder + head for one optimizer. */
gs_status gs_param_add_existing(gs_context *ctx, gs_param_list *list, gs_param param);

gs_tensor *gs_param_find(const gs_param_list *list, const char *name);
void gs_params_zero_grad(const gs_param_list *list);
/* Number of trainable values (buffers excluded). */
int64_t gs_params_count(const gs_param_list *list);
/* GS_ERR_NONFINITE naming the first parameter whose gradient holds NaN/Inf. */
gs_status gs_params_check_grads(gs_context *ctx, const gs_param_list *list);
/* Copies values (all kinds) from src to dst; names and shapes must match. */
gs_status gs_params_copy(gs_context *ctx, const gs_param_list *dst, const gs_param_list *src);

#endif
