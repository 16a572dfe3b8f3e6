/* SimCLR's loss, exposed for tests and for methods that reuse it. */
#ifndef GS_METHODS_SIMCLR_H
#define GS_METHODS_SIMCLR_H

#include "core/context.h"
#include "core/tensor.h"

/* NT-Xent over z (2N, D): rows i and i+N are the two views of one image;
 * cosine similarities / temperature, self-similarities masked out. */
gs_tensor *gs_nt_xent(gs_context *ctx, gs_tensor *z, float temperature);

#endif
