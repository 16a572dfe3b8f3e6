/* Data-parallel training across processes: the collectives the training
 * loop and the methods need, behind one small interface.
 *
 * Two implementations, one compiled (CMake GEOSSL_MPI): dist_mpi.c on MPI,
 * and dist_single.c, a job of one process, where every collective is the
 * identity.  A process joins a job only when a launcher started it
 * (mpirun sets OMPI_COMM_WORLD_SIZE / PMI_SIZE); otherwise it is a job of
 * one even in an MPI build, with no MPI start-up cost.
 *
 * Every wait is bounded by timeout_s: a rank that died or hangs makes the
 * others fail with a message instead of waiting for ever (--dist-timeout). */
#ifndef GS_DIST_H
#define GS_DIST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

typedef struct gs_dist {
    int rank, size;
    bool sync_bn;     /* batchnorm statistics over the global batch (--sync-bn) */
    double timeout_s; /* the longest any collective may wait */
    void *impl;
} gs_dist;

/* The number of processes the launcher started this one among (1 without a
 * launcher): known before gs_dist_init, from the environment alone. */
int gs_dist_launched_size(void);
/* True when this build can join a job of several processes. */
bool gs_dist_available(void);
/* "MPI (Open MPI 4.1.4)" or "none": for provenance and error messages. */
const char *gs_dist_library(void);

/* Joins the job the launcher started (or makes a job of one). */
gs_status gs_dist_init(gs_dist *d, double timeout_s, gs_error *err);
/* Leaves the job; every rank calls it after its last collective. */
void gs_dist_finish(gs_dist *d);
/* Ends every rank of the job now (after an error that only this rank saw). */
void gs_dist_abort(gs_dist *d, int exit_code);

/* In place: buf = the sum of every rank's buf. */
gs_status gs_dist_sum_f32(gs_dist *d, float *buf, int64_t n, gs_error *err);
gs_status gs_dist_sum_f64(gs_dist *d, double *buf, int64_t n, gs_error *err);
/* all = rank 0's n values, then rank 1's, ... (size * n values). */
gs_status gs_dist_gather_f32(gs_dist *d, const float *mine, int64_t n, float *all, gs_error *err);
/* buf = rank `root`'s buf on every rank. */
gs_status gs_dist_broadcast_f32(gs_dist *d, float *buf, int64_t n, int root, gs_error *err);
gs_status gs_dist_broadcast_bytes(gs_dist *d, void *buf, int64_t n, int root, gs_error *err);

/* Every rank reports in at `step`; an error names the ranks that did not
 * within the timeout (died, hang, or stopped after an error of their own)
 * or that are at another step. */
gs_status gs_dist_check_in(gs_dist *d, int64_t step, gs_error *err);

/* Sums started now and finished later, so that communication runs while
 * backward computes (the gradient buckets). */
typedef struct gs_dist_pending gs_dist_pending;
/* Starts buf = sum over ranks (in place); *out is the handle. */
gs_status gs_dist_sum_f32_start(gs_dist *d, float *buf, int64_t n, gs_dist_pending **out, gs_error *err);
/* Lets started sums advance (MPI progresses only inside its calls). */
void gs_dist_progress(gs_dist *d);
/* Waits for every started sum and frees the handles. */
gs_status gs_dist_finish_all(gs_dist *d, gs_error *err);

#endif
