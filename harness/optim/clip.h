/* Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_. */
#ifndef GS_OPTIM_CLIP_H
#define GS_OPTIM_CLIP_H

#include "../core/context.h"
#include "../nn/params.h"

/* The L2 norm of all trainable gradients of the list together (buffers and
 * parameters without a gradient are left out), accumulated in double.  When
 * max_norm / (norm + 1e-6) < 1 every such gradient is multiplied by that
 * factor.  A non-finite norm is returned without scaling anything (the
 * optimizer step then reports the parameter).  max_norm must be > 0 and
 * finite, else GS_ERR_ARGUMENT and -1 is returned. */
double gs_clip_grad_norm(gs_context *ctx, const gs_param_list *list, float max_norm);
/* DINO's clipping (Caron et al. 2021, official code's clip_gradients): each
 * parameter's gradient separately, scaled by max_norm / (norm + 1e-6) when
 * that is < 1.  Returns the largest norm seen before clipping, -1 with
 * GS_ERR_ARGUMENT for a bad max_norm. */
double gs_clip_grad_norm_per_param(gs_context *ctx, const gs_param_list *list, float max_norm);
/* The same norm without clipping (for logging). */
double gs_grad_norm(gs_context *ctx, const gs_param_list *list);

#endif
