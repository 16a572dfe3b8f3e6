/* A job of one process: what a build without MPI runs.  Every collective is
 * the identity (the sum over one rank is its own value), so the training
 * loop calls them unconditionally. */
#include "dist.h"

#include <stdlib.h>
#include <string.h>

bool gs_dist_available(void) { return false; }
const char *gs_dist_library(void) { return "none"; }

gs_status gs_dist_init(gs_dist *d, double timeout_s, gs_error *err) {
    memset(d, 0, sizeof *d);
    d->size = 1;
    d->timeout_s = timeout_s;
    int launched = gs_dist_launched_size();
    if (launched > 1)
        return gs_error_set(err, GS_ERR_ARGUMENT, "started as one of %d processes, but this geossl was built without "
                            "MPI: install libopenmpi-dev and rebuild (CMake finds it), or run one process", launched);
    return GS_OK;
}

void gs_dist_finish(gs_dist *d) { (void)d; }
void gs_dist_abort(gs_dist *d, int exit_code) {
    (void)d;
    exit(exit_code);
}

gs_status gs_dist_sum_f32(gs_dist *d, float *buf, int64_t n, gs_error *err) {
    (void)d, (void)buf, (void)n, (void)err;
    return GS_OK;
}
gs_status gs_dist_sum_f64(gs_dist *d, double *buf, int64_t n, gs_error *err) {
    (void)d, (void)buf, (void)n, (void)err;
    return GS_OK;
}
gs_status gs_dist_gather_f32(gs_dist *d, const float *mine, int64_t n, float *all, gs_error *err) {
    (void)d, (void)err;
    if (all != mine) memmove(all, mine, (size_t)n * sizeof *all);
    return GS_OK;
}
gs_status gs_dist_broadcast_f32(gs_dist *d, float *buf, int64_t n, int root, gs_error *err) {
    (void)d, (void)buf, (void)n, (void)root, (void)err;
    return GS_OK;
}
gs_status gs_dist_broadcast_bytes(gs_dist *d, void *buf, int64_t n, int root, gs_error *err) {
    (void)d, (void)buf, (void)n, (void)root, (void)err;
    return GS_OK;
}
gs_status gs_dist_check_in(gs_dist *d, int64_t step, gs_error *err) {
    (void)d, (void)step, (void)err;
    return GS_OK;
}
gs_status gs_dist_sum_f32_start(gs_dist *d, float *buf, int64_t n, gs_dist_pending **out, gs_error *err) {
    (void)d, (void)buf, (void)n, (void)err;
    *out = NULL;
    return GS_OK;
}
void gs_dist_progress(gs_dist *d) { (void)d; }
gs_status gs_dist_finish_all(gs_dist *d, gs_error *err) {
    (void)d, (void)err;
    return GS_OK;
}
