/* Exponential moving average of a network (BYOL / MoCo / DINO targets). */
#ifndef GS_OPTIM_EMA_H
#define GS_OPTIM_EMA_H

#include "../core/context.h"
#include "../nn/params.h"

/* For trainable entries (WEIGHT, NO_DECAY):
 *   target = momentum * target + (1 - momentum) * online
 * Buffers (batchnorm running statistics) are copied from the online network:
 * they get no gradient, and in BYOL / MoCo the target normalizes with batch
 * statistics while training, so its running statistics matter only when the
 * target is evaluated; copying keeps them in step with the encoder the
 * target follows.  (timm's ModelEma averages buffers too.)
 * The lists must match entry by entry in name, kind and shape, else
 * GS_ERR_MISMATCH naming the first difference and nothing is modified.
 * momentum must be in [0, 1]: 0 copies, 1 keeps the target. */
gs_status gs_ema_update(gs_context *ctx, const gs_param_list *target, const gs_param_list *online, double momentum);

#endif
