/* What the plot files share (internal to reports/): where a plot goes, how
 * its script is completed and run, and the grouped bar chart that the
 * headline and per-class plots both draw. */
#ifndef GS_PLOTS_INTERNAL_H
#define GS_PLOTS_INTERNAL_H

#include "plots.h"
#include "text_buffer.h"

typedef struct gs_plot_target {
    const char *gnuplot;
    char dir[4096]; /* DIR/plots */
    char log[4200];
} gs_plot_target;

/* File names from data: keep [A-Za-z0-9.-], map the rest to '_'. */
void gs_plot_sanitize(char *s);
/* A number for a data block; NaN (gnuplot leaves a gap) when not finite. */
void gs_plot_number(gs_text *t, double v);
/* Writes DIR/plots/<stem>.gp (the caller's body between the PNG and SVG
 * terminals) and runs it; a drawn plot is added to `plots`. */
gs_status gs_plot_render(const gs_plot_target *target, gs_plots *plots, const char *stem, const char *caption,
                         bool per_class, const gs_text *body, gs_error *err);

/* Groups of bars: values[series * n_groups + group], NAN where a series has
 * no number in a group; std 0 or NAN draws no error bar. */
typedef struct gs_bar_chart {
    const char *title, *xlabel, *ylabel;
    size_t n_groups, n_series;
    const char *const *group_labels;
    const char *const *series_labels;
    const double *mean, *std;
} gs_bar_chart;
void gs_plot_grouped_bars(gs_text *body, const gs_bar_chart *chart);

/* Each appends its plots in the order of plots.h. */
gs_status gs_plots_headline_bars(const gs_plot_target *target, const gs_results_table *table, gs_plots *plots,
                                 gs_error *err);
gs_status gs_plots_fraction_curves(const gs_plot_target *target, const gs_leaderboards *boards, gs_plots *plots,
                                   gs_error *err);
gs_status gs_plots_run_curves(const gs_plot_target *target, const gs_loss_logs *logs, gs_plots *plots,
                              gs_error *err);
gs_status gs_plots_throughput(const gs_plot_target *target, const gs_leaderboards *boards, const gs_loss_logs *logs,
                              gs_plots *plots, gs_error *err);
gs_status gs_plots_per_class_bars(const gs_plot_target *target, const gs_leaderboards *boards, gs_plots *plots,
                                  gs_error *err);

#endif
