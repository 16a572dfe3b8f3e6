/* geossl report: results CSV -> DIR/report.md and DIR/index.html. */
#include <stdbool.h>
#include <stdio.h>

#include "commands.h"
#include "install_paths.h"
#include "options.h"
#include "report.h"

int gs_cmd_report(int argc, char **argv) {
    const char *results = NULL, *out = NULL, *reference = NULL, *loss_log = NULL;
    const char *baseline = NULL, *kernels = NULL, *title = NULL;
    double threshold_pct = 10.0;
    bool fail_on_regression = false;
    const gs_option options[] = {
        {"results", GS_OPT_STRING, &results, "FILE", "results CSV (written by the evaluation commands)", GS_ANY_TEXT},
        {"out", GS_OPT_STRING, &out, "DIR", "output folder for report.md, index.html and plots/ (created)",
         GS_ANY_TEXT},
        {"reference", GS_OPT_STRING, &reference, "FILE",
         "published numbers to compare with [PREFIX/share/geossl/reference.csv for PREFIX/bin/geossl; in a build "
         "tree, the source tree's results/reference.csv]",
         GS_ANY_TEXT},
        {"loss-log", GS_OPT_STRING, &loss_log, "FILE",
         "training log for loss curves: a run folder's log.csv, or a CSV run_id,step,loss (the run folders "
         "beside the results are found without it)",
         GS_ANY_TEXT},
        {"kernels-baseline", GS_OPT_STRING, &baseline, "FILE", "`geossl bench kernels` CSV to compare against",
         GS_ANY_TEXT},
        {"kernels", GS_OPT_STRING, &kernels, "FILE", "`geossl bench kernels` CSV of the new build", GS_ANY_TEXT},
        {"threshold", GS_OPT_FLOAT, &threshold_pct, "PCT", "kernel noise threshold in percent [10]",
         GS_BETWEEN(0, 1000)},
        {"fail-on-regression", GS_OPT_FLAG, &fail_on_regression, "", "exit 3 when a kernel is slower (for CI)",
         GS_NO_VALUE},
        {"title", GS_OPT_STRING, &title, "TEXT", "report title [geossl report]", GS_ANY_TEXT},
    };
    int parsed = gs_options_parse("report",
                                  "Writes DIR/report.md, a self-contained DIR/index.html and DIR/results_table.csv:\n"
                                  "the results table (headline metric in %, mean ± std over seeds, one column per\n"
                                  "dataset, protocol and label fraction, published numbers as their own rows), gnuplot\n"
                                  "plots (skipped when gnuplot is not on PATH; training curves from the run folders'\n"
                                  "log.csv beside the results), the paper-reproduction table, leaderboards and, given\n"
                                  "two kernel benchmark CSVs, the kernel regressions.",
                                  options, (int)(sizeof options / sizeof *options), argc, argv);
    if (parsed) return parsed == 1 ? 0 : 2;
    if (!out || (!results && !kernels)) {
        fprintf(stderr, "geossl report: give --out DIR and --results FILE (and/or --kernels-baseline A --kernels B)\n");
        return 2;
    }
    char found[4096];
    if (!reference && results) {
        reference = gs_cli_default_reference(found, sizeof found);
        if (!reference)
            fprintf(stderr, "geossl report: no reference.csv next to this geossl (share/geossl/ of its install prefix), "
                            "so no paper comparison; pass --reference FILE\n");
    }
    gs_report_options o = {.results_path = results, .reference_path = reference, .loss_log_path = loss_log,
                           .kernels_baseline_path = baseline, .kernels_path = kernels,
                           .regression_threshold = threshold_pct / 100.0, .out_dir = out, .title = title};
    gs_report_summary summary;
    gs_error err = {0};
    if (gs_report_write(&o, &summary, &err) != GS_OK) {
        fprintf(stderr, "geossl report: %s\n", err.message);
        return 1;
    }
    printf("wrote %s/report.md and %s/index.html:", out, out);
    if (results)
        printf(" %zu rows, %zu leaderboards, %zu paper comparisons, %zu run logs, %zu plots%s", summary.n_rows,
               summary.n_leaderboards, summary.n_comparisons, summary.n_run_logs, summary.n_plots, kernels ? "," : "");
    if (kernels) printf(" %zu kernel regressions", summary.n_regressions);
    printf("\n");
    if (summary.plots_skipped) fprintf(stderr, "geossl report: plots skipped (gnuplot is not on PATH)\n");
    if (summary.n_plots_failed)
        fprintf(stderr, "geossl report: %zu plots failed; see %s/plots/gnuplot.log\n", summary.n_plots_failed, out);
    return fail_on_regression && summary.n_regressions ? 3 : 0;
}
