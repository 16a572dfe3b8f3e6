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
#include "core/rng.h"
#include "nn/params.h"

/* True when ctx trains in a job of more than one process. */
bool gs_data_parallel(const gs_context *ctx);
/* This process's rank and the job's size (0 and 1 for one process): for
 * random draws over the global batch, each rank keeping its share. */
void gs_data_parallel_rank(const gs_context *ctx, int *rank, int *ranks);
/* A random draw over the global batch, one value per row, from a generator
 * every rank holds alike: each rank draws only its own shard's values
 * between these two calls, and they step the generator past the other
 * ranks' `per_rank` values (one next_u64 each) before and after, so the
 * values and the generator's state afterwards are one process's.  No-ops
 * for one process. */
void gs_data_parallel_skip_before(const gs_context *ctx, gs_rng *rng, int64_t per_rank);
void gs_data_parallel_skip_after(const gs_context *ctx, gs_rng *rng, int64_t per_rank);
/* *value = its mean over the ranks. */
gs_status gs_data_parallel_mean(gs_context *ctx, float *value);
/* values[0..n) = their means over the ranks (a batch mean of equal shards:
 * DINO's center). */
gs_status gs_data_parallel_mean_values(gs_context *ctx, float *values, int64_t n);
/* gs_backward from `loss`, then every parameter's gradient = its mean over
 * the ranks.  The sums run in buckets of about 4 M values, each started as
 * soon as backward has finished its parameters, so communication overlaps
 * the rest of backward (a gradient no node produced counts as zeros). */
gs_status gs_data_parallel_backward(gs_context *ctx, gs_tensor *loss, const gs_param_list *params);
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

/* MoCo's shuffling batchnorm across ranks (He et al. 2020, section 3.3):
 * without --sync-bn each rank's batchnorm sees only its own shard, and the
 * key encoder would let queries and their keys share those statistics.
 * True when that applies (several ranks, no --sync-bn). */
bool gs_data_parallel_shuffles_bn(const gs_context *ctx);
/* Every rank's rows of x, permuted by an order drawn from `seed` (the same
 * on every rank), and this rank's share of them; no gradient.  *order
 * receives the permutation for gs_unshuffle_rows.  One process: x. */
gs_tensor *gs_shuffle_rows(gs_context *ctx, gs_tensor *x, uint64_t seed, int64_t **order);
/* The inverse: y holds this rank's share of the shuffled rows; returns this
 * rank's rows in the original order, and *all every rank's (for a queue). */
gs_tensor *gs_unshuffle_rows(gs_context *ctx, gs_tensor *y, const int64_t *order, gs_tensor **all);

#endif
