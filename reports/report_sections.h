/* The report's sections, each appended to the document from data already
 * loaded and computed (internal to reports/). */
#ifndef GS_REPORT_SECTIONS_H
#define GS_REPORT_SECTIONS_H

#include "document.h"
#include "kernel_regression.h"
#include "leaderboard.h"
#include "paper_delta.h"
#include "plots.h"
#include "results_store.h"

/* "10%", "1%", "0.5%", "100%". */
void gs_format_fraction(char *buf, size_t size, double fraction);

void gs_section_leaderboards(gs_doc *doc, const gs_leaderboards *boards);
/* `reference_note`: why there is no comparison (NULL when there is). */
void gs_section_paper(gs_doc *doc, const gs_paper_comparisons *c, const char *reference_path,
                      const char *reference_note);
void gs_section_plots(gs_doc *doc, const gs_plots *plots);
void gs_section_kernels(gs_doc *doc, const gs_kernel_comparison *c, double threshold, const char *baseline_path,
                        const char *new_path);
void gs_section_provenance(gs_doc *doc, const gs_results *results);

#endif
