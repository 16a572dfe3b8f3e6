/* The oneDNN backend: the CPU backend's tables, with convolutions executed by
 * Debian's oneDNN (libdnnl), which picks JIT kernels and blocked layouts for
 * this CPU.  Built only with -DGEOSSL_ONEDNN=ON (the default when libdnnl-dev
 * is installed). */
#ifndef GS_ONEDNN_KERNELS_H
#define GS_ONEDNN_KERNELS_H

#include "../backend.h"

extern const gs_conv2d_kernels gs_onednn_conv2d_kernels;

/* Per-context state: the oneDNN engine and stream (ctx->backend_state). */
gs_status gs_onednn_init(gs_context *ctx);
void gs_onednn_free(gs_context *ctx);

#endif
