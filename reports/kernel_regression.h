/* Kernel regressions: two CSVs written by `geossl bench kernels`
 * (op,shape,pass,ms,gflops,gbs) or by `geossl bench kernels --count`
 * (op,shape,pass,instructions), both of one kind, compared per op, shape
 * and pass.  An op is
 * slower when its time grew by more than the noise threshold (a fraction:
 * 0.10 means 10%), faster when it shrank by more than it. */
#ifndef GS_KERNEL_REGRESSION_H
#define GS_KERNEL_REGRESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "csv_table.h"

typedef struct gs_kernel_timing {
    const char *op, *shape, *pass;
    double ms, gflops, gbs;
} gs_kernel_timing;

typedef struct gs_kernel_timings {
    bool counted;          /* instruction counts (in `ms`; gflops and gbs NaN), not times */
    gs_kernel_timing *items;
    size_t n;
    gs_csv_table table; /* owns the strings */
} gs_kernel_timings;

gs_status gs_kernel_timings_load(const char *path, gs_kernel_timings *out, gs_error *err);
void gs_kernel_timings_free(gs_kernel_timings *t);

typedef enum gs_kernel_change {
    GS_KERNEL_SAME,
    GS_KERNEL_SLOWER,
    GS_KERNEL_FASTER,
    GS_KERNEL_ONLY_BASELINE, /* dropped from the new run */
    GS_KERNEL_ONLY_NEW,      /* not in the baseline */
} gs_kernel_change;

typedef struct gs_kernel_delta {
    const char *op, *shape, *pass;
    double baseline_ms, new_ms; /* NaN where absent */
    double ratio;               /* new / baseline */
    gs_kernel_change change;
} gs_kernel_delta;

typedef struct gs_kernel_comparison {
    bool counted;           /* the measure is instructions, not ms */
    gs_kernel_delta *items; /* the new run's order, then ops only in the baseline */
    size_t n;
    size_t n_slower, n_faster;
} gs_kernel_comparison;

gs_status gs_kernel_compare(const gs_kernel_timings *baseline, const gs_kernel_timings *current, double threshold,
                            gs_kernel_comparison *out, gs_error *err);
void gs_kernel_comparison_free(gs_kernel_comparison *c);

#endif
