/* `geossl report`: the results file turned into DIR/report.md, one
 * self-contained DIR/index.html and DIR/results_table.csv: the paper-shaped
 * results table first, then plots, paper reproduction, leaderboards, the
 * protocols' settings, kernel regressions and provenance.  The pretraining
 * runs' log.csv files beside the results file (where `geossl demo` and
 * `geossl run` keep them) are found on their own for the training curves. */
#ifndef GS_REPORT_H
#define GS_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

typedef struct gs_report_options {
    const char *results_path;          /* may be NULL for a kernels-only report */
    const char *reference_path;        /* NULL: no paper comparison */
    const char *loss_log_path;         /* NULL: only the run folders' logs found beside the results */
    const char *kernels_baseline_path; /* both or neither */
    const char *kernels_path;
    double regression_threshold;       /* fraction: 0.10 flags ops >10% slower */
    const char *out_dir;               /* created when missing */
    const char *title;                 /* NULL: "geossl report" */
    const char *preface;               /* NULL, or a note shown first (what the numbers are from) */
} gs_report_options;

typedef struct gs_report_summary {
    size_t n_rows, n_leaderboards, n_comparisons;
    size_t n_run_logs; /* training logs drawn (found beside the results, or given) */
    size_t n_plots, n_plots_failed;
    bool plots_skipped; /* gnuplot not on PATH */
    size_t n_regressions;
} gs_report_summary;

gs_status gs_report_write(const gs_report_options *options, gs_report_summary *summary, gs_error *err);

#endif
