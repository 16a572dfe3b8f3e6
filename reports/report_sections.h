/* The report's sections, each appended to the document from data already
 * loaded and computed (internal to reports/). */
#ifndef GS_REPORT_SECTIONS_H
#define GS_REPORT_SECTIONS_H

#include "document.h"
#include "kernel_regression.h"
#include "leaderboard.h"
#include "metric_units.h"
#include "paper_delta.h"
#include "plots.h"
#include "results_store.h"
#include "results_table.h"

/* The paper-shaped results table (results_table.h); `csv_name` is the file
 * beside the report that holds it as CSV, `reference_path` NULL when no
 * published numbers were read. */
/* A warning, when any headline result averages rows whose settings
 * disagree (gs_leader_entry.mixed_settings); nothing otherwise. */
void gs_section_mixed_settings(gs_doc *doc, const gs_leaderboards *boards);
void gs_section_results_table(gs_doc *doc, const gs_results_table *table, const char *csv_name,
                              const char *reference_path);
void gs_section_leaderboards(gs_doc *doc, const gs_leaderboards *boards);
/* The protocols' diagnostics (chosen L2, its validation score): settings,
 * listed per seed, never ranked. */
void gs_section_settings(gs_doc *doc, const gs_results *results);
/* `reference_note`: why there is no comparison (NULL when there is). */
void gs_section_paper(gs_doc *doc, const gs_paper_comparisons *c, const char *reference_path,
                      const char *reference_note);
/* `logs`: the training logs the curves were drawn from (may be NULL). */
void gs_section_plots(gs_doc *doc, const gs_plots *plots, const gs_loss_logs *logs);
void gs_section_kernels(gs_doc *doc, const gs_kernel_comparison *c, double threshold, const char *baseline_path,
                        const char *new_path);
void gs_section_provenance(gs_doc *doc, const gs_results *results);

#endif
