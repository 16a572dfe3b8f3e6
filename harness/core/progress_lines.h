/* Progress lines from library code that prints to a FILE * (band
 * statistics, feature extraction): whole lines, at most one every
 * GS_PROGRESS_LINES_INTERVAL_S, so a job shorter than that prints only its
 * closing line and a long one a line every few seconds, never one per
 * batch.  The commands' terminal redraws are harness/cli/progress.h's. */
#ifndef GS_CORE_PROGRESS_LINES_H
#define GS_CORE_PROGRESS_LINES_H

#include <stdbool.h>
#include <stdio.h>

#define GS_PROGRESS_LINES_INTERVAL_S 5.0

typedef struct gs_progress_lines {
    FILE *out;      /* NULL: quiet */
    double start_s; /* when the job began */
    double last_s;  /* when the last line was printed (the start before the first) */
} gs_progress_lines;

void gs_progress_lines_begin(gs_progress_lines *p, FILE *out);
/* Whether an update line is due now (out set and the interval passed); a
 * true answer counts as printed. */
bool gs_progress_lines_due(gs_progress_lines *p);
/* Seconds since begin. */
double gs_progress_lines_elapsed(const gs_progress_lines *p);

#endif
