/* What data-parallel training adds to a training step, on the context's job
 * (ctx->dist; every call is a no-op for a job of one process):
 *  - the loss reported is the mean of every rank's;
 *  - gradients are averaged over the ranks (each rank computed them on its
 *    shard of the global batch), so every rank applies the same update;
 *  - batchnorm's running statistics, which each rank updates from its own
 *    shard unless --sync-bn, are rank 0's on every rank after a step (as
 *    PyTorch's DistributedDataParallel broadcasts buffers). */
#ifndef GS_DIST_DATA_PARALLEL_H
#define GS_DIST_DATA_PARALLEL_H

#include "core/context.h"
#include "nn/params.h"

/* True when ctx trains in a job of more than one process. */
bool gs_data_parallel(const gs_context *ctx);
/* *value = its mean over the ranks. */
gs_status gs_data_parallel_mean(gs_context *ctx, float *value);
/* Every parameter's gradient = its mean over the ranks, summed in buckets
 * of about 4 M values (a gradient missing on this rank counts as zeros). */
gs_status gs_data_parallel_average_gradients(gs_context *ctx, const gs_param_list *params);
/* Without --sync-bn: rank 0's batchnorm running statistics in `list` on
 * every rank (with it they agree already). */
gs_status gs_data_parallel_share_batchnorm_stats(gs_context *ctx, const gs_param_list *list);

/* x: this rank's rows, in `blocks` equal blocks (SimCLR: view 1's images,
 * then view 2's).  Returns every rank's rows block by block: block 0 of rank
 * 0, of rank 1, ..., then block 1 of each: the rows one process holding the
 * whole global batch would have, in its order.  Backward: every rank's loss
 * reads every row, so the gradient is summed over the ranks and each rank
 * takes its own rows.  One process: x itself. */
gs_tensor *gs_gather_rows(gs_context *ctx, gs_tensor *x, int blocks);

#endif
