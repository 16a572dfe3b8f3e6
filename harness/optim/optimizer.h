/* Optimizers: SGD (momentum), LARS and AdamW, with PyTorch's semantics.
 *
 * An optimizer updates every trainable parameter of a list (kinds WEIGHT and
 * NO_DECAY; BUFFERs are never touched).  Weight decay applies to WEIGHT only:
 * biases, norm scales and shifts, tokens (NO_DECAY) are never decayed, which
 * is what the SSL recipes (SimCLR, BYOL, DINO, MAE) do with parameter groups.
 *
 * Per-parameter state (momentum, Adam moments) lives in ctx->optim_state as
 * GS_PARAM_BUFFER tensors collected in `state`, named "<param>.<slot>"
 * ("layer1.0.conv1.weight.momentum_buffer", ".exp_avg", ".exp_avg_sq", and
 * AdamW's per-parameter update count ".step" of one value, as in
 * torch's optimizer state dict), so a checkpoint stores and restores them as
 * one more parameter list; `step` must be saved and restored with them.
 *
 * Typical loop:
 *   gs_optimizer_zero_grad(&opt); forward; gs_backward(ctx, loss);
 *   gs_clip_grad_norm(...) (optional); gs_optimizer_step(ctx, &opt, lr). */
#ifndef GS_OPTIM_OPTIMIZER_H
#define GS_OPTIM_OPTIMIZER_H

#include <stdint.h>

#include "../core/context.h"
#include "../nn/params.h"

typedef enum gs_optimizer_kind {
    GS_OPTIM_SGD,
    GS_OPTIM_LARS,
    GS_OPTIM_ADAMW,
    GS_OPTIM_LARC, /* apex / VISSL LARC around SGD (larc.c): FALSE's recipe */
} gs_optimizer_kind;

#define GS_LARS_DEFAULT_ETA 0.001f

typedef struct gs_optimizer_config {
    gs_optimizer_kind kind;
    float lr;           /* base (peak) learning rate, for schedules; step() takes the current one */
    float momentum;     /* SGD, LARS; 0: no momentum buffer (torch: no state) */
    float weight_decay; /* WEIGHT parameters only */
    float beta1, beta2; /* AdamW, in [0, 1) */
    float eps;          /* AdamW, > 0; LARC's denominator term, >= 0 */
    float lars_eta;     /* LARS / LARC trust coefficient; <= 0 means GS_LARS_DEFAULT_ETA */
} gs_optimizer_config;

typedef struct gs_optimizer {
    gs_optimizer_config config;
    const gs_param_list *params; /* not owned; must not change after init */
    int n_params;                /* params->count at init */
    int n_slots;                 /* state tensors per trainable parameter */
    gs_tensor **slots;           /* n_params * n_slots; NULL rows for buffers */
    gs_param_list state;         /* the same tensors, named "<param>.<slot>" */
    int64_t step;                /* completed steps (AdamW's bias correction uses each parameter's own count) */
    /* Per-parameter learning-rate factors (n_params), NULL: 1 for every
     * parameter.  Set with gs_optimizer_scale_lr (layer-wise lr decay). */
    float *lr_scale;
} gs_optimizer;

/* torch defaults: SGD/LARS/LARC momentum 0.9 (LARS/LARC eta 0.001, LARC eps 1e-8); AdamW betas
 * (0.9, 0.999), eps 1e-8, weight decay 0.01.  lr is left 0: set it. */
gs_optimizer_config gs_optimizer_defaults(gs_optimizer_kind kind);
/* "sgd", "lars", "adamw", "larc", indexed by gs_optimizer_kind, NULL-terminated. */
extern const char *const GS_OPTIMIZER_NAMES[];
const char *gs_optimizer_kind_name(gs_optimizer_kind kind);

/* Validates cfg (GS_ERR_ARGUMENT naming the bad field) and allocates zeroed
 * state for every trainable parameter.  `params` must outlive the optimizer. */
gs_status gs_optimizer_init(gs_context *ctx, gs_optimizer *opt, const gs_param_list *params,
                            const gs_optimizer_config *cfg);
/* First checks every gradient: a NaN/Inf gives GS_ERR_NONFINITE naming the
 * parameter and nothing (parameters, state, step) is modified.  Then one
 * update of every trainable parameter with learning rate lr (>= 0, finite).
 * A parameter without a gradient buffer, or whose tensor does not require a
 * gradient (frozen), is skipped, as torch skips grad None.
 * Gradients are left as they are (see gs_optimizer_zero_grad). */
gs_status gs_optimizer_step(gs_context *ctx, gs_optimizer *opt, float lr);
void gs_optimizer_zero_grad(const gs_optimizer *opt);
/* Parameter `index` of the list (its position in `params`) is updated at
 * lr x scale from now on, as a torch parameter group with its own
 * "lr_scale" (timm's layer-wise decay); scale in [0, 1e6], finite. */
gs_status gs_optimizer_scale_lr(gs_context *ctx, gs_optimizer *opt, int index, float scale);
/* Frees the bookkeeping; the state tensors stay in ctx->optim_state. */
void gs_optimizer_free(gs_optimizer *opt);

/* Per-kind update rules (sgd.c, lars.c, adamw.c, larc.c), called by
 * gs_optimizer_step for one trainable parameter with a gradient.  `slots`
 * holds its state tensors (momentum buffer, or exp_avg then exp_avg_sq);
 * decay is true for GS_PARAM_WEIGHT. */
void gs_sgd_update(gs_context *ctx, const gs_optimizer *opt, gs_tensor *param, bool decay, gs_tensor *const *slots,
                   float lr);
void gs_lars_update(gs_context *ctx, const gs_optimizer *opt, gs_tensor *param, bool decay, gs_tensor *const *slots,
                    float lr);
void gs_adamw_update(gs_context *ctx, const gs_optimizer *opt, gs_tensor *param, bool decay,
                     gs_tensor *const *slots, float lr);
void gs_larc_update(gs_context *ctx, const gs_optimizer *opt, gs_tensor *param, bool decay, gs_tensor *const *slots,
                    float lr);
/* The two norms trust-ratio rules need: ||p|| and ||g + wd p|| (wd 0: ||g||),
 * summed in a fixed number of chunks so the result does not depend on the
 * thread count (lars.c). */
void gs_trust_norms(gs_context *ctx, const float *p, const float *g, float wd, int64_t n, double *p_norm,
                    double *d_norm);

#endif
