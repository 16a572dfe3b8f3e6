#include "progress_lines.h"

#include "clock.h"

void gs_progress_lines_begin(gs_progress_lines *p, FILE *out) {
    p->out = out;
    p->start_s = p->last_s = gs_now_s();
}

bool gs_progress_lines_due(gs_progress_lines *p) {
    if (!p->out) return false;
    double now = gs_now_s();
    if (now - p->last_s < GS_PROGRESS_LINES_INTERVAL_S) return false;
    p->last_s = now;
    return true;
}

double gs_progress_lines_elapsed(const gs_progress_lines *p) { return gs_now_s() - p->start_s; }
